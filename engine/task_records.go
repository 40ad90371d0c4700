package engine

import (
	"github.com/ckptsim/ckptsim/sim"
)

// chainLink is the collector of op i: it feeds op i+1, or the outputs after the
// last op.
type chainLink struct {
	t        *Task
	i        int
	next     Operator     // op i+1; nil for the last op
	nextLink *chainLink   // op i+1's collector
	cost     sim.Duration // op i+1's CPU cost per record
}

// linkChain points each link of the chain at the operator it feeds, and sets up
// batches when every operator can take them.
func (t *Task) linkChain() {
	for i := range t.links {
		l := &t.links[i]
		l.t, l.i = t, i
		if n := i + 1; n < len(t.ops) {
			l.next, l.nextLink, l.cost = t.ops[n], &t.links[n], t.costs[n]
		}
	}
	if batching {
		t.batch = newChainBatch(t.ops, t.costs)
	}
}

// batching lets chains take records in batches; tests turn it off to check that
// batches change nothing.
var batching = true

// Collect implements Collector: the record goes through op i+1, or to every output
// after the last op.
func (c *chainLink) Collect(r *Record) {
	if c.next != nil {
		c.t.sliceCost += c.cost
		c.next.Process(0, r, c.nextLink)
		return
	}
	t := c.t
	t.m.RecordsOut++
	for _, o := range t.outs {
		o.emit(r)
	}
}

// steady reports whether run's loop, after a record, would go straight on to the
// next record of the same input with no other work first: the slice has CPU time
// left, no watermark or priority event is due and every output has a free buffer.
// The record loops below continue only while it holds, so batching records into
// one loop does not change what run does.
func (t *Task) steady(quantum sim.Duration) bool {
	if t.sliceCost >= quantum || t.finished || t.failed {
		return false
	}
	if t.cur == nil {
		if t.src == nil || len(t.replay) > 0 {
			return false
		}
	} else if t.curCh == nil {
		return t.outputsReady() // restored channel state: run checks only the outputs
	}
	return !t.wmDue && !t.prioPending && t.outputsReady()
}

// outputsReady is outputsAvailable without asking to be notified.
func (t *Task) outputsReady() bool {
	for _, o := range t.outs {
		if !o.part.Available() {
			return false
		}
	}
	return true
}

// processRecords runs records of the current buffer through the chain until the
// buffer is done or run would do something else before the next record.
func (t *Task) processRecords(quantum sim.Duration) {
	b := t.cur
	for {
		if rs, size := t.dataRun(b, quantum); len(rs) > 0 {
			n := t.runBatch(t.curInput, rs, size)
			b.pos += n
			t.m.RecordsIn += int64(n)
		} else {
			t.processOne(b)
		}
		if b.pos == len(b.Records) {
			if t.curCh != nil {
				t.curCh.Recycle()
				t.rt.pool.put(b)
			}
			t.cur = nil
			return
		}
		if t.cur != b || !t.steady(quantum) {
			return
		}
	}
}

// dataRun is the run of data records from b's position on that may go through the
// chain as one batch, and the largest size among them (none when the chain takes
// no batches or a marker is next).
func (t *Task) dataRun(b *Buffer, quantum sim.Duration) ([]Record, int32) {
	if t.batch == nil {
		return nil, 0
	}
	rs := b.Records[b.pos:min(len(b.Records), b.pos+maxBatch)]
	var size int32
	for i := range rs {
		if rs[i].Split <= splitIdle {
			rs = rs[:i]
			break
		}
		size = max(size, rs[i].Size)
	}
	return rs[:min(len(rs), t.batchLimit(quantum, size))], size
}

// processOne runs the next record of b, the current buffer, through the chain.
func (t *Task) processOne(b *Buffer) {
	r := &b.Records[b.pos]
	b.pos++
	if r.Split > splitIdle {
		t.m.RecordsIn++
		t.sliceCost += t.costs[0]
		t.ops[0].Process(t.curInput, r, &t.links[0])
	} else {
		t.onMarker(t.curGate, t.curCh.GateIndex(), r)
	}
}

// maxBatch is the most records a chain takes in one batch.
const maxBatch = 128

// chainBatch is what a chain needs to take records in batches: its operators as
// batchOps, the most CPU time one record can cost, and a scratch run per operator.
type chainBatch struct {
	ops  []batchOp
	cost sim.Duration // upper bound of one record's cost: the sum over the chain
	// sized is set when the records leaving the chain are no larger than the ones
	// entering it, or when the one operator that resizes them has only forwarding
	// operators before it: it can stop after a record it made larger, and the
	// records after that one were not touched.
	sized   bool
	scratch [][]Record
}

// newChainBatch returns the batch setup of a chain, or nil when an operator cannot
// take batches.
func newChainBatch(ops []Operator, costs []sim.Duration) *chainBatch {
	cb := &chainBatch{sized: true}
	touched := false // an operator before this one did more than forward records
	for i, op := range ops {
		bo, ok := op.(batchOp)
		if !ok || !bo.batchable() {
			return nil
		}
		if bo.resizes() && touched {
			cb.sized = false
		}
		if _, fwd := op.(forwardOp); !fwd {
			touched = true
		}
		cb.ops = append(cb.ops, bo)
		cb.cost += costs[i]
	}
	return cb
}

// batchLimit is how many records, none larger than size bytes (0: of any size),
// may go through the chain as one batch now: as many as run's loop would surely
// take one at a time. Before each record run checks that the slice has CPU time
// left and that every output has a free buffer; a record costs at most the
// chain's cost, and output.batchLimit bounds the buffers records take. (Nothing
// else that run checks can change while records are processed.)
func (t *Task) batchLimit(quantum sim.Duration, size int32) int {
	n := maxBatch
	if c := t.batch.cost; c > 0 {
		left := quantum - t.sliceCost
		n = min(n, int((left+c-1)/c))
	}
	if !t.batch.sized {
		size = 0
	}
	for _, o := range t.outs {
		n = min(n, o.batchLimit(size))
	}
	return max(n, 0)
}

// runBatch takes rs through the chain operator by operator, then writes the
// results to the outputs in order, and returns how many records of rs it took:
// all of them, unless the operator that resizes records made one larger than
// sizeCap (see chainBatch.sized). It has the effects of taking the records one at
// a time: the operators' states are their own, so only the order within each
// operator matters, and only the outputs, which come last, touch the network.
func (t *Task) runBatch(input int, rs []Record, sizeCap int32) int {
	cb := t.batch
	if !cb.sized {
		sizeCap = 0
	}
	taken := len(rs)
	var cost, before sim.Duration // before: the cost of the forwarding operators so far
	for i, op := range cb.ops {
		if len(rs) == 0 {
			break
		}
		if cb.scratch == nil {
			cb.scratch = make([][]Record, len(cb.ops))
		}
		if len(cb.scratch[i]) < len(rs) {
			cb.scratch[i] = make([]Record, maxBatch)
		}
		out, took := op.processBatch(input, rs, cb.scratch[i], sizeCap)
		if took < len(rs) { // only forwarding operators came before: they give back the rest
			cost -= before * sim.Duration(taken-took)
			taken = took
		}
		cost += t.costs[i] * sim.Duration(took)
		before += t.costs[i]
		rs, input = out, 0
	}
	t.sliceCost += cost
	t.m.RecordsOut += int64(len(rs))
	if len(t.outs) == 1 {
		t.outs[0].emitBatch(rs)
		return taken
	}
	for i := range rs {
		for _, o := range t.outs {
			o.emit(&rs[i])
		}
	}
	return taken
}
