package sim

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strings"

	"github.com/cespare/xxhash/v2"
)

// StoreConfig describes the remote checkpoint store's performance.
type StoreConfig struct {
	// Latency is the fixed cost of every operation (request and response round trip).
	Latency Duration
	// Bandwidth is the store's throughput in bytes per second, shared FIFO by all
	// transfers, uploads and downloads alike; 0 means infinite.
	Bandwidth int64
}

// Blob is a value kept in the store.
type Blob struct {
	// Size is the blob's logical size in bytes: what its transfer costs.
	Size int64
	// Data is the content: an immutable value owned by whoever put it. The store
	// never looks inside.
	Data any
}

// Completion statuses of store operations, delivered in Event.B.
const (
	// StoreOK means the operation succeeded.
	StoreOK int64 = 0
	// StoreFailed means the operation was started during an outage and failed.
	StoreFailed int64 = 1
	// StoreNotFound means a Get asked for a blob that does not exist.
	StoreNotFound int64 = 2
)

// StoreStats counts what the store did.
type StoreStats struct {
	// Puts and Gets count the operations started.
	Puts, Gets int64
	// PutsDone and GetsDone count the operations that completed successfully.
	PutsDone, GetsDone int64
	// Failed counts the operations that completed with a failure, whatever the
	// cause (outage or missing blob); NotFound counts the Gets among them that found
	// no blob.
	Failed, NotFound int64
	// BytesWritten and BytesRead are the logical bytes of successful Puts and Gets.
	BytesWritten, BytesRead int64
}

// Store is the remote checkpoint store (think S3 or HDFS): named blobs that survive
// every crash. Puts and Gets are asynchronous: their transfers queue FIFO through
// the store's bandwidth, then take the latency, and their completion is delivered as
// an event to a handler on behalf of the calling node's incarnation, so a crashed
// incarnation never hears of it. A Put is durable from its completion time, whether
// or not its caller is still alive. Outages and slowness are injectable.
type Store struct {
	w         *World
	cfg       StoreConfig
	blobs     map[string]Blob
	busyUntil Time
	slow      float64
	outage    bool
	stats     StoreStats
	ops       map[int64]*storeOp
	nextOp    int64
}

// storeOp is an operation in flight.
type storeOp struct {
	put    bool
	status int64 // StoreOK unless decided at start
	name   string
	blob   Blob // the blob to put, or the blob found at the start of a get
	node   NodeID
	inc    uint32
	h      Handler
	kind   uint32
	a      int64
}

// storeHandler receives the store's own completion events.
type storeHandler Store

// Trace tags of store state changes.
var (
	storeTagPut    = xxhash.Sum64String("sim/store/put")
	storeTagGet    = xxhash.Sum64String("sim/store/get")
	storeTagFail   = xxhash.Sum64String("sim/store/fail")
	storeTagDelete = xxhash.Sum64String("sim/store/delete")
	storeTagFault  = xxhash.Sum64String("sim/store/fault")
)

// NewStore returns an empty store in w.
func NewStore(w *World, cfg StoreConfig) *Store {
	if cfg.Latency < 0 || cfg.Bandwidth < 0 {
		panic(fmt.Sprintf("sim: store latency %v and bandwidth %d must not be negative", cfg.Latency, cfg.Bandwidth))
	}
	return &Store{w: w, cfg: cfg, blobs: map[string]Blob{}, slow: 1, ops: map[int64]*storeOp{}}
}

// Config is the store's configuration.
func (s *Store) Config() StoreConfig { return s.cfg }

// Stats returns the store's counters.
func (s *Store) Stats() StoreStats { return s.stats }

// Len is the number of blobs stored.
func (s *Store) Len() int { return len(s.blobs) }

// InFlight is the number of operations started and not yet completed.
func (s *Store) InFlight() int { return len(s.ops) }

// Slowdown is the current slowness factor (1 = normal).
func (s *Store) Slowdown() float64 { return s.slow }

// SetSlowdown multiplies the latency and transfer time of operations started from
// now on by f (f >= 1 slows the store down; 1 restores normal speed). Operations in
// flight keep their completion times.
func (s *Store) SetSlowdown(f float64) {
	if !(f > 0) || math.IsInf(f, 0) {
		panic(fmt.Sprintf("sim: store slowdown %v must be positive and finite", f))
	}
	s.slow = f
	s.w.TraceNote(storeTagFault, 1, math.Float64bits(f))
}

// Outage reports whether the store is unavailable.
func (s *Store) Outage() bool { return s.outage }

// SetOutage starts (on) or heals (off) an outage. Operations started during an
// outage fail after the (scaled) latency without transferring anything; operations
// started before it complete normally.
func (s *Store) SetOutage(on bool) {
	s.outage = on
	var v uint64
	if on {
		v = 1
	}
	s.w.TraceNote(storeTagFault, 2, v)
}

// Crash takes the store down as a crash does: every operation in flight fails
// (when it would have completed, without transferring anything), and an outage
// starts, which SetOutage(false) heals. It returns how many operations failed.
func (s *Store) Crash() int {
	n := 0
	for _, op := range s.ops { // each op is changed alike: the order does not matter
		if op.status == StoreOK {
			op.status = StoreFailed
			n++
		}
	}
	s.outage = true
	s.w.TraceNote(storeTagFault, 3, uint64(n))
	return n
}

// BusyUntil is the time at which the transfers queued so far will have gone through
// the store's bandwidth.
func (s *Store) BusyUntil() Time { return max(s.busyUntil, s.w.now) }

// Put uploads b under name on behalf of from (nil for the world itself). The blob
// becomes durable, replacing any blob of that name, when the operation completes,
// even if from crashed meanwhile. Then h receives an event of the given kind with
// A = a and B = StoreOK or StoreFailed, unless from's incarnation at the time of the
// call has ended. h may be nil when no notice is wanted.
func (s *Store) Put(from *Node, name string, b Blob, h Handler, kind uint32, a int64) {
	if b.Size < 0 {
		panic(fmt.Sprintf("sim: store put of %q with negative size %d", name, b.Size))
	}
	s.stats.Puts++
	op := s.newOp(from, name, h, kind, a)
	op.put, op.blob = true, b
	s.start(op, b.Size)
}

// Get downloads the blob called name on behalf of from (nil for the world itself).
// When it completes, h receives an event of the given kind with A = a and B =
// StoreOK, StoreFailed or StoreNotFound, unless from's incarnation at the time of the
// call has ended; on StoreOK the handler reads the blob with Lookup(name). The
// transfer costs the size the blob had when the Get started; a blob missing then
// fails after the latency with StoreNotFound.
func (s *Store) Get(from *Node, name string, h Handler, kind uint32, a int64) {
	s.stats.Gets++
	op := s.newOp(from, name, h, kind, a)
	b, ok := s.blobs[name]
	if !ok && !s.outage {
		op.status = StoreNotFound
	}
	op.blob = b
	s.start(op, b.Size)
}

// Lookup returns the blob called name, synchronously and at no cost: for the
// coordinator's recovery, for handlers of Get completions, and for tests.
func (s *Store) Lookup(name string) (Blob, bool) {
	b, ok := s.blobs[name]
	return b, ok
}

// Delete removes the blob called name, synchronously, and reports whether it existed.
// A Put of that name still in flight will store it again when it completes.
func (s *Store) Delete(name string) bool {
	if _, ok := s.blobs[name]; !ok {
		return false
	}
	delete(s.blobs, name)
	s.w.TraceNote(storeTagDelete, xxhash.Sum64String(name), 0)
	return true
}

// Discard removes the blob called name, like Delete but without a trace note: for
// blobs no component reads again (the snapshots of a checkpoint that a newer one
// subsumed, which Flink discards too), so that a long run's store does not grow
// with simulated time. It is the process's memory bookkeeping, not an event of
// the simulated store, and changes no run: every trace hash stays the same. It
// reports whether the blob existed.
func (s *Store) Discard(name string) bool {
	if _, ok := s.blobs[name]; !ok {
		return false
	}
	delete(s.blobs, name)
	return true
}

// List returns the names of the stored blobs that start with prefix, sorted.
func (s *Store) List(prefix string) []string {
	var names []string
	for name := range s.blobs {
		if strings.HasPrefix(name, prefix) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// TransferTime is the time a transfer of size bytes occupies the store's bandwidth
// at the current slowdown, excluding latency and queueing.
func (s *Store) TransferTime(size int64) Duration {
	if s.cfg.Bandwidth == 0 || size <= 0 {
		return 0
	}
	// ceil(size * 1e9 / bandwidth), in 128 bits.
	hi, lo := bits.Mul64(uint64(size), uint64(Second))
	bw := uint64(s.cfg.Bandwidth)
	if hi >= bw {
		return Duration(Never)
	}
	q, r := bits.Div64(hi, lo, bw)
	if r != 0 {
		q++
	}
	if q > uint64(Never) {
		return Duration(Never)
	}
	return s.scale(Duration(q))
}

// scale multiplies d by the slowdown, rounding up.
func (s *Store) scale(d Duration) Duration {
	if s.slow == 1 || d == 0 {
		return d
	}
	f := math.Ceil(float64(d) * s.slow)
	if f >= float64(Never) {
		return Duration(Never)
	}
	return Duration(f)
}

func (s *Store) newOp(from *Node, name string, h Handler, kind uint32, a int64) *storeOp {
	op := &storeOp{name: name, h: h, kind: kind, a: a}
	if from != nil {
		op.node, op.inc = from.id, from.inc
	}
	return op
}

// start queues op, of size bytes, and schedules its completion.
func (s *Store) start(op *storeOp, size int64) {
	now := s.w.now
	done := now
	switch {
	case s.outage:
		op.status = StoreFailed
	case op.status == StoreOK:
		begin := max(now, s.busyUntil)
		s.busyUntil = storeAdd(begin, s.TransferTime(size))
		done = s.busyUntil
	}
	done = storeAdd(done, s.scale(s.cfg.Latency))
	s.nextOp++
	s.ops[s.nextOp] = op
	s.w.Schedule(done, (*storeHandler)(s), 0, s.nextOp, 0)
}

// storeAdd returns t+d, saturating at Never.
func storeAdd(t Time, d Duration) Time {
	if d >= Duration(Never-t) {
		return Never
	}
	return t.Add(d)
}

// Handle completes the operation ev.A.
func (h *storeHandler) Handle(ev Event) {
	s := (*Store)(h)
	op := s.ops[ev.A]
	delete(s.ops, ev.A)
	status := op.status
	if status == StoreOK && !op.put {
		if _, ok := s.blobs[op.name]; !ok {
			status = StoreNotFound // deleted while the Get was in flight
		}
	}
	nameHash := xxhash.Sum64String(op.name)
	switch {
	case status != StoreOK:
		s.stats.Failed++
		if status == StoreNotFound {
			s.stats.NotFound++
		}
		var p uint64
		if op.put {
			p = 1
		}
		s.w.TraceNote(storeTagFail, nameHash, p<<32|uint64(status))
	case op.put:
		s.blobs[op.name] = op.blob
		s.stats.PutsDone++
		s.stats.BytesWritten += op.blob.Size
		s.w.TraceNote(storeTagPut, nameHash, uint64(op.blob.Size))
	default:
		s.stats.GetsDone++
		s.stats.BytesRead += op.blob.Size
		s.w.TraceNote(storeTagGet, nameHash, uint64(op.blob.Size))
	}
	if op.h != nil {
		s.w.Push(Event{At: ev.At, Target: op.h, Kind: op.kind, Node: op.node, Inc: op.inc, A: op.a, B: status})
	}
}
