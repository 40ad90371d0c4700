package sim

import (
	"container/heap"
	"testing"
)

// reschedule is a handler that schedules one more event for itself each time it fires.
type reschedule struct {
	w *World
	r *Rand
}

func (h *reschedule) Handle(ev Event) {
	h.w.Schedule(ev.At+Time(1+h.r.Uint64()&1023), h, ev.Kind, ev.A+1, 0)
}

// BenchmarkEventLoop measures one event of a steady-state loop with about 1,000
// pending events, each handled event scheduling one more; ns/op is the cost of one
// event, trace hashing included.
func BenchmarkEventLoop(b *testing.B) {
	w := NewWorld(1)
	h := &reschedule{w: w, r: w.Rand("bench")}
	for i := 0; i < 1000; i++ {
		w.Schedule(Time(h.r.Uint64()&1023), h, 1, 0, 0)
	}
	for i := 0; i < 10000; i++ { // warm up: grow the queue to its steady size
		w.Step()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w.Step()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// textbook is the baseline: container/heap over pointers to events, the way the
// standard library's documentation shows a priority queue.
type textbookEvent struct {
	at   Time
	seq  uint64
	kind uint32
	a    int64
}

type textbookHeap []*textbookEvent

func (h textbookHeap) Len() int { return len(h) }
func (h textbookHeap) Less(i, j int) bool {
	return h[i].at < h[j].at || (h[i].at == h[j].at && h[i].seq < h[j].seq)
}
func (h textbookHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *textbookHeap) Push(x any)   { *h = append(*h, x.(*textbookEvent)) }
func (h *textbookHeap) Pop() any {
	old := *h
	n := len(old)
	x := old[n-1]
	*h = old[:n-1]
	return x
}

// BenchmarkEventLoopContainerHeap is the textbook baseline for BenchmarkEventLoop:
// the same workload on container/heap with one allocated event per schedule.
func BenchmarkEventLoopContainerHeap(b *testing.B) {
	r := NewRand(1, "bench")
	h := &textbookHeap{}
	var seq uint64
	var now Time
	for i := 0; i < 1000; i++ {
		seq++
		heap.Push(h, &textbookEvent{at: Time(r.Uint64() & 1023), seq: seq})
	}
	var trace Trace
	step := func() {
		ev := heap.Pop(h).(*textbookEvent)
		now = ev.at
		trace.fold(uint64(ev.at), uint64(ev.kind), uint64(ev.a), 0)
		seq++
		heap.Push(h, &textbookEvent{at: now + Time(1+r.Uint64()&1023), seq: seq, kind: ev.kind, a: ev.a + 1})
	}
	for i := 0; i < 10000; i++ {
		step()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		step()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
