package sim

import "math"

// Network defaults, as Flink's.
const (
	DefaultSegmentSize         = 32 * 1024
	DefaultExclusivePerChannel = 2
	DefaultFloatingPerGate     = 8
	DefaultDebloatTarget       = Second
	DefaultDebloatPeriod       = 200 * Millisecond
	DefaultDebloatSamples      = 20
	DefaultDebloatMinSize      = 256
	DefaultDebloatThreshold    = 0.25
)

// LinkConfig is the cost of moving bytes between two nodes.
type LinkConfig struct {
	Latency   Duration // one-way propagation delay
	Jitter    Duration // extra delay drawn uniformly from [0, Jitter]; never reorders
	Bandwidth int64    // bytes per second; 0 means unlimited
}

// DebloatConfig is FLIP-183 buffer debloating: each input gate sizes its buffers so
// that its in-flight data is about throughput × Target.
type DebloatConfig struct {
	Enabled   bool
	Target    Duration // in-flight data expressed as time to consume it (default 1 s)
	Period    Duration // how often the size is recomputed (default 200 ms)
	Samples   int      // smoothing window of the throughput average (default 20)
	MinSize   int      // smallest buffer size in bytes (default 256)
	Threshold float64  // relative change below which the size is not announced (0.25)
}

// NetConfig configures a Network.
type NetConfig struct {
	Remote              LinkConfig // links between distinct nodes
	Local               LinkConfig // channels whose ends are on one node
	SegmentSize         int        // network buffer size in bytes (default 32 KiB)
	ExclusivePerChannel int        // exclusive buffers per input channel (default 2)
	FloatingPerGate     int        // floating buffers per input gate (0: default 8; negative: none)
	Debloat             DebloatConfig
}

func (c *NetConfig) fill() {
	if c.SegmentSize <= 0 {
		c.SegmentSize = DefaultSegmentSize
	}
	if c.ExclusivePerChannel <= 0 {
		c.ExclusivePerChannel = DefaultExclusivePerChannel
	}
	if c.FloatingPerGate == 0 {
		c.FloatingPerGate = DefaultFloatingPerGate
	} else if c.FloatingPerGate < 0 {
		c.FloatingPerGate = 0
	}
	d := &c.Debloat
	if d.Target <= 0 {
		d.Target = DefaultDebloatTarget
	}
	if d.Period <= 0 {
		d.Period = DefaultDebloatPeriod
	}
	if d.Samples <= 0 {
		d.Samples = DefaultDebloatSamples
	}
	if d.MinSize <= 0 {
		d.MinSize = DefaultDebloatMinSize
	}
	if d.Threshold <= 0 {
		d.Threshold = DefaultDebloatThreshold
	}
}

// link is one direction between two nodes. Messages leave in order, each after the
// previous one finished transmitting, and never arrive before an earlier message.
type link struct {
	cfg         LinkConfig
	extra       Duration // added latency (a latency spike)
	down        bool     // partitioned
	busyUntil   Time
	lastArrival Time
}

// Network moves messages between nodes over FIFO links and implements Flink's
// credit-based flow control for the channels between result partitions (senders) and
// input gates (receivers).
type Network struct {
	w      *World
	cfg    NetConfig
	links  map[[2]NodeID]*link
	byNode map[NodeID][]*Channel
	hooked map[NodeID]bool
	rnd    *Rand
	nextID int64
}

// NewNetwork creates the network of w.
func NewNetwork(w *World, cfg NetConfig) *Network {
	cfg.fill()
	return &Network{w: w, cfg: cfg, links: map[[2]NodeID]*link{}, byNode: map[NodeID][]*Channel{},
		hooked: map[NodeID]bool{}, rnd: w.Rand("net/jitter")}
}

// Config is the network's configuration with defaults filled in.
func (nw *Network) Config() NetConfig { return nw.cfg }

// World is the world the network belongs to.
func (nw *Network) World() *World { return nw.w }

func (nw *Network) link(from, to NodeID) *link {
	k := [2]NodeID{from, to}
	l := nw.links[k]
	if l == nil {
		l = &link{cfg: nw.cfg.Remote}
		if from == to {
			l.cfg = nw.cfg.Local
		}
		nw.links[k] = l
	}
	return l
}

// transmit computes when a message of size bytes sent now from one node arrives at
// another, and books the link.
func (nw *Network) transmit(from, to NodeID, size int) Time {
	return nw.send(nw.link(from, to), size)
}

func (nw *Network) send(l *link, size int) Time {
	now := nw.w.now
	dep := now
	if l.busyUntil > dep {
		dep = l.busyUntil
	}
	if l.cfg.Bandwidth > 0 && size > 0 {
		dep = dep.Add(Duration(int64(size) * int64(Second) / l.cfg.Bandwidth))
	}
	l.busyUntil = dep
	arr := dep.Add(l.cfg.Latency + l.extra + nw.rnd.Jitter(l.cfg.Jitter))
	if arr < l.lastArrival {
		arr = l.lastArrival
	}
	l.lastArrival = arr
	return arr
}

// Deliver books a control message of size bytes from one node to another and
// returns when it arrives; ok is false when the link between them is cut (the
// message is lost).
func (nw *Network) Deliver(from, to *Node, size int) (at Time, ok bool) {
	l := nw.link(from.id, to.id)
	if l.down {
		return 0, false
	}
	return nw.send(l, size), true
}

// SetLink overrides the configuration of the link from one node to another.
func (nw *Network) SetLink(from, to NodeID, cfg LinkConfig) { nw.link(from, to).cfg = cfg }

// SetExtraLatency adds d to both directions between a and b (a latency spike); 0 heals.
func (nw *Network) SetExtraLatency(a, b NodeID, d Duration) {
	nw.link(a, b).extra = d
	nw.link(b, a).extra = d
}

// Partition cuts (on) or heals (off) both directions between a and b. Cutting breaks
// every channel between them; channels created across a cut break at once.
func (nw *Network) Partition(a, b NodeID, on bool) {
	nw.link(a, b).down = on
	nw.link(b, a).down = on
	if !on {
		return
	}
	for _, ch := range nw.byNode[a] {
		if (ch.from.id == a && ch.to.id == b) || (ch.from.id == b && ch.to.id == a) {
			ch.Break()
		}
	}
}

// Partitioned reports whether the link between a and b is cut.
func (nw *Network) Partitioned(a, b NodeID) bool { return nw.link(a, b).down }

func (nw *Network) attach(n *Node, ch *Channel) {
	if !nw.hooked[n.id] {
		nw.hooked[n.id] = true
		id := n.id
		n.OnCrash(func() { nw.crashed(id) })
	}
	list := nw.byNode[n.id]
	live := list[:0]
	for _, c := range list {
		if !c.broken {
			live = append(live, c)
		}
	}
	nw.byNode[n.id] = append(live, ch)
}

func (nw *Network) crashed(id NodeID) {
	for _, ch := range nw.byNode[id] {
		ch.Break()
	}
	nw.byNode[id] = nil
}

// Msg is what travels on a channel: a data buffer, which needs a credit and a buffer
// at the receiver, or an event (a barrier, end of partition), which needs neither.
type Msg struct {
	Payload  any   // the engine's buffer or event
	Size     int32 // bytes on the wire
	Event    bool  // an event rather than a data buffer
	Priority bool  // an event that overtakes queued buffers (unaligned barrier)
	Blocking bool  // the sender stops after this event until the receiver resumes it
	Backlog  int32 // data buffers queued behind this one at the sender when it left
	Seq      int64 // position in the channel's send order, set by Send
	// Overtakes: the event overtakes the data buffer transmitted just before it
	// when that buffer is still on the wire (a network that is not FIFO; only a
	// mutant's, never a correct protocol's).
	Overtakes bool
}

// GateListener is told about its gate's inputs. Calls happen inside simulator events.
type GateListener interface {
	// InputAvailable says a message arrived on a channel of the gate; priority is
	// true for a priority event.
	InputAvailable(g *Gate, priority bool)
	// ChannelBroken says a channel of the gate broke (crash or partition).
	ChannelBroken(ch *Channel)
}

// EventListener is an optional interface of a GateListener: it hears of every event
// message as it arrives, before it is polled.
type EventListener interface {
	EventArrived(ch *Channel, m Msg)
}

// EventSentListener is an optional interface of a PartitionListener: it hears of
// every event message as it leaves the sender.
type EventSentListener interface {
	EventSent(ch *Channel, m Msg)
}

// PartitionListener is told about its result partition. Calls happen inside
// simulator events.
type PartitionListener interface {
	// BufferAvailable says an output buffer was freed after Acquire had failed.
	BufferAvailable(p *Partition)
	// Upstream delivers a control value the receiver of ch sent back with SendUpstream.
	Upstream(ch *Channel, value int64)
	// ChannelBroken says a channel of the partition broke.
	ChannelBroken(ch *Channel)
}

// Partition is the sender side of a task's output: one channel (subpartition) per
// consumer and a pool of output buffers. A buffer is taken with Acquire and given back
// when its data leaves on the wire; a task without a free buffer is backpressured.
type Partition struct {
	nw       *Network
	node     *Node
	channels []*Channel
	poolSize int
	inUse    int
	waiting  bool
	listener PartitionListener
	// defaultPool sizes the pool as Flink does as channels are connected.
	defaultPool bool

	// MaxOverdraft is the largest number of buffers taken beyond the pool.
	MaxOverdraft int
}

// Node is the node the partition lives on.
func (p *Partition) Node() *Node { return p.node }

// NewPartition creates a result partition on node n with poolSize output buffers
// (0 means Flink's default: subpartitions × exclusive + floating, set by Connect).
func (nw *Network) NewPartition(n *Node, poolSize int, l PartitionListener) *Partition {
	return &Partition{nw: nw, node: n, poolSize: poolSize, listener: l, defaultPool: poolSize <= 0}
}

// Channels are the partition's subpartitions in connection order.
func (p *Partition) Channels() []*Channel { return p.channels }

// PoolSize is the number of output buffers of the partition.
func (p *Partition) PoolSize() int { return p.poolSize }

// InUse is the number of output buffers taken and not yet sent.
func (p *Partition) InUse() int { return p.inUse }

// Acquire takes an output buffer. When none is free it returns false and the
// listener hears BufferAvailable once one is.
func (p *Partition) Acquire() bool {
	if p.inUse < p.poolSize {
		p.inUse++
		return true
	}
	p.waiting = true
	return false
}

// Available reports whether Acquire would succeed now.
func (p *Partition) Available() bool { return p.inUse < p.poolSize }

// NotifyWhenAvailable asks for BufferAvailable once a buffer is free (at once if
// one is free now).
func (p *Partition) NotifyWhenAvailable() {
	if p.inUse < p.poolSize {
		if p.listener != nil {
			p.listener.BufferAvailable(p)
		}
		return
	}
	p.waiting = true
}

// AcquireOverdraft takes a buffer even when the pool is exhausted (Flink's overdraft
// buffers, which let a record that is being processed finish); a task should check
// Available before it starts on the next record.
func (p *Partition) AcquireOverdraft() {
	p.inUse++
	if p.inUse > p.poolSize {
		p.waiting = true
		if over := p.inUse - p.poolSize; over > p.MaxOverdraft {
			p.MaxOverdraft = over
		}
	}
}

// Release gives back a buffer taken with Acquire that will not be sent.
func (p *Partition) Release() {
	p.inUse--
	if p.waiting && p.inUse < p.poolSize {
		p.waiting = false
		if p.node.up && p.listener != nil {
			p.listener.BufferAvailable(p)
		}
	}
}

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

// Event kinds of channels and gates.
const (
	evDeliver        uint32 = iota + 1 // a message reaches the receiver
	evCredit                           // credit reaches the sender (A = credits)
	evResume                           // the receiver resumes a blocked sender
	evBufSize                          // a new buffer size reaches the sender (A = bytes)
	evUpstream                         // a control value reaches the sender (A)
	evBreak                            // the channel breaks
	evBrokenSender                     // the sender side hears of the break
	evBrokenReceiver                   // the receiver side hears of the break
	evDebloat                          // the gate recomputes its buffer size
)

// Channel connects one subpartition of a Partition to one input channel of a Gate.
type Channel struct {
	nw             *Network
	id             int64
	from, to       *Node
	fromInc, toInc uint32
	part           *Partition
	gate           *Gate
	partIndex      int
	gateIndex      int
	broken         bool
	sendSeq        int64
	fwd, rev       *link // the links towards the receiver and back
	holdBack       bool  // keep back the next data buffer (FIFO violation fault)
	holding        bool  // held carries a buffer kept back
	held           Msg
	elastic        bool // the receiver takes every buffer (SetElastic)

	// sender side
	sendQ   ring[Msg]
	credit  int
	blocked bool
	bufSize int
	dataQd  int // data buffers in sendQ

	// in flight to the receiver
	wire          ring[Msg]
	creditsOnWire int

	// receiver side
	recvQ    ring[Msg]
	excl     int
	floating int
	inUse    int
	backlog  int
	waits    bool // in the gate's queue for floating buffers
	inAvail  bool // in the gate's queue of channels with data

	// Sent counts data buffers put on the wire; SentBytes their bytes.
	Sent, SentBytes int64
	// Events counts events put on the wire.
	Events int64
}

// ID identifies the channel in its network.
func (ch *Channel) ID() int64 { return ch.id }

// Partition is the sender side.
func (ch *Channel) Partition() *Partition { return ch.part }

// Gate is the receiver side.
func (ch *Channel) Gate() *Gate { return ch.gate }

// PartitionIndex is the channel's subpartition number in its partition.
func (ch *Channel) PartitionIndex() int { return ch.partIndex }

// GateIndex is the channel's number in its gate.
func (ch *Channel) GateIndex() int { return ch.gateIndex }

// Broken reports whether the channel broke.
func (ch *Channel) Broken() bool { return ch.broken }

// Credit is the sender's current credit: data buffers it may send.
func (ch *Channel) Credit() int { return ch.credit }

// Blocked reports whether the sender waits for Resume after a blocking event.
func (ch *Channel) Blocked() bool { return ch.blocked }

// BufferSize is the size in bytes the sender should fill its buffers to.
func (ch *Channel) BufferSize() int { return ch.bufSize }

// QueuedOut is the number of messages waiting at the sender.
func (ch *Channel) QueuedOut() int { return ch.sendQ.len() }

// QueuedOutData is the number of data buffers waiting at the sender.
func (ch *Channel) QueuedOutData() int { return ch.dataQd }

// SetElastic makes the receiver take every data buffer that arrives, holding
// what its buffers cannot in memory, as an iteration head queues its feedback
// input: each arriving buffer gets a buffer of its own and its credit goes back
// at once, so the sender waits only for the link, never for the receiver. A
// cycle of channels under credit-based flow control could otherwise deadlock
// (every task of the loop blocked on a full output).
func (ch *Channel) SetElastic() { ch.elastic = true }

// Holding reports whether the channel keeps back a data buffer (a FIFO
// violation fault) that it has not delivered yet.
func (ch *Channel) Holding() bool { return ch.holding }

// QueuedIn is the number of messages delivered and not yet polled.
func (ch *Channel) QueuedIn() int { return ch.recvQ.len() }

// InUse is the number of receiver buffers holding data (queued or being processed).
func (ch *Channel) InUse() int { return ch.inUse }

// Buffers is the number of buffers the receiver holds: exclusive plus borrowed
// floating ones.
func (ch *Channel) Buffers() int { return ch.excl + ch.floating }

// OutstandingCredit is the credit granted and not yet used: held by the sender or
// on its way to it.
func (ch *Channel) OutstandingCredit() int { return ch.credit + ch.creditsOnWire }

// InFlight is the number of messages on the wire towards the receiver.
func (ch *Channel) InFlight() int { return ch.wire.len() }

// QueuedOutAt returns the i-th message waiting at the sender.
func (ch *Channel) QueuedOutAt(i int) Msg { return ch.sendQ.at(i) }

// QueuedInAt returns the i-th message delivered and not yet polled.
func (ch *Channel) QueuedInAt(i int) Msg { return ch.recvQ.at(i) }

// Send queues m at the sender and sends what credit allows.
func (ch *Channel) Send(m Msg) {
	if ch.broken {
		if !m.Event {
			ch.part.Release()
		}
		return
	}
	ch.sendSeq++
	m.Seq = ch.sendSeq
	if m.Priority {
		ch.sendQ.pushFront(m)
	} else {
		ch.sendQ.pushBack(m)
	}
	if !m.Event {
		ch.dataQd++
	}
	ch.pump()
}

// GrowQueuedTail adds bytes to the last queued message when it is the data buffer
// payload and has not left yet, as Flink keeps writing into a flushed buffer that
// still waits for credit. It reports whether it did.
func (ch *Channel) GrowQueuedTail(payload any, bytes int32) bool {
	n := ch.sendQ.len()
	if ch.broken || n == 0 {
		return false
	}
	m := ch.sendQ.at(n - 1)
	if m.Event || m.Payload != payload {
		return false
	}
	m.Size += bytes
	ch.sendQ.set(n-1, m)
	return true
}

// HoldBack makes the channel keep back its next data buffer and send it after the
// one that follows, breaking FIFO order on purpose (an assumption-breaking fault).
func (ch *Channel) HoldBack() { ch.holdBack = true }

// SwapQueuedData exchanges the last two data buffers waiting at the sender, breaking
// FIFO order on purpose (an assumption-breaking fault). It reports whether it did.
func (ch *Channel) SwapQueuedData() bool {
	last, prev := -1, -1
	for i := ch.sendQ.len() - 1; i >= 0 && prev < 0; i-- {
		if ch.sendQ.at(i).Event {
			continue
		}
		if last < 0 {
			last = i
		} else {
			prev = i
		}
	}
	if prev < 0 {
		return false
	}
	a, b := ch.sendQ.at(prev), ch.sendQ.at(last)
	a.Seq, b.Seq = b.Seq, a.Seq
	ch.sendQ.set(prev, b)
	ch.sendQ.set(last, a)
	return true
}

// SendPriority puts the event m at the front of the sender's queue, ahead of every
// queued buffer, and appends the data buffers it overtook to dst (they are still sent
// after it: they are the output channel state of an unaligned checkpoint).
func (ch *Channel) SendPriority(m Msg, dst []Msg) []Msg {
	m.Priority, m.Event = true, true
	for i := 0; i < ch.sendQ.len(); i++ {
		if q := ch.sendQ.at(i); !q.Event {
			dst = append(dst, q)
		}
	}
	ch.Send(m)
	return dst
}

// Prioritize moves the first queued event for which match is true to the front of
// the sender's queue, as a priority event, and appends the data buffers it overtook
// to dst. It reports whether such an event was queued.
func (ch *Channel) Prioritize(match func(Msg) bool, dst []Msg) ([]Msg, bool) {
	for i := 0; i < ch.sendQ.len(); i++ {
		q := ch.sendQ.at(i)
		if !q.Event || !match(q) {
			continue
		}
		for j := 0; j < i; j++ {
			if o := ch.sendQ.at(j); !o.Event {
				dst = append(dst, o)
			}
		}
		ch.sendQ.remove(i)
		q.Priority, q.Blocking = true, false
		ch.sendQ.pushFront(q)
		ch.pump()
		return dst, true
	}
	return dst, false
}

// PrioritizeQueued moves the first delivered, not yet polled event for which match
// is true to the front of the receiver's queue and appends the data buffers it
// overtook to dst. It reports whether such an event was queued.
func (ch *Channel) PrioritizeQueued(match func(Msg) bool, dst []Msg) ([]Msg, bool) {
	for i := 0; i < ch.recvQ.len(); i++ {
		q := ch.recvQ.at(i)
		if !q.Event || !match(q) {
			continue
		}
		for j := 0; j < i; j++ {
			if o := ch.recvQ.at(j); !o.Event {
				dst = append(dst, o)
			}
		}
		ch.recvQ.remove(i)
		q.Priority = true
		ch.recvQ.pushFront(q)
		ch.gate.prio.pushBack(ch)
		return dst, true
	}
	return dst, false
}

// pump sends queued messages while the channel is open: events always, data buffers
// only with credit; a blocking event stops the sender until Resume.
func (ch *Channel) pump() {
	for !ch.broken && !ch.blocked && ch.sendQ.len() > 0 {
		m := ch.sendQ.at(0)
		if !m.Event {
			if ch.credit <= 0 {
				return
			}
			ch.credit--
			ch.dataQd--
		}
		ch.sendQ.popFront()
		m.Backlog = int32(ch.dataQd)
		if !m.Event && ch.holdBack {
			ch.holdBack = false
			ch.held, ch.holding = m, true
			ch.part.Release()
			continue
		}
		ch.transmit(m)
		if ch.holding && !m.Event {
			ch.holding = false
			ch.transmit(ch.held)
			ch.Sent++
			ch.SentBytes += int64(ch.held.Size)
			ch.held = Msg{}
		}
		if m.Event {
			ch.Events++
			if m.Blocking {
				ch.blocked = true
			}
			if el, ok := ch.part.listener.(EventSentListener); ok {
				el.EventSent(ch, m)
			}
		} else {
			ch.Sent++
			ch.SentBytes += int64(m.Size)
			ch.part.Release()
		}
	}
}

func (ch *Channel) transmit(m Msg) {
	at := ch.nw.send(ch.fwd, int(m.Size))
	if n := ch.wire.len(); m.Event && m.Overtakes && n > 0 && !ch.wire.at(n-1).Event {
		// delivered in the slot of the buffer before it, which takes this one's
		last := ch.wire.at(n - 1)
		ch.wire.set(n-1, m)
		m = last
	}
	ch.wire.pushBack(m)
	ch.to.Schedule(at, ch, evDeliver, ch.Sent, int64(m.Size))
}

// grant gives k credits to the sender over the reverse link.
func (ch *Channel) grant(k int) {
	if k <= 0 || ch.broken {
		return
	}
	ch.creditsOnWire += k
	at := ch.nw.send(ch.rev, 0)
	ch.from.Schedule(at, ch, evCredit, int64(k), 0)
}

// Resume lets a sender blocked by a blocking event send again (Flink's
// ResumeConsumption); it travels upstream like a credit.
func (ch *Channel) Resume() {
	if ch.broken {
		return
	}
	at := ch.nw.send(ch.rev, 0)
	ch.from.Schedule(at, ch, evResume, 0, 0)
}

// SendUpstream sends a control value from the receiver back to the sender's
// partition listener (used, e.g., to ask for a queued barrier to be prioritised).
func (ch *Channel) SendUpstream(value int64) {
	if ch.broken {
		return
	}
	at := ch.nw.send(ch.rev, 0)
	ch.from.Schedule(at, ch, evUpstream, value, 0)
}

// Break breaks the channel: queued and in-flight messages are lost and both ends hear
// of it (if their node is still up) after the link's latency.
func (ch *Channel) Break() {
	if ch.broken {
		return
	}
	ch.broken = true
	ch.sendQ.clear()
	ch.wire.clear()
	ch.recvQ.clear()
	ch.dataQd, ch.credit, ch.creditsOnWire = 0, 0, 0
	ch.nw.w.TraceNote(1, uint64(ch.id), 0)
	d := ch.fwd.cfg.Latency
	ch.nw.w.After(d, ch, evBrokenSender, 0, 0)
	ch.nw.w.After(d, ch, evBrokenReceiver, 0, 0)
}

// Handle implements Handler for the channel's wire events.
func (ch *Channel) Handle(ev Event) {
	switch ev.Kind {
	case evBreak:
		ch.Break()
		return
	case evBrokenSender:
		if ch.from.up && ch.from.inc == ch.fromInc && ch.part.listener != nil {
			ch.part.listener.ChannelBroken(ch)
		}
		return
	case evBrokenReceiver:
		if ch.to.up && ch.to.inc == ch.toInc && ch.gate.listener != nil {
			ch.gate.listener.ChannelBroken(ch)
		}
		return
	}
	if ch.broken {
		return
	}
	switch ev.Kind {
	case evDeliver:
		ch.deliver(ch.wire.popFront())
	case evCredit:
		ch.creditsOnWire -= int(ev.A)
		ch.credit += int(ev.A)
		ch.pump()
	case evResume:
		ch.blocked = false
		ch.pump()
	case evBufSize:
		ch.bufSize = int(ev.A)
	case evUpstream:
		if ch.part.listener != nil {
			ch.part.listener.Upstream(ch, ev.A)
		}
	}
}

// deliver puts an arrived message in the receiver's queue and asks for floating
// buffers when the sender's backlog exceeds the channel's buffers.
func (ch *Channel) deliver(m Msg) {
	g := ch.gate
	if !m.Event && ch.elastic {
		ch.excl++ // a buffer of its own (given back by Recycle)
		ch.inUse++
		ch.backlog = int(m.Backlog)
		ch.grant(1)
	} else if !m.Event {
		ch.inUse++
		ch.backlog = int(m.Backlog)
		ch.requestFloating()
	}
	if m.Priority {
		i := 0
		for i < ch.recvQ.len() && ch.recvQ.at(i).Priority {
			i++
		}
		ch.recvQ.insert(i, m)
		g.prio.pushBack(ch)
	} else {
		ch.recvQ.pushBack(m)
	}
	if !ch.inAvail {
		ch.inAvail = true
		g.avail.pushBack(ch)
	}
	if g.listener != nil {
		if m.Event {
			if el, ok := g.listener.(EventListener); ok {
				el.EventArrived(ch, m)
			}
		}
		g.listener.InputAvailable(g, m.Priority)
	}
}

// requestFloating borrows floating buffers until the channel's free buffers cover
// the sender's backlog plus its exclusive buffers (Flink's numRequiredBuffers),
// granting one credit per buffer.
func (ch *Channel) requestFloating() {
	g := ch.gate
	need := ch.backlog + ch.excl - (ch.excl + ch.floating - ch.inUse)
	k := need
	if k > g.floatingFree {
		k = g.floatingFree
	}
	if k > 0 {
		g.floatingFree -= k
		ch.floating += k
		ch.grant(k)
	}
	if need > k && !ch.waits {
		ch.waits = true
		g.waiting.pushBack(ch)
	}
}

// Recycle frees the receiver buffer of one polled data buffer once the task is done
// with it: a floating buffer the channel no longer needs goes back to the gate,
// otherwise the sender gets the credit back.
func (ch *Channel) Recycle() {
	if ch.broken {
		return
	}
	ch.inUse--
	if ch.elastic {
		ch.excl-- // its credit went back on delivery
		return
	}
	free := ch.excl + ch.floating - ch.inUse
	if ch.floating > 0 && free > ch.backlog+ch.excl {
		ch.floating--
		ch.gate.returnFloating()
		return
	}
	ch.grant(1)
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
