package engine

import (
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
	switch {
	case w.Size <= 0:
		return fmt.Errorf("window %q: size must be positive", name)
	case w.Slide < 0 || w.Slide > w.Size:
		return fmt.Errorf("window %q: slide must be within (0, size]", name)
	case w.AllowedLateness < 0:
		return fmt.Errorf("window %q: allowed lateness must not be negative", name)
	case w.Aggregate != "" && w.Aggregate != "count" && w.Aggregate != "sum":
		return fmt.Errorf("window %q: aggregate must be count or sum, got %q", name, w.Aggregate)
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
