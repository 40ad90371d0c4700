package engine

import (
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// LoggedMessage is one message of a sender-side log: its sequence number on its
// channel, its records (data, watermarks and idleness markers, as sent), the
// information its protocol piggybacked on it, and whether it was the channel's
// end of partition.
type LoggedMessage struct {
	Seq     int64
	Records []Record
	Stamp   []uint64
	EOP     bool
}

// Bytes is the message's logged size: its records' wire sizes plus the stamp.
func (m *LoggedMessage) Bytes() int64 {
	n := int64(8 * len(m.Stamp))
	for i := range m.Records {
		n += int64(m.Records[i].Size)
	}
	return n
}

// msgLog is the log of one output channel: the messages sent on it, oldest first,
// from the truncation point on. Records and stamps live in two slabs that are
// compacted as the front is truncated, so a steady run does not allocate.
type msgLog struct {
	entries []logEntry
	recs    []Record
	stamps  []uint64
	first   int   // entries[first:] are live
	bytes   int64 // logged bytes of the live entries
}

type logEntry struct {
	seq            int64
	r0, r1, s0, s1 int // slab ranges of records and stamp
	eop            bool
	bytes          int64
}

// add logs one message.
func (l *msgLog) add(seq int64, recs []Record, stamp []uint64, eop bool) int64 {
	e := logEntry{seq: seq, r0: len(l.recs), s0: len(l.stamps), eop: eop, bytes: int64(8 * len(stamp))}
	l.recs = append(l.recs, recs...)
	l.stamps = append(l.stamps, stamp...)
	for i := range recs {
		e.bytes += int64(recs[i].Size)
	}
	e.r1, e.s1 = len(l.recs), len(l.stamps)
	l.entries = append(l.entries, e)
	l.bytes += e.bytes
	return e.bytes
}

// truncate drops every message with a sequence number at or below upTo.
func (l *msgLog) truncate(upTo int64) {
	for l.first < len(l.entries) && l.entries[l.first].seq <= upTo {
		l.bytes -= l.entries[l.first].bytes
		l.first++
	}
	if l.first == 0 || 2*l.first < len(l.entries) {
		return // compact once half the entries are dead: amortised O(1)
	}
	// compact: move the live entries and their slab ranges to the front
	live := l.entries[l.first:]
	if len(live) == 0 {
		l.entries, l.recs, l.stamps, l.first = l.entries[:0], l.recs[:0], l.stamps[:0], 0
		return
	}
	dr, ds := live[0].r0, live[0].s0
	n := copy(l.entries, live)
	l.entries = l.entries[:n]
	for i := range l.entries {
		e := &l.entries[i]
		e.r0, e.r1, e.s0, e.s1 = e.r0-dr, e.r1-dr, e.s0-ds, e.s1-ds
	}
	l.recs = l.recs[:copy(l.recs, l.recs[dr:])]
	l.stamps = l.stamps[:copy(l.stamps, l.stamps[ds:])]
	l.first = 0
}

// message returns entry i of the live log, its slices aliasing the slabs.
func (l *msgLog) message(i int) LoggedMessage {
	e := &l.entries[l.first+i]
	return LoggedMessage{Seq: e.seq, Records: l.recs[e.r0:e.r1], Stamp: l.stamps[e.s0:e.s1], EOP: e.eop}
}

// len is the number of live messages.
func (l *msgLog) len() int { return len(l.entries) - l.first }

// copyRange returns copies of the messages with sequence numbers in (from, to]:
// their records and stamps copied into one slab each (a message's slices are
// capped at its length, so an append to one never writes into the next; an
// empty one is nil, as a copy of it by append would be).
func (l *msgLog) copyRange(from, to int64) []LoggedMessage {
	n, nr, ns := 0, 0, 0
	for i := 0; i < l.len(); i++ {
		if e := &l.entries[l.first+i]; e.seq > from && e.seq <= to {
			n, nr, ns = n+1, nr+e.r1-e.r0, ns+e.s1-e.s0
		}
	}
	if n == 0 {
		return nil
	}
	out := make([]LoggedMessage, 0, n)
	recs, stamps := make([]Record, 0, nr), make([]uint64, 0, ns)
	for i := 0; i < l.len(); i++ {
		m := l.message(i)
		if m.Seq <= from || m.Seq > to {
			continue
		}
		m.Records, recs = copyInto(recs, m.Records)
		m.Stamp, stamps = copyInto(stamps, m.Stamp)
		out = append(out, m)
	}
	return out
}

// copyInto appends src to the slab and returns the copy, capped at its length
// (nil when src is empty), and the slab.
func copyInto[T any](slab, src []T) (dst, rest []T) {
	if len(src) == 0 {
		return nil, slab
	}
	k := len(slab)
	slab = append(slab, src...)
	return slab[k:len(slab):len(slab)], slab
}

// restore rebuilds the log from messages recovered from checkpoints, in sequence
// order, each sequence number once.
func (l *msgLog) restore(msgs []LoggedMessage) {
	var last int64 = -1
	for _, m := range msgs {
		if m.Seq <= last {
			continue
		}
		l.add(m.Seq, m.Records, m.Stamp, m.EOP)
		last = m.Seq
	}
}

// logFile appends a task's logged messages to its worker's local disk, one file per
// output channel and checkpoint interval (a segment), so that truncation removes
// whole files. Records are written as fixed 40-byte entries after a 17-byte
// message header (sequence number, record count, end-of-partition flag).
type logFile struct {
	fs      vfs.FS
	dir     string
	seg     []vfs.File // the open segment of each channel
	segs    [][]logSeg // the segments of each channel, oldest first
	scratch []byte
}

type logSeg struct {
	name string
	last int64 // last sequence number written to it
}

func newLogFile(fs vfs.FS, dir string, channels int) (*logFile, error) {
	if err := fs.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return &logFile{fs: fs, dir: dir, seg: make([]vfs.File, channels), segs: make([][]logSeg, channels)}, nil
}

// write appends one message to channel ch's open segment, opening segment id
// first if none is open.
func (f *logFile) write(ch int, id int64, seq int64, recs []Record, eop bool) error {
	if f.seg[ch] == nil {
		name := fmt.Sprintf("%s/ch-%d-seg-%d", f.dir, ch, id)
		file, err := f.fs.Create(name, vfs.WriteCategoryUnspecified)
		if err != nil {
			return err
		}
		f.seg[ch] = file
		f.segs[ch] = append(f.segs[ch], logSeg{name: name})
	}
	b := f.scratch[:0]
	b = binary.LittleEndian.AppendUint64(b, uint64(seq))
	b = binary.LittleEndian.AppendUint64(b, uint64(len(recs)))
	if eop {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	for i := range recs {
		r := &recs[i]
		b = binary.LittleEndian.AppendUint64(b, r.Key)
		b = binary.LittleEndian.AppendUint64(b, uint64(r.Value))
		b = binary.LittleEndian.AppendUint64(b, uint64(r.Time))
		b = binary.LittleEndian.AppendUint32(b, uint32(r.Split))
		b = binary.LittleEndian.AppendUint32(b, uint32(r.Size))
		b = binary.LittleEndian.AppendUint64(b, uint64(r.Offset))
	}
	f.scratch = b
	segs := f.segs[ch]
	segs[len(segs)-1].last = seq
	_, err := f.seg[ch].Write(b)
	return err
}

// rotate closes every open segment (at a checkpoint) and syncs it: the next
// message of each channel starts a new one.
func (f *logFile) rotate() error {
	for ch, file := range f.seg {
		if file == nil {
			continue
		}
		f.seg[ch] = nil
		if err := file.Sync(); err != nil {
			_ = file.Close()
			return err
		}
		if err := file.Close(); err != nil {
			return err
		}
	}
	return nil
}

// truncate removes channel ch's closed segments whose messages are all at or below
// upTo.
func (f *logFile) truncate(ch int, upTo int64) error {
	segs := f.segs[ch]
	open := 0
	if f.seg[ch] != nil {
		open = 1 // the last segment is still written
	}
	k := 0
	for k < len(segs)-open && segs[k].last <= upTo {
		if err := f.fs.Remove(segs[k].name); err != nil {
			return err
		}
		k++
	}
	f.segs[ch] = segs[k:]
	return nil
}

// close closes the open segments (their data stays on the disk).
func (f *logFile) close() {
	for ch, file := range f.seg {
		if file != nil {
			_ = file.Close()
			f.seg[ch] = nil
		}
	}
}
