package sim

import (
	"testing"

	"pgregory.net/rapid"
)

// drawDelay draws a delay that is often zero or tiny (so that many events share a
// time) and sometimes large (so that keys spread over many radix buckets).
func drawDelay(t *rapid.T, label string) Duration {
	return Duration(rapid.OneOf(
		rapid.Just(int64(0)),
		rapid.Int64Range(0, 3),
		rapid.Int64Range(0, 100),
		rapid.Int64Range(0, 1<<20),
		rapid.Int64Range(0, 1<<40),
	).Draw(t, label))
}

// later is at+d, saturating at Never.
func later(at Time, d Duration) Time {
	if at > Never-Time(d) {
		return Never
	}
	return at.Add(d)
}

// refQueue is the reference model of the queue: a plain slice, minimum by (at, seq).
type refQueue struct {
	keys []qkey // ord holds the bare seq here
}

func (r *refQueue) minIndex() int {
	best := -1
	for i, k := range r.keys {
		if best < 0 || k.at < r.keys[best].at || k.at == r.keys[best].at && k.ord < r.keys[best].ord {
			best = i
		}
	}
	return best
}

func (r *refQueue) pop() qkey {
	i := r.minIndex()
	k := r.keys[i]
	r.keys = append(r.keys[:i], r.keys[i+1:]...)
	return k
}

// TestQueueOrderProperty drives the radix heap directly: pushes at or after the last
// popped time (the only pushes a world makes), pops and peeks, compared with a
// reference model. Pushing below a peeked minimum exercises rebase.
func TestQueueOrderProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var q queue
		var ref refQueue
		var floor Time // time of the last popped event: pushes never go below it
		var seq uint64
		maxPending := 0
		push := func(at Time) {
			seq++
			q.push(Event{At: at, A: int64(seq), seq: seq})
			ref.keys = append(ref.keys, qkey{at: at, ord: seq})
			if len(ref.keys) > maxPending {
				maxPending = len(ref.keys)
			}
		}
		t.Repeat(map[string]func(*rapid.T){
			"push": func(t *rapid.T) {
				push(later(floor, drawDelay(t, "delay")))
			},
			"pushMany": func(t *rapid.T) {
				at := later(floor, drawDelay(t, "delay"))
				for n := rapid.IntRange(1, 10).Draw(t, "n"); n > 0; n-- {
					push(at)
				}
			},
			"pushNever": func(t *rapid.T) {
				push(Never)
			},
			"pushBelowPeek": func(t *rapid.T) {
				if q.len() == 0 {
					t.Skip("empty")
				}
				next := q.peekAt()
				if next <= floor {
					t.Skip("nothing between")
				}
				for n := rapid.IntRange(1, 4).Draw(t, "n"); n > 0; n-- {
					push(floor + Time(rapid.Int64Range(0, int64(next-floor)-1).Draw(t, "below")))
				}
			},
			"pop": func(t *rapid.T) {
				if q.len() == 0 {
					t.Skip("empty")
				}
				want := ref.pop()
				got := q.pop()
				if got.At != want.at || got.seq != want.ord || got.A != int64(want.ord) {
					t.Fatalf("pop: got (at %d, seq %d, A %d), want (at %d, seq %d)", got.At, got.seq, got.A, want.at, want.ord)
				}
				floor = got.At
			},
			"peek": func(t *rapid.T) {
				if q.len() == 0 {
					t.Skip("empty")
				}
				if got, want := q.peekAt(), ref.keys[ref.minIndex()].at; got != want {
					t.Fatalf("peekAt = %d, want %d", got, want)
				}
			},
			"": func(t *rapid.T) {
				if q.len() != len(ref.keys) {
					t.Fatalf("len = %d, want %d", q.len(), len(ref.keys))
				}
				if len(q.slab) > maxPending {
					t.Fatalf("slab holds %d slots but at most %d events were ever pending", len(q.slab), maxPending)
				}
			},
		})
		for q.len() > 0 { // drain: everything left comes out in order
			want := ref.pop()
			if got := q.pop(); got.At != want.at || got.seq != want.ord {
				t.Fatalf("drain: got (at %d, seq %d), want (at %d, seq %d)", got.At, got.seq, want.at, want.ord)
			}
		}
		if len(ref.keys) != 0 {
			t.Fatalf("queue empty but the model holds %d", len(ref.keys))
		}
	})
}

func TestQueueTable(t *testing.T) {
	type op struct {
		push bool
		at   Time // push: the time; pop: the expected time
		seq  uint64
	}
	push := func(at Time, seq uint64) op { return op{push: true, at: at, seq: seq} }
	pop := func(at Time, seq uint64) op { return op{at: at, seq: seq} }
	cases := []struct {
		name string
		ops  []op
	}{
		{"fifo at one time", []op{push(5, 1), push(5, 2), push(5, 3), pop(5, 1), pop(5, 2), pop(5, 3)}},
		{"time before seq", []op{push(9, 1), push(3, 2), push(7, 3), pop(3, 2), pop(7, 3), pop(9, 1)}},
		{"push at current minimum after pops", []op{push(4, 1), push(4, 2), pop(4, 1), push(4, 3), push(6, 4), pop(4, 2), pop(4, 3), pop(6, 4)}},
		{"far apart", []op{push(1<<40, 1), push(1, 2), push(1<<20, 3), push(Never, 4), pop(1, 2), pop(1<<20, 3), pop(1<<40, 1), pop(Never, 4)}},
		{"push after drain", []op{push(2, 1), pop(2, 1), push(2, 2), push(3, 3), pop(2, 2), pop(3, 3)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var q queue
			for i, o := range c.ops {
				if o.push {
					q.push(Event{At: o.at, seq: o.seq})
					continue
				}
				e := q.pop()
				if e.At != o.at || e.seq != o.seq {
					t.Fatalf("op %d: popped (at %d, seq %d), want (at %d, seq %d)", i, e.At, e.seq, o.at, o.seq)
				}
			}
			if q.len() != 0 {
				t.Fatalf("%d events left", q.len())
			}
		})
	}
}

// TestQueueRebase: the clock stopped short of the minimum (a peek settled the queue at
// 100), then events land below it, some at equal times; everything comes out in
// (time, seq) order.
func TestQueueRebase(t *testing.T) {
	var q queue
	q.push(Event{At: 100, seq: 1})
	q.push(Event{At: 1 << 30, seq: 2})
	q.push(Event{At: 100, seq: 3})
	if got := q.peekAt(); got != 100 {
		t.Fatalf("peekAt = %d", got)
	}
	q.push(Event{At: 50, seq: 4}) // below the cached minimum: rebase
	q.push(Event{At: 99, seq: 5})
	q.push(Event{At: 50, seq: 6})
	if got := q.peekAt(); got != 50 {
		t.Fatalf("peekAt after rebase = %d, want 50", got)
	}
	q.push(Event{At: 10, seq: 7}) // rebase again, with bucket 0 settled and non-empty
	want := []struct {
		at  Time
		seq uint64
	}{{10, 7}, {50, 4}, {50, 6}, {99, 5}, {100, 1}, {100, 3}, {1 << 30, 2}}
	for i, w := range want {
		e := q.pop()
		if e.At != w.at || e.seq != w.seq {
			t.Fatalf("pop %d: (at %d, seq %d), want (at %d, seq %d)", i, e.At, e.seq, w.at, w.seq)
		}
	}
}

// TestQueueSteadyStateNoAlloc: once the arrays have grown, push and pop allocate nothing.
func TestQueueSteadyStateNoAlloc(t *testing.T) {
	var q queue
	r := NewRand(1, "queue")
	var seq uint64
	var now Time
	for i := 0; i < 1000; i++ {
		seq++
		q.push(Event{At: Time(r.Uint64() & 1023), seq: seq})
	}
	step := func() {
		e := q.pop()
		now = e.At
		seq++
		q.push(Event{At: now + Time(1+r.Uint64()&1023), seq: seq})
	}
	for i := 0; i < 20000; i++ {
		step()
	}
	if allocs := testing.AllocsPerRun(1000, step); allocs != 0 {
		t.Fatalf("steady state allocates %v per event", allocs)
	}
}
