// Package engine is a Flink-style stream engine that runs on the sim kernel: job
// graphs of sources, keyed operators, windows, joins and sinks; tasks driven by
// simulator events with credit-based network buffers; keyed state by key group; and
// the hooks that checkpoint protocols plug into.
package engine

import "github.com/ckptsim/ckptsim/sim"

// Record is one stream element. It is a small fixed struct so the per-record path
// never allocates.
type Record struct {
	Key    uint64   // the key used by keyBy
	Value  int64    // the payload
	Time   sim.Time // event time
	Split  int32    // source split the record derives from
	Size   int32    // modelled size in bytes on the wire
	Offset int64    // offset in its split: (Split, Offset) identifies the source record
}

// copyRecord copies *src to *dst field by field. A plain struct copy moves 16
// bytes at a time, which stalls when it reads a record whose fields were just
// written one by one (store-to-load forwarding fails), as on the per-record path.
func copyRecord(dst, src *Record) {
	dst.Key, dst.Value, dst.Time = src.Key, src.Value, src.Time
	dst.Split, dst.Size, dst.Offset = src.Split, src.Size, src.Offset
}

// ID is the record's provenance: the source split and offset it derives from.
func (r *Record) ID() RecordID { return RecordID{Split: r.Split, Offset: r.Offset} }

// RecordID names one source record.
type RecordID struct {
	Split  int32
	Offset int64
}

// Buffer is a network buffer: records serialised up to the channel's buffer size.
type Buffer struct {
	Records []Record
	Bytes   int
	pos     int // next record to process at the receiver

	// Under a local (uncoordinated or communication-induced) protocol: the
	// buffer's sequence number on its channel, the recovery epoch (deployment) of
	// its sender, and the information the protocol piggybacks on it.
	Seq   int64
	Epoch int
	Stamp []uint64
}

// push appends a copy of r.
func (b *Buffer) push(r *Record) {
	n := len(b.Records)
	if n == cap(b.Records) {
		b.Records = append(b.Records, Record{})
	} else {
		b.Records = b.Records[:n+1]
	}
	copyRecord(&b.Records[n], r)
	b.Bytes += int(r.Size)
}

// bufferPool recycles buffers within one run (one goroutine), so steady state does
// not allocate.
type bufferPool struct {
	free []*Buffer
}

func (p *bufferPool) get() *Buffer {
	if n := len(p.free); n > 0 {
		b := p.free[n-1]
		p.free = p.free[:n-1]
		return b
	}
	return &Buffer{Records: make([]Record, 0, 64)}
}

func (p *bufferPool) put(b *Buffer) {
	b.Records = b.Records[:0]
	b.Bytes, b.pos = 0, 0
	b.Seq, b.Epoch, b.Stamp = 0, 0, b.Stamp[:0]
	p.free = append(p.free, b)
}
