package recoveryline

import "fmt"

// Useless lists the checkpoints of h that belong to no consistent global
// checkpoint (Netzer and Xu: they lie on a Z-cycle), which a communication-induced
// protocol such as HMNR never takes. Every task needs its Current state: the
// history ends there, and a task whose newest messages were sent after its last
// checkpoint can still be cut at its current state.
//
// For each checkpoint (i, x) it grows the smallest consistent cut that contains it:
// starting from every other task's oldest point, a sender is moved forward to its
// first point that sent what its receiver's point processed, until no channel has
// an orphan. The checkpoint is useless when that forces task i itself past x.
func Useless(h *History) ([]Node, error) {
	if err := h.Validate(); err != nil {
		return nil, err
	}
	if len(h.Current) != len(h.Points) {
		return nil, fmt.Errorf("useless: need the current state of all %d tasks", len(h.Points))
	}
	for i, c := range h.Current {
		if c == nil {
			return nil, fmt.Errorf("useless: task %d has no current state", i)
		}
	}
	var out []Node
	cut := make([]int, len(h.Points))
	for i, ps := range h.Points {
		for x := 1; x < len(ps); x++ { // the oldest point of every task is a consistent cut
			if !h.extend(cut, i, x) {
				out = append(out, Node{i, x})
			}
		}
	}
	return out, nil
}

// extend grows the smallest consistent cut containing (i, x) into cut and reports
// whether one exists (task i stays at x).
func (h *History) extend(cut []int, i, x int) bool {
	for k := range cut {
		cut[k] = 0
	}
	cut[i] = x
	for changed := true; changed; {
		changed = false
		for _, c := range h.Channels {
			need := h.point(c.To, cut[c.To]).Processed[c.In]
			if h.point(c.From, cut[c.From]).Sent[c.Out] >= need {
				continue
			}
			y := cut[c.From]
			for y < len(h.Points[c.From]) && h.point(c.From, y).Sent[c.Out] < need {
				y++
			}
			if c.From == i || h.point(c.From, y).Sent[c.Out] < need {
				// i itself must move, or the sender's newest state did not send
				// what was processed (a history that cannot happen)
				return false
			}
			cut[c.From] = y
			changed = true
		}
	}
	return true
}
