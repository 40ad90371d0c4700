package sim

import (
	"fmt"
	"math/bits"
)

// Tags folded into the trace for kernel state changes that are not events.
const (
	traceCrash uint64 = 1<<63 | iota + 1
	traceRestart
	traceUser
)

// Trace is the running 64-bit hash of everything a run did. Two runs with the same
// seed have the same hash after every event.
type Trace struct {
	h   uint64
	n   uint64
	log *HashLog
}

func (t *Trace) fold(a, b, c, d uint64) {
	t.h = xxhash40(t.h, a, b, c, d)
	t.n++
}

// xxHash64's primes.
const (
	xxPrime1 uint64 = 11400714785074694791
	xxPrime2 uint64 = 14029467366897019727
	xxPrime3 uint64 = 1609587929392839161
	xxPrime4 uint64 = 9650029242287828579
)

// xxhash40 is xxhash.Sum64 (seed 0) of the 40 bytes of w0..w4 in little-endian
// order, computed on the words themselves: the same hash as before, without
// writing a buffer and without the general function's length cases (the trace
// folds one per event, so it is on the hottest path of every run).
func xxhash40(w0, w1, w2, w3, w4 uint64) uint64 {
	v1 := xxRound(6983438078262162902, w0) // prime1 + prime2, wrapped
	v2 := xxRound(xxPrime2, w1)
	v3 := xxRound(0, w2)
	v4 := xxRound(7046029288634856825, w3) // -prime1, wrapped
	h := bits.RotateLeft64(v1, 1) + bits.RotateLeft64(v2, 7) + bits.RotateLeft64(v3, 12) + bits.RotateLeft64(v4, 18)
	h = xxMerge(h, v1)
	h = xxMerge(h, v2)
	h = xxMerge(h, v3)
	h = xxMerge(h, v4)
	h += 40
	h ^= xxRound(0, w4)
	h = bits.RotateLeft64(h, 27)*xxPrime1 + xxPrime4
	h ^= h >> 33
	h *= xxPrime2
	h ^= h >> 29
	h *= xxPrime3
	h ^= h >> 32
	return h
}

func xxRound(acc, input uint64) uint64 {
	acc += input * xxPrime2
	acc = bits.RotateLeft64(acc, 31)
	return acc * xxPrime1
}

func xxMerge(acc, val uint64) uint64 {
	acc ^= xxRound(0, val)
	return acc*xxPrime1 + xxPrime4
}

// TraceHash is the run's trace hash so far.
func (w *World) TraceHash() uint64 { return w.trace.h }

// TraceNote folds a state change of interest (a checkpoint completing, a record
// count) into the trace hash. tag names the kind of change; a and b describe it.
func (w *World) TraceNote(tag, a, b uint64) {
	w.trace.fold(uint64(w.now), traceUser^tag, a, b)
}

// SetHashLog attaches a hash log: in recording mode it keeps the hash after every
// event; in checking mode it stops the run at the first event whose hash differs from
// the recorded one (as TigerBeetle's hash_log), so a determinism bug is located.
func (w *World) SetHashLog(l *HashLog) { w.trace.log = l }

// HashLog records the trace hash after each event of one run, or checks another run
// of the same seed against such a record.
type HashLog struct {
	hashes   []uint64
	checking bool
	n        int
	// Divergence is set when a checking run first differs from the record.
	Divergence *Divergence
}

// Divergence describes the first event at which a run differed from its record.
type Divergence struct {
	Index      int
	At         Time
	Kind       uint32
	Node       NodeID
	A, B       int64
	Want, Got  uint64
	RecordSize int
}

func (d *Divergence) Error() string {
	if d.Index >= d.RecordSize {
		return fmt.Sprintf("run went on past the recorded %d events: extra event %d at %v (kind %d, node %d, args %d %d)",
			d.RecordSize, d.Index, d.At, d.Kind, d.Node, d.A, d.B)
	}
	return fmt.Sprintf("trace diverged at event %d, time %v: kind %d, node %d, args %d %d; hash %016x, recorded %016x",
		d.Index, d.At, d.Kind, d.Node, d.A, d.B, d.Got, d.Want)
}

// NewHashLog returns a log in recording mode.
func NewHashLog() *HashLog { return &HashLog{} }

// Check returns a log that checks a new run against the hashes recorded in l.
func (l *HashLog) Check() *HashLog {
	return &HashLog{hashes: l.hashes, checking: true}
}

// Len is the number of events recorded or checked.
func (l *HashLog) Len() int {
	if l.checking {
		return l.n
	}
	return len(l.hashes)
}

// Hashes returns the recorded hashes, one per event.
func (l *HashLog) Hashes() []uint64 { return l.hashes }

// LoadHashLog returns a checking log for previously recorded hashes.
func LoadHashLog(hashes []uint64) *HashLog { return &HashLog{hashes: hashes, checking: true} }

// observe records or checks the hash after ev; it returns true when the run must stop.
func (l *HashLog) observe(h uint64, ev *Event) bool {
	if !l.checking {
		l.hashes = append(l.hashes, h)
		return false
	}
	i := l.n
	l.n++
	if i < len(l.hashes) && l.hashes[i] == h {
		return false
	}
	d := &Divergence{Index: i, At: ev.At, Kind: ev.Kind, Node: ev.Node, A: ev.A, B: ev.B, Got: h, RecordSize: len(l.hashes)}
	if i < len(l.hashes) {
		d.Want = l.hashes[i]
	}
	l.Divergence = d
	return true
}
