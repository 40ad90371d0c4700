package engine

import (
	"sort"

	"github.com/ckptsim/ckptsim/sim"
)

// SinkKind says how a sink hands records to the external system.
type SinkKind uint8

// Sink kinds.
const (
	// SinkCollect writes every record to the external store at once (at least once
	// after failures).
	SinkCollect SinkKind = iota
	// SinkTwoPhaseCommit writes into a transaction per checkpoint: pre-committed in
	// the checkpoint's synchronous phase, committed when the checkpoint completes
	// (exactly once).
	SinkTwoPhaseCommit
)

func (k SinkKind) String() string { return [...]string{"at-least-once", "two-phase-commit"}[k] }

// SinkSpec describes a sink.
type SinkSpec struct {
	Kind SinkKind
	// Discard keeps only counts and the per-split verifier, not the records
	// themselves (for long benchmark runs).
	Discard bool
}

// TxnKey names a sink transaction: the sink subtask and the checkpoint that
// pre-committed it.
type TxnKey struct {
	Subtask    int
	Checkpoint int64
}

// SinkStore is the simulated external system a sink writes to: it is outside every
// node and survives all crashes. It keeps what was committed, in commit order, and
// the pre-committed transactions of two-phase-commit sinks.
type SinkStore struct {
	Name      string
	discard   bool
	committed []Record
	verify    Verifier
	prepared  map[TxnKey][]Record
	done      map[TxnKey]bool
	// FailCommits makes the next that many transaction commits fail (a transient
	// fault of the external system); sinks retry them.
	FailCommits int
	// CommitFailures counts commits that failed.
	CommitFailures int
	clock          *sim.World
	latency        Histogram
}

// Latency is the distribution of end-to-end latency: from the event time of the
// records that produced a result to its commit. A record from a source (or a
// copy of one) carries its own event time; a join result the later of its two
// inputs'; a window result the window's last instant, the latest event time its
// records can have.
func (s *SinkStore) Latency() *Histogram { return &s.latency }

func (s *SinkStore) observeLatency(r *Record) {
	if s.clock != nil {
		s.latency.Record(s.clock.Now().Sub(r.Time))
	}
}

// NewSinkStore returns an empty store; a discarding store keeps counts only.
func NewSinkStore(name string, discard bool) *SinkStore {
	return &SinkStore{Name: name, discard: discard, prepared: map[TxnKey][]Record{}, done: map[TxnKey]bool{}}
}

// Commit makes records visible to readers of the store.
func (s *SinkStore) Commit(recs []Record) {
	for i := range recs {
		s.commitOne(&recs[i])
	}
}

func (s *SinkStore) commitOne(r *Record) {
	if !s.discard {
		s.committed = append(s.committed, *r)
	}
	s.verify.Observe(r)
	s.observeLatency(r)
}

// Prepare stores a pre-committed transaction: durable, not yet visible.
func (s *SinkStore) Prepare(k TxnKey, recs []Record) {
	if s.done[k] {
		return
	}
	s.prepared[k] = append(s.prepared[k], recs...)
}

// CommitTxn makes a prepared transaction visible. Committing twice, or committing
// a transaction that was never prepared, does nothing: commits are idempotent. It
// returns false when the commit failed and must be retried.
func (s *SinkStore) CommitTxn(k TxnKey) bool {
	if s.done[k] {
		return true
	}
	if s.FailCommits > 0 {
		s.FailCommits--
		s.CommitFailures++
		return false
	}
	recs, ok := s.prepared[k]
	if !ok {
		return true
	}
	delete(s.prepared, k)
	s.done[k] = true
	s.Commit(recs)
	return true
}

// AbortTxn drops one prepared transaction.
func (s *SinkStore) AbortTxn(k TxnKey) { delete(s.prepared, k) }

// Prepared lists the prepared, uncommitted transactions in order.
func (s *SinkStore) Prepared() []TxnKey {
	keys := make([]TxnKey, 0, len(s.prepared))
	for k := range s.prepared {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].Checkpoint != keys[j].Checkpoint {
			return keys[i].Checkpoint < keys[j].Checkpoint
		}
		return keys[i].Subtask < keys[j].Subtask
	})
	return keys
}

// Committed returns what readers of the store see, in commit order.
func (s *SinkStore) Committed() []Record { return s.committed }

// Verifier returns the running duplicate, loss and order counts of the store.
func (s *SinkStore) Verifier() *Verifier { return &s.verify }

// sinkOp hands records to the external store: at once (at least once), or through
// a transaction per checkpoint (two-phase commit).
type sinkOp struct {
	passOp
	ctx      *OpContext
	twoPhase bool
	txn      []Record
	pending  []int64
}

func (s *sinkOp) Open(ctx *OpContext) error {
	s.ctx = ctx
	s.twoPhase = ctx.Vertex.Sink.Kind == SinkTwoPhaseCommit
	return nil
}

func (s *sinkOp) Process(_ int, r *Record, _ Collector) {
	if s.twoPhase {
		s.txn = append(s.txn, *r)
		return
	}
	s.ctx.Sink.commitOne(r)
}

func (s *sinkOp) batchable() bool { return true }
func (s *sinkOp) resizes() bool   { return false }

func (s *sinkOp) processBatch(_ int, in, _ []Record, _ int32) ([]Record, int) {
	if s.twoPhase {
		s.txn = append(s.txn, in...)
		return nil, len(in)
	}
	for i := range in {
		s.ctx.Sink.commitOne(&in[i])
	}
	return nil, len(in)
}

// preCommit closes the current transaction under checkpoint id and returns the
// transactions awaiting commit.
func (s *sinkOp) preCommit(id int64) []int64 {
	k := TxnKey{Subtask: s.ctx.Subtask, Checkpoint: id}
	s.ctx.Sink.Prepare(k, s.txn)
	s.txn = nil
	if s.ctx.Task.rt.mutation().SinkEarlyCommit {
		s.ctx.Sink.CommitTxn(k) // mutant: visible before the checkpoint completes
	}
	s.pending = append(s.pending, id)
	return append([]int64(nil), s.pending...)
}

// commitUpTo commits the pending transactions of checkpoints up to id; it returns
// false when a commit failed (the caller retries).
func (s *sinkOp) commitUpTo(id int64) bool {
	for len(s.pending) > 0 && s.pending[0] <= id {
		if !s.ctx.Sink.CommitTxn(TxnKey{Subtask: s.ctx.Subtask, Checkpoint: s.pending[0]}) {
			return false
		}
		s.pending = s.pending[1:]
	}
	return true
}

// Verifier counts, per source split, records seen twice and records seen after a
// later record of the same split, as the verifying sink of Flink's
// UnalignedCheckpointITCase. Records with a negative split (window results, join
// outputs) are derived, not per-split, and only counted.
type Verifier struct {
	splits     map[int32]*splitSeen
	last       *splitSeen // the split of the previous record, which the next one often shares
	lastSplit  int32
	Duplicates int64
	OutOfOrder int64
	Derived    int64
	Total      int64
}

type splitSeen struct {
	bits []uint64
	max  int64
	n    int64
}

// Observe records one committed record.
func (v *Verifier) Observe(r *Record) {
	v.Total++
	if r.Split < 0 {
		v.Derived++
		return
	}
	s := v.last
	if s == nil || v.lastSplit != r.Split {
		if v.splits == nil {
			v.splits = map[int32]*splitSeen{}
		}
		s = v.splits[r.Split]
		if s == nil {
			s = &splitSeen{max: -1}
			v.splits[r.Split] = s
		}
		v.last, v.lastSplit = s, r.Split
	}
	w := int(r.Offset >> 6)
	for w >= len(s.bits) {
		s.bits = append(s.bits, 0)
	}
	bit := uint64(1) << (r.Offset & 63)
	if s.bits[w]&bit != 0 {
		v.Duplicates++
		return
	}
	s.bits[w] |= bit
	s.n++
	if r.Offset < s.max {
		v.OutOfOrder++
	} else {
		s.max = r.Offset
	}
}

// Seen reports whether the record (split, offset) was observed.
func (v *Verifier) Seen(split int32, off int64) bool {
	s := v.splits[split]
	if s == nil || int(off>>6) >= len(s.bits) {
		return false
	}
	return s.bits[off>>6]&(1<<(off&63)) != 0
}

// Lost counts the records of the given splits and offsets [0, n) never observed.
func (v *Verifier) Lost(splits []int32, n int64) int64 {
	var lost int64
	for _, sp := range splits {
		for off := int64(0); off < n; off++ {
			if !v.Seen(sp, off) {
				lost++
			}
		}
	}
	return lost
}

// Unique is the number of distinct per-split records observed.
func (v *Verifier) Unique() int64 {
	var n int64
	for _, s := range v.splits {
		n += s.n
	}
	return n
}
