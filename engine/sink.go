package engine

// SinkKind says how a sink hands records to the external system.
type SinkKind uint8

// Sink kinds.
const (
	// SinkCollect writes every record to the external store at once (at least once
	// after failures).
	SinkCollect SinkKind = iota
	// SinkTwoPhaseCommit writes into a transaction per checkpoint that is committed
	// when the checkpoint completes (exactly once).
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

// SinkStore is the simulated external system a sink writes to: it is outside every
// node and survives all crashes. It keeps what was committed, in commit order.
type SinkStore struct {
	Name      string
	discard   bool
	committed []Record
	verify    Verifier
}

// NewSinkStore returns an empty store; a discarding store keeps counts only.
func NewSinkStore(name string, discard bool) *SinkStore {
	return &SinkStore{Name: name, discard: discard}
}

// Commit makes records visible to readers of the store.
func (s *SinkStore) Commit(recs []Record) {
	if !s.discard {
		s.committed = append(s.committed, recs...)
	}
	for i := range recs {
		s.verify.Observe(&recs[i])
	}
}

// Committed returns what readers of the store see, in commit order.
func (s *SinkStore) Committed() []Record { return s.committed }

// Verifier returns the running duplicate, loss and order counts of the store.
func (s *SinkStore) Verifier() *Verifier { return &s.verify }

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
