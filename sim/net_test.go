package sim

import (
	"testing"

	"pgregory.net/rapid"
)

// testSender fills its partition's channels round robin whenever a buffer is free.
type testSender struct {
	p       *Partition
	next    int
	left    int // data buffers still to send
	size    int32
	events  int // an event every this many buffers (0: none)
	n       int
	broken  int
	upstrem []int64
}

func (s *testSender) fill() {
	for s.left > 0 && s.p.Acquire() {
		ch := s.p.channels[s.next%len(s.p.channels)]
		s.next++
		s.left--
		s.n++
		ch.Send(Msg{Size: s.size})
		if s.events > 0 && s.n%s.events == 0 {
			ch.Send(Msg{Event: true, Size: 16})
		}
	}
}
func (s *testSender) BufferAvailable(*Partition)   { s.fill() }
func (s *testSender) Upstream(_ *Channel, v int64) { s.upstrem = append(s.upstrem, v) }
func (s *testSender) ChannelBroken(*Channel)       { s.broken++ }
func (r *testReceiver) ChannelBroken(*Channel)     { r.broken++ }
func (r *testReceiver) InputAvailable(*Gate, bool) { r.wake() }
func (r *testReceiver) Handle(ev Event)            { r.busy = false; r.consume(ev) }
func (r *testReceiver) wake() {
	if !r.busy {
		r.busy = true
		d := r.cost()
		if r.perByte > 0 && r.g.HasInput() {
			// cost proportional to the bytes of the next buffer, as records would
			ch := r.g.avail.at(0)
			d = Duration(float64(ch.recvQ.at(0).Size) * float64(r.perByte))
		}
		r.node.After(d, r, 1, 0, 0)
	}
}

// testReceiver polls one message per processing step, costing a random time.
type testReceiver struct {
	g       *Gate
	node    *Node
	rnd     *Rand
	maxCost Duration
	perByte Duration
	busy    bool
	last    map[int64]int64 // channel id -> last Seq seen
	data    int
	events  int
	broken  int
	check   func()
}

func (r *testReceiver) cost() Duration { return r.rnd.Jitter(r.maxCost) }

func (r *testReceiver) consume(Event) {
	ch, m, ok := r.g.Poll()
	if !ok {
		return
	}
	if m.Seq <= r.last[ch.id] {
		panic("FIFO violated")
	}
	r.last[ch.id] = m.Seq
	if m.Event {
		r.events++
	} else {
		r.data++
		ch.Recycle()
	}
	if r.check != nil {
		r.check()
	}
	if r.g.HasInput() || r.g.prio.len() > 0 {
		r.wake()
	}
}

// creditInvariant checks that every receiver buffer is accounted for: promised as
// credit (held by the sender or on the wire), carrying data on the wire, or in use.
func creditInvariant(t interface{ Fatalf(string, ...any) }, ch *Channel) {
	dataOnWire := 0
	for i := 0; i < ch.wire.len(); i++ {
		if !ch.wire.at(i).Event {
			dataOnWire++
		}
	}
	if ch.credit < 0 || ch.creditsOnWire < 0 {
		t.Fatalf("negative credit: sender %d, on wire %d", ch.credit, ch.creditsOnWire)
	}
	if got, want := ch.credit+ch.creditsOnWire+dataOnWire+ch.inUse, ch.excl+ch.floating; !ch.broken && got != want {
		t.Fatalf("channel %d: credit %d + on wire %d + data on wire %d + in use %d = %d, buffers %d",
			ch.id, ch.credit, ch.creditsOnWire, dataOnWire, ch.inUse, got, want)
	}
}

func TestChannelProperties(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		cfg := NetConfig{
			Remote: LinkConfig{
				Latency:   Duration(rapid.Int64Range(0, int64(5*Millisecond)).Draw(rt, "latency")),
				Jitter:    Duration(rapid.Int64Range(0, int64(5*Millisecond)).Draw(rt, "jitter")),
				Bandwidth: rapid.SampledFrom([]int64{0, 1 << 20, 1 << 27}).Draw(rt, "bandwidth"),
			},
			ExclusivePerChannel: rapid.IntRange(1, 4).Draw(rt, "exclusive"),
			FloatingPerGate:     rapid.IntRange(-1, 8).Draw(rt, "floating"),
		}
		w := NewWorld(rapid.Uint64().Draw(rt, "seed"))
		nw := NewNetwork(w, cfg)
		senders := rapid.IntRange(1, 3).Draw(rt, "senders")
		chans := rapid.IntRange(1, 3).Draw(rt, "channels")
		rn := w.AddNode("receiver")
		recv := &testReceiver{node: rn, rnd: w.Rand("recv"), maxCost: Duration(rapid.Int64Range(0, int64(2*Millisecond)).Draw(rt, "cost")), last: map[int64]int64{}}
		recv.g = nw.NewGate(rn, recv)
		var all []*Channel
		var ss []*testSender
		total := 0
		for i := 0; i < senders; i++ {
			n := w.AddNode("sender")
			s := &testSender{left: rapid.IntRange(0, 60).Draw(rt, "buffers"), size: 1024, events: rapid.IntRange(0, 5).Draw(rt, "events")}
			total += s.left
			s.p = nw.NewPartition(n, 0, s)
			for c := 0; c < chans; c++ {
				all = append(all, nw.Connect(s.p, recv.g))
			}
			ss = append(ss, s)
		}
		recv.check = func() {
			for _, ch := range all {
				creditInvariant(rt, ch)
			}
		}
		for _, s := range ss {
			s.fill()
		}
		for w.Step() {
			recv.check()
		}
		if recv.data != total {
			rt.Fatalf("received %d data buffers, sent %d", recv.data, total)
		}
		for _, ch := range all {
			if ch.inUse != 0 || ch.QueuedOut() != 0 {
				rt.Fatalf("channel %d not drained: in use %d, queued %d", ch.id, ch.inUse, ch.QueuedOut())
			}
		}
		if recv.g.floatingFree+sumFloating(all) != nw.Config().FloatingPerGate {
			rt.Fatalf("floating buffers leaked: free %d + lent %d != %d", recv.g.floatingFree, sumFloating(all), nw.Config().FloatingPerGate)
		}
	})
}

func sumFloating(chs []*Channel) int {
	n := 0
	for _, c := range chs {
		n += c.floating
	}
	return n
}

func TestFIFOUnderJitter(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		w := NewWorld(rapid.Uint64().Draw(rt, "seed"))
		nw := NewNetwork(w, NetConfig{Remote: LinkConfig{Latency: Millisecond, Jitter: 50 * Millisecond}})
		a, b := w.AddNode("a"), w.AddNode("b")
		var arrivals []Time
		n := rapid.IntRange(1, 200).Draw(rt, "n")
		for i := 0; i < n; i++ {
			if rapid.Bool().Draw(rt, "advance") {
				w.Run(w.Now().Add(Duration(rapid.Int64Range(0, int64(3*Millisecond)).Draw(rt, "dt"))))
			}
			at := nw.transmit(a.ID(), b.ID(), rapid.IntRange(0, 4096).Draw(rt, "size"))
			if len(arrivals) > 0 && at < arrivals[len(arrivals)-1] {
				rt.Fatalf("message %d arrives at %v, before message %d at %v", i, at, i-1, arrivals[len(arrivals)-1])
			}
			arrivals = append(arrivals, at)
		}
	})
}

func TestBackpressureStallsSender(t *testing.T) {
	w := NewWorld(1)
	nw := NewNetwork(w, NetConfig{Remote: LinkConfig{Latency: Millisecond}})
	sn, rn := w.AddNode("s"), w.AddNode("r")
	s := &testSender{left: 1000, size: 1000}
	s.p = nw.NewPartition(sn, 0, s)
	r := &testReceiver{node: rn, rnd: w.Rand("r"), last: map[int64]int64{}}
	r.g = nw.NewGate(rn, r)
	r.busy = true // the receiver never consumes
	ch := nw.Connect(s.p, r.g)
	s.fill()
	w.RunUntilIdle()
	// the receiver holds exclusive + floating buffers; the sender's pool is full.
	if got, want := ch.inUse, 2+8; got != want {
		t.Fatalf("receiver holds %d buffers, want %d", got, want)
	}
	if got, want := s.p.InUse(), s.p.PoolSize(); got != want {
		t.Fatalf("sender pool in use %d, want full %d", got, want)
	}
	if ch.credit != 0 {
		t.Fatalf("sender has credit %d with a full receiver", ch.credit)
	}
	sent := s.n
	w.Run(w.Now().Add(Second))
	if s.n != sent {
		t.Fatalf("sender went on sending without credit")
	}
}

func TestBlockingEventAndResume(t *testing.T) {
	w := NewWorld(1)
	nw := NewNetwork(w, NetConfig{Remote: LinkConfig{Latency: Millisecond}})
	sn, rn := w.AddNode("s"), w.AddNode("r")
	s := &testSender{}
	s.p = nw.NewPartition(sn, 0, s)
	r := &testReceiver{node: rn, rnd: w.Rand("r"), last: map[int64]int64{}, busy: true}
	r.g = nw.NewGate(rn, r)
	ch := nw.Connect(s.p, r.g)
	w.RunUntilIdle()
	ch.Send(Msg{Event: true, Blocking: true})
	s.p.Acquire()
	ch.Send(Msg{Size: 100})
	w.RunUntilIdle()
	if !ch.Blocked() || ch.QueuedOut() != 1 || ch.QueuedIn() != 1 {
		t.Fatalf("blocked=%v queued out %d in %d; want blocked with the data held back", ch.Blocked(), ch.QueuedOut(), ch.QueuedIn())
	}
	ch.Resume()
	w.RunUntilIdle()
	if ch.Blocked() || ch.QueuedOut() != 0 || ch.QueuedIn() != 2 {
		t.Fatalf("after resume: blocked=%v queued out %d in %d", ch.Blocked(), ch.QueuedOut(), ch.QueuedIn())
	}
}

func TestPriorityOvertakes(t *testing.T) {
	w := NewWorld(1)
	nw := NewNetwork(w, NetConfig{Remote: LinkConfig{Latency: Millisecond}, ExclusivePerChannel: 1, FloatingPerGate: -1})
	sn, rn := w.AddNode("s"), w.AddNode("r")
	s := &testSender{}
	s.p = nw.NewPartition(sn, 10, s)
	r := &testReceiver{node: rn, rnd: w.Rand("r"), last: map[int64]int64{}, busy: true}
	r.g = nw.NewGate(rn, r)
	ch := nw.Connect(s.p, r.g)
	for i := 0; i < 4; i++ {
		s.p.Acquire()
		ch.Send(Msg{Size: 100, Payload: i})
	}
	w.RunUntilIdle() // one buffer delivered (one credit), three queued at the sender
	over := ch.SendPriority(Msg{Payload: "barrier"}, nil)
	if len(over) != 3 {
		t.Fatalf("barrier overtook %d buffers at the sender, want 3", len(over))
	}
	w.RunUntilIdle()
	_, m, _ := r.g.Poll()
	if m.Payload != "barrier" {
		t.Fatalf("first polled %v, want the priority barrier ahead of the delivered buffer", m.Payload)
	}
}

func TestCrashBreaksChannelsBothEnds(t *testing.T) {
	w := NewWorld(1)
	nw := NewNetwork(w, NetConfig{Remote: LinkConfig{Latency: Millisecond}})
	sn, rn, other := w.AddNode("s"), w.AddNode("r"), w.AddNode("o")
	s := &testSender{left: 100, size: 10}
	s.p = nw.NewPartition(sn, 0, s)
	r := &testReceiver{node: rn, rnd: w.Rand("r"), last: map[int64]int64{}}
	r.g = nw.NewGate(rn, r)
	ch := nw.Connect(s.p, r.g)
	s2 := &testSender{}
	s2.p = nw.NewPartition(other, 0, s2)
	ch2 := nw.Connect(s2.p, r.g)
	s.fill()
	w.Run(Time(2 * Millisecond))
	sn.Crash()
	w.RunUntilIdle()
	if !ch.Broken() || ch2.Broken() {
		t.Fatalf("crash of the sender: broken=%v (want true), unrelated channel broken=%v", ch.Broken(), ch2.Broken())
	}
	if r.broken != 1 || s.broken != 0 {
		t.Fatalf("receiver heard %d breaks (want 1); crashed sender heard %d (want 0)", r.broken, s.broken)
	}
	nw.Partition(other.ID(), rn.ID(), true)
	w.RunUntilIdle()
	if !ch2.Broken() || s2.broken != 1 || r.broken != 2 {
		t.Fatalf("partition: broken=%v, sender heard %d, receiver %d", ch2.Broken(), s2.broken, r.broken)
	}
}

func TestDebloatShrinksBuffers(t *testing.T) {
	w := NewWorld(1)
	nw := NewNetwork(w, NetConfig{Remote: LinkConfig{Latency: Millisecond},
		Debloat: DebloatConfig{Enabled: true, Target: 300 * Millisecond}})
	sn, rn := w.AddNode("s"), w.AddNode("r")
	s := &testSender{left: 1 << 30}
	s.p = nw.NewPartition(sn, 0, s)
	// 10 µs per byte: 100 kB/s, so 300 ms of in-flight data is about 30 kB, a tenth
	// of what ten full 32 KiB buffers hold.
	r := &testReceiver{node: rn, rnd: w.Rand("r"), perByte: 10 * Microsecond, last: map[int64]int64{}}
	r.g = nw.NewGate(rn, r)
	ch := nw.Connect(s.p, r.g)
	// the sender fills buffers to the size the receiver asks for.
	s.size = int32(ch.BufferSize())
	fill := func() {
		s.size = int32(ch.BufferSize())
		s.fill()
	}
	fill()
	for i := 0; i < 400; i++ {
		w.Run(w.Now().Add(50 * Millisecond))
		fill()
	}
	// in-flight data should approach 300 ms of consumption.
	inflight := float64(ch.inUse) * float64(ch.BufferSize())
	rate := float64(r.g.ConsumedBytes) / w.Now().Seconds()
	if ch.BufferSize() >= DefaultSegmentSize {
		t.Fatalf("buffer size stayed at %d", ch.BufferSize())
	}
	if got := inflight / rate; got < 0.1 || got > 0.9 {
		t.Fatalf("in-flight data is %.0f bytes = %.2f s of consumption, want about 0.3 s", inflight, got)
	}
}

// steadyChannel is a producer filling one credit-based channel between two nodes
// and a receiver that recycles each buffer as soon as it arrives, run until 1,000
// buffers went through.
func steadyChannel() (*World, *benchReceiver) {
	w := NewWorld(1)
	nw := NewNetwork(w, NetConfig{Remote: LinkConfig{Latency: 100 * Microsecond}})
	sn, rn := w.AddNode("s"), w.AddNode("r")
	s := &testSender{left: 1 << 62, size: DefaultSegmentSize}
	s.p = nw.NewPartition(sn, 0, s)
	r := &benchReceiver{}
	r.g = nw.NewGate(rn, r)
	nw.Connect(s.p, r.g)
	s.fill()
	for r.n < 1000 {
		w.Step()
	}
	return w, r
}

// BenchmarkChannel moves data buffers through one credit-based channel between two
// nodes; the receiver recycles each buffer as soon as it arrives.
func BenchmarkChannel(b *testing.B) {
	w, r := steadyChannel()
	b.ReportAllocs()
	b.ResetTimer()
	start, ev := r.n, w.Fired()
	for r.n-start < b.N {
		w.Step()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "buffers/s")
	b.ReportMetric(float64(w.Fired()-ev)/float64(b.N), "events/buffer")
}

type benchReceiver struct {
	g *Gate
	n int
}

func (r *benchReceiver) InputAvailable(g *Gate, _ bool) {
	for {
		ch, m, ok := g.Poll()
		if !ok {
			return
		}
		if !m.Event {
			r.n++
			ch.Recycle()
		}
	}
}
func (r *benchReceiver) ChannelBroken(*Channel) {}

// TestChannelSteadyStateDoesNotAllocate: moving buffers through a credit-based
// channel allocates nothing once the queues have grown.
func TestChannelSteadyStateDoesNotAllocate(t *testing.T) {
	w, _ := steadyChannel()
	if a := testing.AllocsPerRun(1000, func() { w.Step() }); a != 0 {
		t.Fatalf("%v allocations per event in steady state", a)
	}
}

// An elastic channel's receiver takes every buffer: a receiver that never
// consumes does not stall the sender, and recycling gives the buffers back.
func TestElasticChannelNeverStallsSender(t *testing.T) {
	w := NewWorld(1)
	nw := NewNetwork(w, NetConfig{Remote: LinkConfig{Latency: Millisecond}})
	sn, rn := w.AddNode("s"), w.AddNode("r")
	s := &testSender{left: 1000, size: 1000}
	s.p = nw.NewPartition(sn, 0, s)
	r := &testReceiver{node: rn, rnd: w.Rand("r"), last: map[int64]int64{}}
	r.g = nw.NewGate(rn, r)
	r.busy = true // the receiver never consumes
	ch := nw.Connect(s.p, r.g)
	ch.SetElastic()
	s.fill()
	w.RunUntilIdle()
	if s.left != 0 || ch.QueuedIn() != 1000 || ch.InUse() != 1000 {
		t.Fatalf("sender has %d left, receiver queues %d (%d in use): want all 1000 taken", s.left, ch.QueuedIn(), ch.InUse())
	}
	for i := 0; i < 1000; i++ {
		if _, _, ok := r.g.Poll(); !ok {
			t.Fatalf("poll %d: nothing queued", i)
		}
		ch.Recycle()
	}
	w.RunUntilIdle()
	if ch.InUse() != 0 || ch.Buffers() != nw.cfg.ExclusivePerChannel || ch.OutstandingCredit() != nw.cfg.ExclusivePerChannel {
		t.Fatalf("after recycling: %d in use, %d buffers, %d credit; want 0, %d, %d", ch.InUse(), ch.Buffers(), ch.OutstandingCredit(),
			nw.cfg.ExclusivePerChannel, nw.cfg.ExclusivePerChannel)
	}
}
