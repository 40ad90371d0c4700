package sim

import "math/bits"

// Handler receives the events scheduled for it. Kind and the arguments of the event
// mean whatever the handler chose when it scheduled them.
type Handler interface {
	Handle(ev Event)
}

// NodeID names a simulated node. The zero NodeID is the world itself: its events are
// never dropped by a crash.
type NodeID int32

// Event is one entry of the event queue. Events of a node carry the incarnation that
// scheduled them and are dropped when that incarnation has crashed.
type Event struct {
	At     Time
	Target Handler
	Kind   uint32
	Inc    uint32
	Node   NodeID
	A, B   int64
	seq    uint64
}

// Seq is the scheduling sequence number of the event; events at the same time fire in
// Seq order.
func (e *Event) Seq() uint64 { return e.seq }

// queue is a radix heap of events ordered by (At, seq). Virtual time never goes
// back, so the queue is monotone: an event lands in the bucket named by the highest
// bit in which its time differs from the last minimum, and a pop only redistributes
// the lowest non-empty bucket. Pushes cost a few instructions and pops are amortised
// O(log range) with almost no unpredictable branches, which beats comparison heaps
// on a simulator's workload. Payloads live in a slab recycled through a free list, so
// nothing allocates once the arrays have grown.
type queue struct {
	last    Time       // time of the current minimum; bucket 0 holds keys at last
	head0   int        // next key of bucket 0 to pop
	n       int        // number of queued events
	nonzero uint64     // bit i-1 set when bucket i (1..64) is non-empty
	buckets [65][]qkey // bucket 0 is sorted by ord and consumed from head0
	slab    []Event
	free    []uint32
}

// qkey orders one event: at first, then the scheduling sequence number in the high 40
// bits of ord, the slab slot in the low 24.
type qkey struct {
	at  Time
	ord uint64
}

const slotBits = 24
const slotMask = 1<<slotBits - 1

func (q *queue) len() int { return q.n }

func (q *queue) bucket(at Time) int { return bits.Len64(uint64(at ^ q.last)) }

func (q *queue) push(e Event) {
	var slot uint32
	if n := len(q.free); n > 0 {
		slot = q.free[n-1]
		q.free = q.free[:n-1]
		q.slab[slot] = e
	} else {
		slot = uint32(len(q.slab))
		if slot > slotMask {
			panic("sim: more than 16M pending events")
		}
		q.slab = append(q.slab, e)
	}
	if e.At < q.last {
		q.rebase(e.At)
	}
	q.insert(qkey{at: e.At, ord: e.seq<<slotBits | uint64(slot)})
	q.n++
}

func (q *queue) insert(k qkey) {
	b := q.bucket(k.at)
	q.buckets[b] = append(q.buckets[b], k)
	if b > 0 {
		q.nonzero |= 1 << (b - 1)
	}
}

// rebase lowers the minimum to at and re-files every key. It is needed only when the
// clock stopped short of the queue's minimum (Run with an early limit) and an event
// is then scheduled before it.
func (q *queue) rebase(at Time) {
	q.last = at
	var keep [65][]qkey
	for b := range q.buckets {
		keys := q.buckets[b]
		if b == 0 {
			keys = keys[q.head0:]
		}
		keep[b] = keys
	}
	for b := range q.buckets {
		q.buckets[b] = q.buckets[b][:0:0]
	}
	q.head0, q.nonzero = 0, 0
	for b := range keep {
		for _, k := range keep[b] {
			q.insert(k)
		}
	}
	sortByOrd(q.buckets[0])
}

// settle makes bucket 0 non-empty by redistributing the lowest non-empty bucket around
// its minimum time. The queue must not be empty.
func (q *queue) settle() {
	if q.head0 < len(q.buckets[0]) {
		return
	}
	q.buckets[0] = q.buckets[0][:0]
	q.head0 = 0
	b := bits.TrailingZeros64(q.nonzero) + 1
	keys := q.buckets[b]
	min := keys[0].at
	for _, k := range keys[1:] {
		if k.at < min {
			min = k.at
		}
	}
	q.last = min
	q.buckets[b] = keys[:0]
	q.nonzero &^= 1 << (b - 1)
	for _, k := range keys {
		q.insert(k)
	}
	sortByOrd(q.buckets[0])
}

// sortByOrd is an insertion sort: bucket 0 rarely holds more than a few keys.
func sortByOrd(keys []qkey) {
	for i := 1; i < len(keys); i++ {
		k := keys[i]
		j := i
		for j > 0 && keys[j-1].ord > k.ord {
			keys[j] = keys[j-1]
			j--
		}
		keys[j] = k
	}
}

// firstAt reports whether the first event is at t, where t is at or before it. It
// settles the queue only when the cached minimum is before t: moving the minimum
// ahead of the clock would make the next push for a time in between rebase.
func (q *queue) firstAt(t Time) bool {
	switch {
	case q.n == 0:
		return false
	case q.last == t:
		return q.head0 < len(q.buckets[0])
	case q.last > t:
		return false
	}
	return q.peekAt() == t
}

// peekAt is the time of the first event; the queue must not be empty.
func (q *queue) peekAt() Time {
	q.settle()
	return q.last
}

// pop removes and returns the first event; the queue must not be empty.
func (q *queue) pop() Event {
	q.settle()
	k := q.buckets[0][q.head0]
	q.head0++
	q.n--
	slot := uint32(k.ord & slotMask)
	e := q.slab[slot]
	q.slab[slot] = Event{}
	q.free = append(q.free, slot)
	return e
}
