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
}

// TxnKey names a sink transaction: the sink subtask and the checkpoint that
// pre-committed it.
type TxnKey struct {
	Subtask    int
	Checkpoint int64
}

// SinkStore is the simulated external system a sink writes to: it is outside every
// node and survives all crashes. It keeps the pre-committed transactions of
// two-phase-commit sinks and the verifying counts of what was committed; the
// committed records themselves only when asked to (KeepCommitted), so that a
// run's memory does not grow with the records it commits. Observers
// (ObserveCommits) see every committed record as it becomes visible.
type SinkStore struct {
	Name      string
	keep      bool
	committed []Record
	observers []CommitObserver
	bug       *sinkBug // a mutant's (nil: none)
	verify    Verifier
	prepared  map[TxnKey][]Record
	done      map[TxnKey]bool
	// free holds the record slices of committed or aborted transactions, for
	// the sinks' next transactions (TxnBuffer): a transaction per checkpoint
	// allocates nothing in steady state.
	free [][]Record
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

// CommitObserver sees each record a sink store makes visible, in commit order.
// repeat says the store's verifier had already seen the record's (split, offset):
// a duplicate of a source record (always false for derived records, whose split
// is negative). An observer must only observe: it never changes the run.
type CommitObserver interface {
	ObserveCommit(r *Record, repeat bool)
}

// NewSinkStore returns an empty store that keeps counts, not records.
func NewSinkStore(name string) *SinkStore {
	return &SinkStore{Name: name, prepared: map[TxnKey][]Record{}, done: map[TxnKey]bool{}}
}

// KeepCommitted makes the store keep every record it commits from now on, for
// Committed. Memory then grows with the output: it is for tests and for replays
// that name the records an oracle found lost or duplicated.
func (s *SinkStore) KeepCommitted() { s.keep = true }

// ObserveCommits adds an observer of every record committed from now on.
func (s *SinkStore) ObserveCommits(o CommitObserver) { s.observers = append(s.observers, o) }

// Commit makes records that sink subtask committed visible to readers of the
// store.
func (s *SinkStore) Commit(subtask int, recs []Record) {
	for i := range recs {
		s.commitOne(subtask, &recs[i])
	}
}

// sinkBug is a mutant external store: it loses, or commits twice, the first
// derived record it commits.
type sinkBug struct {
	lose bool
	done bool
}

func (s *SinkStore) commitOne(subtask int, r *Record) {
	if b := s.bug; b != nil && !b.done && r.Split < 0 {
		b.done = true
		if b.lose {
			return
		}
		s.commitRecord(subtask, r)
	}
	s.commitRecord(subtask, r)
}

func (s *SinkStore) commitRecord(subtask int, r *Record) {
	if s.keep {
		s.committed = append(s.committed, *r)
	}
	repeat := s.verify.ObserveFrom(subtask, r)
	for _, o := range s.observers {
		o.ObserveCommit(r, repeat)
	}
	s.observeLatency(r)
}

// maxFreeTxns bounds how many transaction slices a store keeps for reuse.
const maxFreeTxns = 8

// Prepare stores a pre-committed transaction: durable, not yet visible. The
// store takes recs over (the caller must not use them again).
func (s *SinkStore) Prepare(k TxnKey, recs []Record) {
	if s.done[k] {
		s.recycle(recs)
		return
	}
	if prev, ok := s.prepared[k]; ok {
		s.prepared[k] = append(prev, recs...)
		s.recycle(recs)
		return
	}
	s.prepared[k] = recs
}

// TxnBuffer returns an empty record slice for a new transaction, reusing one
// of a committed or aborted transaction when there is one (nil otherwise).
func (s *SinkStore) TxnBuffer() []Record {
	n := len(s.free)
	if n == 0 {
		return nil
	}
	b := s.free[n-1]
	s.free[n-1] = nil
	s.free = s.free[:n-1]
	return b[:0]
}

func (s *SinkStore) recycle(recs []Record) {
	if cap(recs) > 0 && len(s.free) < maxFreeTxns {
		s.free = append(s.free, recs[:0])
	}
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
	s.Commit(k.Subtask, recs)
	s.recycle(recs) // observers saw the records during Commit only
	return true
}

// AbortTxn drops one prepared transaction.
func (s *SinkStore) AbortTxn(k TxnKey) {
	if recs, ok := s.prepared[k]; ok {
		delete(s.prepared, k)
		s.recycle(recs)
	}
}

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

// Committed returns what readers of the store see, in commit order, when the
// store was asked to keep it (KeepCommitted) before the run; nil otherwise.
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
	s.ctx.Sink.commitOne(s.ctx.Subtask, r)
}

func (s *sinkOp) batchable() bool { return true }
func (s *sinkOp) resizes() bool   { return false }

func (s *sinkOp) processBatch(_ int, in, _ []Record, _ int32) ([]Record, int) {
	if s.twoPhase {
		s.txn = append(s.txn, in...)
		return nil, len(in)
	}
	for i := range in {
		s.ctx.Sink.commitOne(s.ctx.Subtask, &in[i])
	}
	return nil, len(in)
}

// preCommit closes the current transaction under checkpoint id and returns the
// transactions awaiting commit.
func (s *sinkOp) preCommit(id int64) []int64 {
	k := TxnKey{Subtask: s.ctx.Subtask, Checkpoint: id}
	s.ctx.Sink.Prepare(k, s.txn)
	s.txn = s.ctx.Sink.TxnBuffer()
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

// Verifier counts, per source split, records seen twice (by any subtask of the
// sink) and records a sink subtask commits after a later record of the same split
// it committed before, as the verifying sink of Flink's UnalignedCheckpointITCase,
// whose state is per subtask. Order is per subtask because nothing orders the
// commits of different subtasks: after a restore, a round-robin edge may send a
// split's new records to another subtask than the one replaying its restored
// in-flight records, and both subtasks' transactions commit at one notification.
// Records with a negative split (window results, join outputs) are derived, not
// per-split, and only counted.
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
	// bits has a bit per offset from 64·base on; the words below base were all
	// set and are dropped, so a long run holds only the offsets above the first
	// one its sinks have not committed yet (not one bit per record ever read).
	bits []uint64
	base int64
	max  int64   // the highest offset any subtask committed
	next []int64 // per sink subtask, 1 + the highest offset it committed (0: none)
	n    int64
}

// Observe records one committed record of sink subtask 0; it reports whether the
// record's (split, offset) was seen before (false for derived records).
func (v *Verifier) Observe(r *Record) (repeat bool) { return v.ObserveFrom(0, r) }

// ObserveFrom records one record committed by sink subtask; it reports whether
// the record's (split, offset) was seen before (false for derived records).
func (v *Verifier) ObserveFrom(subtask int, r *Record) (repeat bool) {
	v.Total++
	if r.Split < 0 {
		v.Derived++
		return false
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
	w := int(r.Offset>>6 - s.base)
	if w < 0 { // in a dropped word: every offset of it was seen
		v.Duplicates++
		return true
	}
	for w >= len(s.bits) {
		s.bits = append(s.bits, 0)
	}
	bit := uint64(1) << (r.Offset & 63)
	if s.bits[w]&bit != 0 {
		v.Duplicates++
		return true
	}
	if s.bits[w] |= bit; w == 0 && s.bits[0] == ^uint64(0) {
		s.dropFull()
	}
	s.n++
	s.max = max(s.max, r.Offset)
	for subtask >= len(s.next) {
		s.next = append(s.next, 0)
	}
	if r.Offset+1 < s.next[subtask] {
		v.OutOfOrder++
	} else {
		s.next[subtask] = r.Offset + 1
	}
	return false
}

// dropFull drops the leading words whose offsets were all seen.
func (s *splitSeen) dropFull() {
	n := 0
	for n < len(s.bits) && s.bits[n] == ^uint64(0) {
		n++
	}
	s.base += int64(n)
	s.bits = s.bits[n:]
	if cap(s.bits) > 2*len(s.bits)+64 { // let the dropped front go
		s.bits = append(make([]uint64, 0, 2*len(s.bits)+8), s.bits...)
	}
}

// Seen reports whether the record (split, offset) was observed.
func (v *Verifier) Seen(split int32, off int64) bool {
	s := v.splits[split]
	if s == nil || off < 0 {
		return false
	}
	w := int(off>>6 - s.base)
	if w < 0 {
		return true
	}
	if w >= len(s.bits) {
		return false
	}
	return s.bits[w]&(1<<(off&63)) != 0
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
