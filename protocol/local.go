package protocol

import (
	"fmt"
	"github.com/ckptsim/ckptsim/checkpoint"

	"github.com/ckptsim/ckptsim/checkpoint/recoveryline"
	"github.com/ckptsim/ckptsim/sim"
)

// basicTimer is the timer of a task's own (basic) checkpoints, as CheckMate's
// workers sleep: each period is drawn uniformly from {I-d, I, I+d} with d = I/5 (1 s
// for CheckMate's 5 s), from the task's own stream, so tasks drift apart.
type basicTimer struct {
	interval sim.Duration
	rnd      *sim.Rand
	period   sim.Duration // the current draw
	last     sim.Time     // the task's last checkpoint (or start)
}

func newBasicTimer(cfg checkpoint.LocalConfig) basicTimer {
	t := basicTimer{interval: cfg.Interval, rnd: sim.NewRand(cfg.Seed, "basic-timer")}
	t.draw()
	return t
}

func (t *basicTimer) draw() {
	d := t.interval / 5
	t.period = t.interval + sim.Duration(t.rnd.IntN(3)-1)*d
}

// due is when the next basic checkpoint is due.
func (t *basicTimer) due() sim.Time { return t.last.Add(t.period) }

// taken restarts the period at a checkpoint taken at now.
func (t *basicTimer) taken(now sim.Time) {
	t.last = now
	t.draw()
}

func (t *basicTimer) arm(out []checkpoint.LocalAction) []checkpoint.LocalAction {
	if t.interval <= 0 {
		return out
	}
	return append(out, checkpoint.LocalAction{Kind: checkpoint.LocalTimer, At: t.due()})
}

// lineRecovery is the correct recovery of both local families: the recovery line
// of the rollback-dependency graph, and every in-transit message replayed.
type lineRecovery struct{}

// Line implements checkpoint.RecoveryPlanner.
func (lineRecovery) Line(h *recoveryline.History) (recoveryline.Line, error) {
	return recoveryline.Compute(h)
}

// Replays implements checkpoint.RecoveryPlanner.
func (lineRecovery) Replays(h *recoveryline.History, l recoveryline.Line) []recoveryline.Replay {
	return l.Replays(h, recoveryline.InTransit)
}

func fmtState(lc int64, ckpt []int64, taken, greater, sentTo string) string {
	return fmt.Sprintf("lc=%d ckpt=%v taken=%s greater=%s sent_to=%s", lc, ckpt, taken, greater, sentTo)
}
