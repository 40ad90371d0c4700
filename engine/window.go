package engine

import (
	"errors"
	"fmt"

	"github.com/ckptsim/ckptsim/sim"
)

// WindowSpec describes event-time windows per key.
type WindowSpec struct {
	Size            sim.Duration // window length
	Slide           sim.Duration // 0 or Size: tumbling; less than Size: sliding
	AllowedLateness sim.Duration
	Aggregate       string // count (default) or sum
}

func (w *WindowSpec) validate(name string) error {
	if err := w.check(); err != nil {
		return fmt.Errorf("window %q: %w", name, err)
	}
	return nil
}

// check reports the first impossible field of the spec.
func (w *WindowSpec) check() error {
	switch {
	case w.Size <= 0:
		return errors.New("size must be positive")
	case w.Slide < 0 || w.Slide > w.Size:
		return errors.New("slide must be within (0, size]")
	case w.AllowedLateness < 0:
		return errors.New("allowed lateness must not be negative")
	case w.Aggregate != "" && w.Aggregate != "count" && w.Aggregate != "sum":
		return fmt.Errorf("aggregate must be count or sum, got %q", w.Aggregate)
	}
	return nil
}

// JoinSpec describes a two-input keyed interval join: a record of input 0 at time t
// joins every record of input 1 with the same key and a time in [t+Lower, t+Upper].
type JoinSpec struct {
	Lower, Upper sim.Duration
}

func (j *JoinSpec) validate(name string) error {
	if j.Lower > j.Upper {
		return fmt.Errorf("join %q: lower bound %v above upper bound %v", name, j.Lower, j.Upper)
	}
	return nil
}

// WindowJoinSpec describes a window join of two keyed streams, as Flink's
// a.join(b).where(key).equalTo(key).window(assigner): every record of input 0
// and every record of input 1 with the same key in the same event-time window
// (tumbling, or sliding when Slide is less than Size) make a pair when the window
// fires. With CoGroup the window emits one result per key instead (Flink's
// coGroup), also when one input had no record in it: both inputs' aggregates.
type WindowJoinSpec struct {
	Size            sim.Duration // window length
	Slide           sim.Duration // 0 or Size: tumbling; less than Size: sliding
	AllowedLateness sim.Duration
	CoGroup         bool
	// Aggregate is what a coGroup result holds of each input: count (default) or
	// sum of the values. A join takes none.
	Aggregate string
}

// window is the spec of the windows the join assigns records to.
func (j *WindowJoinSpec) window() WindowSpec {
	return WindowSpec{Size: j.Size, Slide: j.Slide, AllowedLateness: j.AllowedLateness, Aggregate: j.Aggregate}
}

func (j *WindowJoinSpec) validate(name string) error {
	what := "window join"
	if j.CoGroup {
		what = "co-group"
	}
	w := j.window()
	if err := w.check(); err != nil {
		return fmt.Errorf("%s %q: %w", what, name, err)
	}
	if !j.CoGroup && j.Aggregate != "" {
		return fmt.Errorf("%s %q: a join pairs records and takes no aggregate (a co-group does)", what, name)
	}
	return nil
}
