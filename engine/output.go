package engine

import (
	"github.com/ckptsim/ckptsim/sim"
	"github.com/ckptsim/ckptsim/state"
)

// output is one result partition of a task: the records for one consumer vertex,
// serialised into a network buffer per channel and sent when full, when an event
// follows, or when the buffer timeout flushes them.
type output struct {
	t        *Task
	part     *sim.Partition
	mode     Partitioning
	to       *Vertex
	maxPar   int
	rr       int
	cur      []*Buffer // the buffer being filled per channel
	sent     []*Buffer // the last buffer sent per channel: it may still wait for credit
	dirty    int       // number of non-nil entries of cur
	channels []*sim.Channel
	route    []int32 // key group -> channel, for hash partitioning
	base     int     // number of the output's first channel across the task's outputs
	feedback bool    // a back edge (cycle.go)
}

func (o *output) emit(r *Record) {
	switch o.mode {
	case Forward:
		o.add(0, r)
	case Rebalance:
		i := o.rr
		o.rr++
		if o.rr == len(o.channels) {
			o.rr = 0
		}
		o.add(i, r)
	case Hash:
		o.add(int(o.route[state.KeyGroup(r.Key, o.maxPar)]), r)
	case Broadcast:
		for i := range o.channels {
			o.add(i, r)
		}
	}
}

// emitBatch emits rs in order, as emit does one by one, choosing the partitioning
// once for the batch.
func (o *output) emitBatch(rs []Record) {
	switch o.mode {
	case Forward:
		for i := range rs {
			o.add(0, &rs[i])
		}
	case Hash:
		route, maxPar := o.route, o.maxPar
		for i := range rs {
			o.add(int(route[state.KeyGroup(rs[i].Key, maxPar)]), &rs[i])
		}
	default:
		for i := range rs {
			o.emit(&rs[i])
		}
	}
}

// batchLimit is how many records, none larger than size bytes (0: of any size),
// may surely be written before one finds no free buffer in the pool. A record
// takes at most one new buffer per channel it is written to; with sizes known,
// only the first record of a channel without a buffer, and the first after a
// buffer filled up, take one, and filling a buffer takes at least room bytes.
func (o *output) batchLimit(size int32) int {
	free := o.part.PoolSize() - o.part.InUse()
	k := 1
	if o.mode == Broadcast {
		k = len(o.channels)
	}
	if k == 0 {
		return maxBatch
	}
	n := (free + k - 1) / k // record j surely finds a buffer when j*k < free
	if size <= 0 || o.mode == Broadcast || o.t.rt.flushAll {
		return n
	}
	empty, room := 0, maxInt
	for i, b := range o.cur {
		r := o.channels[i].BufferSize()
		if b == nil {
			empty++
		} else {
			r -= b.Bytes
		}
		room = min(room, r)
	}
	// Records 0..j-1 fill at most j*size/room buffers, so they take at most
	// empty + j*size/room new buffers: fewer than free while j*size < (free-empty)*room.
	if f := free - empty; f > 0 && room > 0 {
		n = max(n, (f*room+int(size)-1)/int(size))
	}
	return n
}

const maxInt = int(^uint(0) >> 1)

func (o *output) add(i int, r *Record) {
	b := o.cur[i]
	if b == nil {
		// A buffer that was flushed but still waits for credit keeps filling up.
		// (Not under a local protocol: a sent buffer is logged as it was sent.)
		if s := o.sent[i]; s != nil && o.t.ls == nil && s.Bytes+int(r.Size) <= o.channels[i].BufferSize() &&
			o.channels[i].GrowQueuedTail(s, r.Size) {
			s.push(r)
			return
		}
		o.sent[i] = nil
		if !o.part.Acquire() {
			o.part.AcquireOverdraft()
		}
		b = o.t.rt.pool.get()
		o.cur[i] = b
		o.dirty++
		o.t.armFlusher()
	}
	b.push(r)
	if b.Bytes >= o.channels[i].BufferSize() || o.t.rt.flushAll {
		o.send(i)
	}
}

func (o *output) send(i int) {
	b := o.cur[i]
	o.cur[i] = nil
	o.sent[i] = b
	o.dirty--
	o.t.m.BuffersOut++
	size := int32(b.Bytes)
	if t := o.t; t.ls != nil {
		stamp := t.localSend(o, i, b)
		t.rt.localStats.ProtocolBytes += int64(stamp)
		size += stamp
	}
	o.channels[i].Send(sim.Msg{Payload: b, Size: size})
}

// flush sends every partially filled buffer.
func (o *output) flush() {
	if o.dirty == 0 {
		return
	}
	for i, b := range o.cur {
		if b != nil {
			o.send(i)
		}
	}
}

// broadcastMarker writes a watermark or idleness marker into every channel's buffer.
func (o *output) broadcastMarker(split int32, t sim.Time) {
	m := Record{Split: split, Time: t, Size: markerSize}
	for i := range o.channels {
		o.add(i, &m)
	}
}

// broadcastEvent flushes every channel and sends ev after the data.
func (o *output) broadcastEvent(ev *StreamEvent) {
	for i, ch := range o.channels {
		if o.cur[i] != nil {
			o.send(i)
		}
		ch.Send(sim.Msg{Event: true, Payload: ev, Size: eventSize})
	}
}
