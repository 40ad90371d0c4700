package engine

import (
	"fmt"

	"github.com/ckptsim/ckptsim/sim"
	"github.com/ckptsim/ckptsim/state"
)

// Partitioning says how records of an edge are distributed over the consumer's
// subtasks.
type Partitioning uint8

// Partitionings, as Flink's.
const (
	Forward   Partitioning = iota // subtask i to subtask i; needs equal parallelism
	Rebalance                     // round robin
	Hash                          // by key group of the record's key
	Broadcast                     // every record to every subtask
)

func (p Partitioning) String() string {
	return [...]string{"forward", "rebalance", "key-by", "broadcast"}[p]
}

// OpKind is the kind of a vertex of the job graph.
type OpKind uint8

// Operator kinds.
const (
	KindSource OpKind = iota
	KindMap
	KindFilter
	KindFlatMap
	KindAggregate
	KindWindow
	KindJoin
	KindUnion
	KindSink
	KindWindowJoin // a window join or coGroup of two keyed inputs
	KindPathJoin   // incremental reachability: links joined with paths (see PathJoinSpec)
)

func (k OpKind) String() string {
	return [...]string{"source", "map", "filter", "flat-map", "aggregate", "window", "join", "union", "sink", "window-join", "path-join"}[k]
}

// Job is a logical dataflow graph built with the fluent API (Source, Map, KeyBy...).
type Job struct {
	Name           string
	MaxParallelism int
	Vertices       []*Vertex
}

// NewJob returns an empty job.
func NewJob(name string) *Job { return &Job{Name: name, MaxParallelism: state.DefaultMaxParallelism} }

// Vertex is one operator of the job graph.
type Vertex struct {
	ID          int
	Name        string
	Kind        OpKind
	Parallelism int
	Cost        sim.Duration // simulated CPU time per record
	Inputs      []Edge

	Source    *SourceSpec
	MapFn     func(*Record)
	FilterFn  func(*Record) bool
	FlatMapFn func(Record, func(Record))
	Aggregate AggregateSpec
	Window    *WindowSpec
	Join      *JoinSpec
	Sink      *SinkSpec
	// WindowJoin is the spec of a window join or coGroup (KindWindowJoin).
	WindowJoin *WindowJoinSpec
	// PathJoin is the spec of a path join (KindPathJoin).
	PathJoin *PathJoinSpec
}

// Edge connects an upstream vertex to a consumer input.
type Edge struct {
	From  *Vertex
	Part  Partitioning
	Input int // input number of the consumer: 0, or 1 for the second input of a join
	// Feedback marks a back edge of a cycle: From comes after the consumer in
	// the dataflow (see Stream.FeedbackTo and engine/cycle.go).
	Feedback bool
}

// Stream is the output of a vertex, with the partitioning its next edge will use.
type Stream struct {
	job  *Job
	v    *Vertex
	part Partitioning
	set  bool // partitioning chosen explicitly
}

// KeyedStream is a stream partitioned by key (possibly several streams unioned).
type KeyedStream struct {
	s    *Stream
	more []*Stream
}

// Union merges other keyed streams into this one: the next keyed operator reads
// all of them.
func (k *KeyedStream) Union(others ...*KeyedStream) *KeyedStream {
	out := &KeyedStream{s: k.s, more: append([]*Stream(nil), k.more...)}
	for _, o := range others {
		out.more = append(out.more, o.s)
		out.more = append(out.more, o.more...)
	}
	return out
}

func (k *KeyedStream) then(v *Vertex) *Stream {
	out := k.s.then(v)
	for _, m := range k.more {
		v.Inputs = append(v.Inputs, m.edge())
	}
	return out
}

// Vertex is the operator that produces the stream.
func (s *Stream) Vertex() *Vertex { return s.v }

func (j *Job) add(v *Vertex) *Vertex {
	v.ID = len(j.Vertices)
	if v.Parallelism == 0 {
		v.Parallelism = 1
	}
	j.Vertices = append(j.Vertices, v)
	return v
}

// Source adds a source reading the splits described by spec.
func (j *Job) Source(name string, spec SourceSpec) *Stream {
	v := j.add(&Vertex{Name: name, Kind: KindSource, Source: &spec, Parallelism: 1})
	return &Stream{job: j, v: v}
}

func (s *Stream) edge() Edge {
	p := s.part
	if !s.set {
		p = Forward
	}
	return Edge{From: s.v, Part: p}
}

func (s *Stream) then(v *Vertex) *Stream {
	v.Inputs = []Edge{s.edge()}
	if v.Parallelism == 0 {
		v.Parallelism = s.v.Parallelism
	}
	return &Stream{job: s.job, v: s.job.add(v)}
}

// Parallelism sets the number of subtasks of the stream's operator.
func (s *Stream) Parallelism(p int) *Stream { s.v.Parallelism = p; return s }

// Cost sets the simulated CPU time the stream's operator spends per record.
func (s *Stream) Cost(d sim.Duration) *Stream { s.v.Cost = d; return s }

// Rebalance distributes the next edge round robin.
func (s *Stream) Rebalance() *Stream { return &Stream{job: s.job, v: s.v, part: Rebalance, set: true} }

// Broadcast sends every record of the next edge to every subtask.
func (s *Stream) Broadcast() *Stream { return &Stream{job: s.job, v: s.v, part: Broadcast, set: true} }

// Forward keeps the next edge subtask to subtask (the default).
func (s *Stream) Forward() *Stream { return &Stream{job: s.job, v: s.v, part: Forward, set: true} }

// Map applies fn to every record: fn changes the record it is given in place (the
// operator's own copy; nil: identity). In place, not by value, because a record
// passed and returned by value through a function value costs several times more.
func (s *Stream) Map(name string, fn func(*Record)) *Stream {
	return s.then(&Vertex{Name: name, Kind: KindMap, MapFn: fn})
}

// Filter keeps the records for which fn is true.
func (s *Stream) Filter(name string, fn func(*Record) bool) *Stream {
	return s.then(&Vertex{Name: name, Kind: KindFilter, FilterFn: fn})
}

// FlatMap emits any number of records per input record.
func (s *Stream) FlatMap(name string, fn func(Record, func(Record))) *Stream {
	return s.then(&Vertex{Name: name, Kind: KindFlatMap, FlatMapFn: fn})
}

// Union merges this stream with others into one operator's input.
func (s *Stream) Union(name string, others ...*Stream) *Stream {
	v := &Vertex{Name: name, Kind: KindUnion, Parallelism: s.v.Parallelism}
	v.Inputs = append(v.Inputs, s.edge())
	for _, o := range others {
		v.Inputs = append(v.Inputs, o.edge())
	}
	return &Stream{job: s.job, v: s.job.add(v)}
}

// Sink writes the stream to an external system.
func (s *Stream) Sink(name string, spec SinkSpec) *Stream {
	return s.then(&Vertex{Name: name, Kind: KindSink, Sink: &spec})
}

// KeyBy partitions the stream by the records' keys.
func (s *Stream) KeyBy() *KeyedStream {
	return &KeyedStream{s: &Stream{job: s.job, v: s.v, part: Hash, set: true}}
}

// AggregateSpec says how a keyed aggregate combines values.
type AggregateSpec struct {
	Name   string                   // sum, count, min, max or reduce
	Reduce func(acc, v int64) int64 // for reduce
}

func (k *KeyedStream) aggregate(name string, spec AggregateSpec) *Stream {
	return k.then(&Vertex{Name: name, Kind: KindAggregate, Aggregate: spec})
}

// Sum keeps the running sum of values per key and emits it on every update.
func (k *KeyedStream) Sum(name string) *Stream { return k.aggregate(name, AggregateSpec{Name: "sum"}) }

// Count keeps the running count per key and emits it on every update.
func (k *KeyedStream) Count(name string) *Stream {
	return k.aggregate(name, AggregateSpec{Name: "count"})
}

// Reduce folds values per key with fn and emits the result on every update.
func (k *KeyedStream) Reduce(name string, fn func(acc, v int64) int64) *Stream {
	return k.aggregate(name, AggregateSpec{Name: "reduce", Reduce: fn})
}

// Window counts or sums records per key in event-time windows (see WindowSpec).
func (k *KeyedStream) Window(name string, spec WindowSpec) *Stream {
	return k.then(&Vertex{Name: name, Kind: KindWindow, Window: &spec})
}

// Join joins this keyed stream (input 0) with other (input 1) per key.
func (k *KeyedStream) Join(name string, other *KeyedStream, spec JoinSpec) *Stream {
	return k.twoInput(&Vertex{Name: name, Kind: KindJoin, Join: &spec}, other)
}

// WindowJoin joins this keyed stream (input 0) with other (input 1) in event-time
// windows: every pair of records with the same key in the same window, emitted
// when the window fires (Flink's join().where().equalTo().window()).
func (k *KeyedStream) WindowJoin(name string, other *KeyedStream, spec WindowJoinSpec) *Stream {
	spec.CoGroup = false
	return k.twoInput(&Vertex{Name: name, Kind: KindWindowJoin, WindowJoin: &spec}, other)
}

// CoGroup groups this keyed stream (input 0) and other (input 1) in event-time
// windows: one result per key and window, with both inputs' aggregates (Flink's
// coGroup().where().equalTo().window()).
func (k *KeyedStream) CoGroup(name string, other *KeyedStream, spec WindowJoinSpec) *Stream {
	spec.CoGroup = true
	return k.twoInput(&Vertex{Name: name, Kind: KindWindowJoin, WindowJoin: &spec}, other)
}

// twoInput adds v reading this stream as input 0 and other as input 1.
func (k *KeyedStream) twoInput(v *Vertex, other *KeyedStream) *Stream {
	v.Parallelism = k.s.v.Parallelism
	e1 := other.s.edge()
	e1.Input = 1
	v.Inputs = []Edge{k.s.edge(), e1}
	return &Stream{job: k.s.job, v: k.s.job.add(v)}
}

// Keyed reports whether the vertex keeps keyed state: its inputs are key-by.
func (v *Vertex) Keyed() bool {
	switch v.Kind {
	case KindAggregate, KindWindow, KindJoin, KindWindowJoin, KindPathJoin:
		return true
	}
	return false
}

// Consumers returns the edges that read from v, with their consumer.
func (j *Job) Consumers(v *Vertex) []ConsumerEdge {
	var out []ConsumerEdge
	for _, c := range j.Vertices {
		for i, e := range c.Inputs {
			if e.From == v {
				out = append(out, ConsumerEdge{To: c, Edge: e, Index: i})
			}
		}
	}
	return out
}

// ConsumerEdge is an edge seen from its producer.
type ConsumerEdge struct {
	To    *Vertex
	Edge  Edge
	Index int // position of the edge in To.Inputs
}

// Validate checks the graph: positive parallelism, forward edges between equal
// parallelism, inputs where the kind needs them.
func (j *Job) Validate() error {
	if j.MaxParallelism <= 0 {
		return fmt.Errorf("job %q: max parallelism must be positive, got %d", j.Name, j.MaxParallelism)
	}
	if len(j.Vertices) == 0 {
		return fmt.Errorf("job %q has no operators", j.Name)
	}
	for _, v := range j.Vertices {
		if v.Parallelism <= 0 {
			return fmt.Errorf("operator %q: parallelism must be at least 1, got %d", v.Name, v.Parallelism)
		}
		if v.Parallelism > j.MaxParallelism {
			return fmt.Errorf("operator %q: parallelism %d exceeds max parallelism %d", v.Name, v.Parallelism, j.MaxParallelism)
		}
		if v.Cost < 0 {
			return fmt.Errorf("operator %q: negative cost %v", v.Name, v.Cost)
		}
		if v.Kind == KindSource {
			if err := v.Source.validate(v.Name); err != nil {
				return err
			}
			continue
		}
		if len(v.Inputs) == 0 {
			return fmt.Errorf("operator %q has no input", v.Name)
		}
		for _, e := range v.Inputs {
			if e.Part == Forward && e.From.Parallelism != v.Parallelism {
				return fmt.Errorf("forward edge %q -> %q joins parallelism %d and %d; use rebalance or key-by",
					e.From.Name, v.Name, e.From.Parallelism, v.Parallelism)
			}
			if v.Keyed() && e.Part != Hash {
				return fmt.Errorf("operator %q is keyed: its input from %q must be key-by", v.Name, e.From.Name)
			}
		}
		if v.Kind == KindWindow {
			if err := v.Window.validate(v.Name); err != nil {
				return err
			}
		}
		if v.Kind == KindJoin {
			if err := v.Join.validate(v.Name); err != nil {
				return err
			}
		}
		if v.Kind == KindWindowJoin {
			if err := v.WindowJoin.validate(v.Name); err != nil {
				return err
			}
		}
		if v.Kind == KindPathJoin {
			if err := v.PathJoin.validate(v.Name); err != nil {
				return err
			}
		}
	}
	return j.validateFeedback()
}
