package recoveryline

import (
	"testing"

	"pgregory.net/rapid"
)

// randomHistory simulates a random execution of a few tasks over random FIFO
// channels: tasks send, process the next message of a channel, or checkpoint. Each
// task ends with its current state.
func randomHistory(t *rapid.T) *History {
	n := rapid.IntRange(1, 4).Draw(t, "tasks")
	h := &History{Points: make([][]Point, n), Current: make([]*Point, n)}
	outs, ins := make([]int, n), make([]int, n)
	for k := rapid.IntRange(0, 6).Draw(t, "channels"); k > 0; k-- {
		a, b := rapid.IntRange(0, n-1).Draw(t, "from"), rapid.IntRange(0, n-1).Draw(t, "to")
		if a == b {
			continue
		}
		h.Channels = append(h.Channels, Channel{From: a, Out: outs[a], To: b, In: ins[b]})
		outs[a]++
		ins[b]++
	}
	cur := make([]Point, n)
	for i := range cur {
		cur[i] = Point{Sent: make([]int64, outs[i]), Processed: make([]int64, ins[i])}
		h.Points[i] = []Point{clonePoint(cur[i], 0)}
	}
	ids := make([]int64, n)
	for steps := rapid.IntRange(0, 40).Draw(t, "steps"); steps > 0; steps-- {
		switch rapid.IntRange(0, 2).Draw(t, "op") {
		case 0:
			if len(h.Channels) > 0 {
				c := h.Channels[rapid.IntRange(0, len(h.Channels)-1).Draw(t, "send")]
				cur[c.From].Sent[c.Out]++
			}
		case 1:
			if len(h.Channels) > 0 {
				c := h.Channels[rapid.IntRange(0, len(h.Channels)-1).Draw(t, "process")]
				if cur[c.To].Processed[c.In] < cur[c.From].Sent[c.Out] {
					cur[c.To].Processed[c.In]++
				}
			}
		case 2:
			i := rapid.IntRange(0, n-1).Draw(t, "checkpoint")
			ids[i]++
			h.Points[i] = append(h.Points[i], clonePoint(cur[i], ids[i]))
		}
	}
	for i := range cur {
		p := clonePoint(cur[i], -1)
		h.Current[i] = &p
	}
	return h
}

func clonePoint(p Point, id int64) Point {
	return Point{ID: id, Sent: append([]int64(nil), p.Sent...), Processed: append([]int64(nil), p.Processed...)}
}

// consistent reports whether the cut (an index per task) has no orphan message.
func consistent(h *History, cut []int) bool {
	for _, c := range h.Channels {
		if h.point(c.To, cut[c.To]).Processed[c.In] > h.point(c.From, cut[c.From]).Sent[c.Out] {
			return false
		}
	}
	return true
}

// cuts calls f with every cut where each task is at a point in [0, top(i)].
func cuts(h *History, top func(i int) int, f func(cut []int)) {
	cut := make([]int, len(h.Points))
	var rec func(i int)
	rec = func(i int) {
		if i == len(cut) {
			f(cut)
			return
		}
		for x := 0; x <= top(i); x++ {
			cut[i] = x
			rec(i + 1)
		}
	}
	rec(0)
}

// TestLineIsLatestConsistentCut checks the recovery line against brute force: after
// a random subset of tasks fails, it is consistent, and every consistent cut that
// keeps the failed tasks at checkpoints is at or below it, task by task.
func TestLineIsLatestConsistentCut(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h := randomHistory(t)
		for i := range h.Current {
			if rapid.Bool().Draw(t, "fails") {
				h.Current[i] = nil
			}
		}
		l, err := Compute(h)
		if err != nil {
			t.Fatal(err)
		}
		if !consistent(h, l.At) {
			t.Fatalf("line %v is not consistent", l.At)
		}
		cuts(h, h.top, func(cut []int) {
			if !consistent(h, cut) {
				return
			}
			for i := range cut {
				if cut[i] > l.At[i] {
					t.Fatalf("consistent cut %v is above line %v at task %d", cut, l.At, i)
				}
			}
		})
		useless := 0
		for i, x := range l.At {
			if x < len(h.Points[i]) {
				useless += len(h.Points[i]) - 1 - x
			}
		}
		if useless != l.Useless {
			t.Fatalf("useless %d, want %d", l.Useless, useless)
		}
	})
}

// TestUselessMatchesBruteForce checks Useless against brute force: a checkpoint is
// useless exactly when no consistent cut (of checkpoints and current states)
// contains it.
func TestUselessMatchesBruteForce(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h := randomHistory(t)
		got, err := Useless(h)
		if err != nil {
			t.Fatal(err)
		}
		want := map[Node]bool{}
		for i, ps := range h.Points {
			for x := 1; x < len(ps); x++ {
				want[Node{i, x}] = true
			}
		}
		cuts(h, h.top, func(cut []int) {
			if consistent(h, cut) {
				for i, x := range cut {
					delete(want, Node{i, x})
				}
			}
		})
		if len(got) != len(want) {
			t.Fatalf("useless %v, brute force %v", got, want)
		}
		for _, n := range got {
			if !want[n] {
				t.Fatalf("useless %v, brute force %v", got, want)
			}
		}
	})
}

// TestFloorBoundsFutureLines checks that whatever happens after Floor is computed
// (more messages and checkpoints, then any failure), the recovery line never goes
// below it.
func TestFloorBoundsFutureLines(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h := randomHistory(t)
		fl, err := Floor(h)
		if err != nil {
			t.Fatal(err)
		}
		// extend: the current states become checkpoints, then some tasks fail
		for i := range h.Points {
			if rapid.Bool().Draw(t, "checkpoint") {
				h.Points[i] = append(h.Points[i], clonePoint(*h.Current[i], 99))
			}
			if rapid.Bool().Draw(t, "fails") {
				h.Current[i] = nil
			}
		}
		l, err := Compute(h)
		if err != nil {
			t.Fatal(err)
		}
		for i := range l.At {
			if l.At[i] < fl.Base[i] {
				t.Fatalf("line %v below floor %v", l.At, fl.Base)
			}
		}
		for ci, c := range h.Channels {
			if l.Restored(h, c.To) && h.point(c.To, l.At[c.To]).Processed[c.In] < fl.LogFrom[ci] {
				t.Fatalf("channel %d: replay would need messages below the truncation point %d", ci, fl.LogFrom[ci])
			}
		}
	})
}
