package sim

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
