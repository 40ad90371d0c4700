package sim

import (
	"encoding/binary"
	"fmt"

	"github.com/cespare/xxhash/v2"
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
	buf [40]byte
	log *HashLog
}

func (t *Trace) fold(a, b, c, d uint64) {
	binary.LittleEndian.PutUint64(t.buf[0:], t.h)
	binary.LittleEndian.PutUint64(t.buf[8:], a)
	binary.LittleEndian.PutUint64(t.buf[16:], b)
	binary.LittleEndian.PutUint64(t.buf[24:], c)
	binary.LittleEndian.PutUint64(t.buf[32:], d)
	t.h = xxhash.Sum64(t.buf[:])
	t.n++
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
