package sim

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
