package sim

import (
	"math"
)

// Gate is the receiver side of a task's input: one channel per producer, a pool of
// floating buffers shared by the channels, and the queue of channels with data.
type Gate struct {
	nw           *Network
	node         *Node
	channels     []*Channel
	floatingFree int
	waiting      ring[*Channel]
	avail        ring[*Channel]
	prio         ring[*Channel]
	listener     GateListener
	closed       bool

	// debloating
	bufferSize   int
	consumed     int64
	throughput   float64 // bytes per second consumed in the last period
	sizeEMA      float64 // smoothed buffer size
	debloatStart bool

	// ConsumedBytes counts the bytes of data buffers polled from the gate.
	ConsumedBytes int64
}

// NewGate creates an input gate on node n.
func (nw *Network) NewGate(n *Node, l GateListener) *Gate {
	g := &Gate{nw: nw, node: n, floatingFree: nw.cfg.FloatingPerGate, listener: l, bufferSize: nw.cfg.SegmentSize}
	return g
}

// Channels are the gate's input channels in connection order.
func (g *Gate) Channels() []*Channel { return g.channels }

// Node is the node the gate lives on.
func (g *Gate) Node() *Node { return g.node }

// FloatingFree is the number of floating buffers not lent to a channel.
func (g *Gate) FloatingFree() int { return g.floatingFree }

// BufferSize is the buffer size the gate asks its senders for (it changes only with
// debloating).
func (g *Gate) BufferSize() int { return g.bufferSize }

// Close stops the gate's timers; its channels are left as they are.
func (g *Gate) Close() { g.closed = true }

// Connect creates a channel from partition p to gate g. The receiver grants its
// exclusive buffers as initial credit.
func (nw *Network) Connect(p *Partition, g *Gate) *Channel {
	nw.nextID++
	ch := &Channel{nw: nw, id: nw.nextID, from: p.node, to: g.node, part: p, gate: g,
		partIndex: len(p.channels), gateIndex: len(g.channels), excl: nw.cfg.ExclusivePerChannel,
		bufSize: g.bufferSize, fromInc: p.node.inc, toInc: g.node.inc,
		fwd: nw.link(p.node.id, g.node.id), rev: nw.link(g.node.id, p.node.id)}
	p.channels = append(p.channels, ch)
	g.channels = append(g.channels, ch)
	if p.defaultPool {
		p.poolSize = len(p.channels)*nw.cfg.ExclusivePerChannel + nw.cfg.FloatingPerGate
	}
	nw.attach(p.node, ch)
	if g.node != p.node {
		nw.attach(g.node, ch)
	}
	if nw.link(p.node.id, g.node.id).down {
		nw.w.Schedule(nw.w.now, ch, evBreak, 0, 0)
	} else {
		ch.grant(ch.excl)
	}
	if nw.cfg.Debloat.Enabled && !g.debloatStart {
		g.debloatStart = true
		g.node.After(nw.cfg.Debloat.Period, g, evDebloat, 0, 0)
	}
	return ch
}

func (g *Gate) returnFloating() {
	g.floatingFree++
	for g.floatingFree > 0 && g.waiting.len() > 0 {
		ch := g.waiting.popFront()
		ch.waits = false
		if !ch.broken {
			ch.requestFloating()
		}
	}
}

// Poll takes the next message: a priority event first, otherwise the head of the
// next channel with data, round robin. Data buffers must be given back with Recycle.
func (g *Gate) Poll() (*Channel, Msg, bool) {
	for g.prio.len() > 0 {
		ch := g.prio.popFront()
		if ch.broken || ch.recvQ.len() == 0 || !ch.recvQ.at(0).Priority {
			continue
		}
		return ch, g.take(ch), true
	}
	for g.avail.len() > 0 {
		ch := g.avail.popFront()
		if ch.broken || ch.recvQ.len() == 0 {
			ch.inAvail = false
			continue
		}
		m := g.take(ch)
		if ch.recvQ.len() > 0 {
			g.avail.pushBack(ch)
		} else {
			ch.inAvail = false
		}
		return ch, m, true
	}
	return nil, Msg{}, false
}

// PollChannel takes the head of one channel's queue, if any.
func (g *Gate) PollChannel(ch *Channel) (Msg, bool) {
	if ch.broken || ch.recvQ.len() == 0 {
		return Msg{}, false
	}
	return g.take(ch), true
}

func (g *Gate) take(ch *Channel) Msg {
	m := ch.recvQ.popFront()
	if !m.Event {
		g.consumed += int64(m.Size)
		g.ConsumedBytes += int64(m.Size)
	}
	return m
}

// HasPriority reports whether a priority event waits in the gate.
func (g *Gate) HasPriority() bool {
	for g.prio.len() > 0 {
		ch := g.prio.at(0)
		if !ch.broken && ch.recvQ.len() > 0 && ch.recvQ.at(0).Priority {
			return true
		}
		g.prio.popFront()
	}
	return false
}

// PollPriority takes the next priority event, if one waits.
func (g *Gate) PollPriority() (*Channel, Msg, bool) {
	if !g.HasPriority() {
		return nil, Msg{}, false
	}
	ch := g.prio.popFront()
	return ch, g.take(ch), true
}

// HasInput reports whether any channel of the gate has a message queued.
func (g *Gate) HasInput() bool {
	for i := 0; i < g.avail.len(); i++ {
		if ch := g.avail.at(i); !ch.broken && ch.recvQ.len() > 0 {
			return true
		}
	}
	return false
}

// Handle implements Handler for the gate's debloating timer.
func (g *Gate) Handle(ev Event) {
	if ev.Kind != evDebloat || g.closed {
		return
	}
	g.debloat()
	g.node.After(g.nw.cfg.Debloat.Period, g, evDebloat, 0, 0)
}

// debloat recomputes the buffer size as Flink's BufferDebloater does (FLIP-183):
// the throughput of the last period times Target, spread over the buffers in use,
// is the desired size; it may at most double the current one, and an exponential
// moving average over Samples periods smooths it. A new size is announced to the
// senders when it moved by more than the threshold (or reached a bound).
func (g *Gate) debloat() {
	cfg := g.nw.cfg.Debloat
	rate := float64(g.consumed) / cfg.Period.Seconds()
	g.consumed = 0
	g.throughput = rate
	inUse := 0
	for _, ch := range g.channels {
		if !ch.broken {
			inUse += ch.inUse
		}
	}
	if inUse < 1 {
		inUse = 1
	}
	if g.sizeEMA == 0 {
		g.sizeEMA = float64(g.nw.cfg.SegmentSize)
	}
	desired := min(rate*cfg.Target.Seconds()/float64(inUse), 2*g.sizeEMA)
	g.sizeEMA += 2 / float64(cfg.Samples+1) * (desired - g.sizeEMA)
	g.sizeEMA = max(float64(cfg.MinSize), min(g.sizeEMA, float64(g.nw.cfg.SegmentSize)))
	size := int(math.Round(g.sizeEMA))
	if size == g.bufferSize {
		return
	}
	diff := math.Abs(float64(size - g.bufferSize))
	if size > cfg.MinSize && size < g.nw.cfg.SegmentSize && diff < cfg.Threshold*float64(g.bufferSize) {
		return
	}
	g.bufferSize = size
	for _, ch := range g.channels {
		if ch.broken {
			continue
		}
		at := g.nw.send(ch.rev, 0)
		ch.from.Schedule(at, ch, evBufSize, int64(size), 0)
	}
}
