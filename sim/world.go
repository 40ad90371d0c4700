package sim

import "fmt"

// World is one simulated run: a virtual clock, an event queue, the nodes, the random
// streams and the trace hash. A World is driven by one goroutine and never starts any.
type World struct {
	now Time
	seq uint64
	q   queue
	// nowQ holds, in scheduling order, the events scheduled for the current time
	// while the clock was already at it; nowHead is the first not yet fired. They
	// come after every queued event at the current time (those were scheduled
	// before the clock reached it, so with smaller sequence numbers) and before any
	// later one: the order of (At, seq) exactly, without the queue's push and pop
	// for the quarter to third of a run's events that a handler schedules for now
	// (a mailbox run of a task that is not busy, a wake).
	nowQ    []Event
	nowHead int
	nodes   []*Node
	seed    uint64
	streams map[string]*Rand
	trace   Trace
	stopped bool
	fired   uint64
	dropped uint64
	// samplers observe the world at period boundaries (see AddSampler);
	// nextSample is the earliest time one of them is due.
	samplers   []*Sampler
	nextSample Time
	sampling   Time // the sample being taken, so a sampler can re-arm itself
}

// NewWorld returns an empty world whose every random draw derives from seed.
func NewWorld(seed uint64) *World {
	w := &World{seed: seed, streams: map[string]*Rand{}, nextSample: Never}
	return w
}

// Now is the current virtual time.
func (w *World) Now() Time { return w.now }

// Seed is the root seed of the run.
func (w *World) Seed() uint64 { return w.seed }

// Fired is the number of events handled so far.
func (w *World) Fired() uint64 { return w.fired }

// Scheduled is the number of events scheduled so far. With Fired it identifies a
// moment inside an event: two moments with both equal are indistinguishable to
// whatever is scheduled from then on.
func (w *World) Scheduled() uint64 { return w.seq }

// Dropped is the number of events discarded because their node incarnation crashed.
func (w *World) Dropped() uint64 { return w.dropped }

// Pending is the number of events in the queue, including ones that will be dropped.
func (w *World) Pending() int { return w.pending() }

func (w *World) pending() int { return w.q.len() + len(w.nowQ) - w.nowHead }

// Push schedules ev, stamping it with the next sequence number. It panics when ev is
// in the past: that is always a bug in the caller.
func (w *World) Push(ev Event) {
	if ev.At < w.now {
		panic(fmt.Sprintf("sim: event of kind %d scheduled at %v, before now %v", ev.Kind, ev.At, w.now))
	}
	w.seq++
	ev.seq = w.seq
	if ev.At == w.now {
		w.nowQ = append(w.nowQ, ev)
		return
	}
	w.q.push(ev)
}

// Schedule schedules a world event (one no crash can cancel) for h at time at.
func (w *World) Schedule(at Time, h Handler, kind uint32, a, b int64) {
	w.Push(Event{At: at, Target: h, Kind: kind, A: a, B: b})
}

// After schedules a world event for h d after now.
func (w *World) After(d Duration, h Handler, kind uint32, a, b int64) {
	w.Schedule(w.now.Add(d), h, kind, a, b)
}

// Sampler is an observer that a World calls at every multiple of its period (see
// AddSampler).
type Sampler struct {
	w      *World
	fn     func(at Time)
	period Duration
	next   Time
}

// AddSampler makes the world call fn at every multiple of period after now, at the
// moment the clock passes it: fn sees the state between the events before and after
// that time. Sampling is observation only: it is not an event, is not part of the
// trace, and fn must not schedule events or change the simulation. Samplers due at
// the same time run in the order they were added.
func (w *World) AddSampler(period Duration, fn func(at Time)) *Sampler {
	sp := &Sampler{w: w, fn: fn}
	w.samplers = append(w.samplers, sp)
	sp.SetPeriod(period)
	return sp
}

// SetPeriod changes the sampler's period; the next sample is the next multiple of
// it after now (or after the sample being taken, when called from fn). A period of
// zero or less stops the sampler.
func (sp *Sampler) SetPeriod(period Duration) {
	w := sp.w
	if period <= 0 {
		sp.Stop()
		return
	}
	base := max(w.now, w.sampling)
	sp.period = period
	sp.next = Time((int64(base)/int64(period) + 1) * int64(period))
	w.rearm()
}

// Stop removes the sampler.
func (sp *Sampler) Stop() {
	w := sp.w
	for i, o := range w.samplers {
		if o == sp {
			w.samplers = append(w.samplers[:i], w.samplers[i+1:]...)
			break
		}
	}
	w.rearm()
}

// rearm recomputes when the next sample is due.
func (w *World) rearm() {
	w.nextSample = Never
	for _, sp := range w.samplers {
		w.nextSample = min(w.nextSample, sp.next)
	}
}

// sampleUpTo calls the samplers for every sample time at or before t, in time
// order (ties in the order the samplers were added).
func (w *World) sampleUpTo(t Time) {
	for len(w.samplers) > 0 && w.nextSample <= t {
		var due *Sampler
		for _, sp := range w.samplers {
			if sp.next == w.nextSample {
				due = sp
				break
			}
		}
		at := due.next
		due.next = at.Add(due.period)
		w.sampling = at
		w.rearm()
		due.fn(at)
	}
}

// Stop makes Run, RunUntilIdle and Step return before the next event.
func (w *World) Stop() { w.stopped = true }

// Stopped reports whether Stop was called.
func (w *World) Stopped() bool { return w.stopped }

// Step handles the next live event, skipping dropped ones. It returns false when the
// queue is empty or the world was stopped.
func (w *World) Step() bool {
	for !w.stopped && w.pending() > 0 {
		if w.fire() {
			return true
		}
	}
	return false
}

// StepUntil handles the next live event due at or before limit, skipping dropped
// ones; it returns false when there is none (or the world was stopped).
func (w *World) StepUntil(limit Time) bool {
	for !w.stopped && w.pending() > 0 && w.NextAt() <= limit {
		if w.fire() {
			return true
		}
	}
	return false
}

// Run handles every event due at or before until, then sets the clock to until
// (unless the world was stopped first).
func (w *World) Run(until Time) {
	for !w.stopped && w.pending() > 0 && w.NextAt() <= until {
		w.fire()
	}
	if !w.stopped && until > w.now {
		if until != Never {
			w.sampleUpTo(until)
		}
		w.now = until
	}
}

// RunUntilIdle handles events until the queue is empty or the world is stopped.
func (w *World) RunUntilIdle() {
	for !w.stopped && w.pending() > 0 {
		w.fire()
	}
}

// NextAt is the time of the next queued event, or Never when the queue is empty.
func (w *World) NextAt() Time {
	if w.nowHead < len(w.nowQ) {
		return w.now
	}
	if w.q.len() == 0 {
		return Never
	}
	return w.q.peekAt()
}

// next removes and returns the first event by (At, seq): the queue's while it has
// one at the current time, then those of nowQ, then the queue's. There must be one.
func (w *World) next() Event {
	if w.nowHead < len(w.nowQ) && !w.q.firstAt(w.now) {
		ev := w.nowQ[w.nowHead]
		w.nowQ[w.nowHead] = Event{}
		if w.nowHead++; w.nowHead == len(w.nowQ) {
			w.nowQ, w.nowHead = w.nowQ[:0], 0
		}
		return ev
	}
	return w.q.pop()
}

// fire pops one event and hands it to its target unless its incarnation is gone.
func (w *World) fire() bool {
	ev := w.next()
	if ev.At >= w.nextSample {
		w.sampleUpTo(ev.At)
	}
	w.now = ev.At
	if ev.Node != 0 {
		n := w.nodes[ev.Node-1]
		if !n.up || n.inc != ev.Inc {
			w.dropped++
			return false
		}
	}
	w.fired++
	w.trace.fold(uint64(ev.At), uint64(ev.Kind)|uint64(uint32(ev.Node))<<32, uint64(ev.A), uint64(ev.B))
	if w.trace.log != nil && w.trace.log.observe(w.trace.h, &ev) {
		w.stopped = true
	}
	ev.Target.Handle(ev)
	return true
}
