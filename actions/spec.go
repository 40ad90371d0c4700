// Package actions carries out what the operator of a Flink job does to it during a
// run, as a scenario says: take a savepoint, stop the job with a savepoint
// (drained or not), cancel it, and start it again from a savepoint or a retained
// checkpoint, with other parallelism, max parallelism or state backend.
//
// Actions run in the order written. Each one starts once the previous one
// finished (a savepoint completed, the job stopped or was cancelled, the new job
// was deployed), not before its At time, After its delay, and once AfterCheckpoints
// more checkpoints completed. A savepoint or stop that fails (a crash during its
// alignment, the store down while it uploads) is tried again after RetryDelay, as
// an operator would, up to MaxTries; once the job finished on its own, the
// remaining actions are skipped.
package actions

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ckptsim/ckptsim/sim"
)

// Kind is what an action does.
type Kind string

// Action kinds.
const (
	Savepoint         Kind = "savepoint"           // flink savepoint: the job runs on
	StopWithSavepoint Kind = "stop-with-savepoint" // flink stop [--drain]: the job ends
	Cancel            Kind = "cancel"              // flink cancel: the job ends, checkpoints kept per retention
	Restore           Kind = "restore"             // flink run -s: a new job from a savepoint or retained checkpoint
)

// Kinds lists every action kind.
var Kinds = []Kind{Savepoint, StopWithSavepoint, Cancel, Restore}

// Where a restore starts from.
const (
	FromSavepoint  = "savepoint"  // the latest completed savepoint (the default)
	FromCheckpoint = "checkpoint" // the latest retained checkpoint of the ended job
)

// RetryDelay is the pause before a failed savepoint or stop is asked again, and
// MaxTries how often it is asked before the operator gives up (the job runs on;
// the later actions are skipped). A drained stop that keeps failing would
// otherwise fail the job over forever.
const (
	RetryDelay = sim.Second
	MaxTries   = 5
)

// GaveUp starts the detail of an action given up after MaxTries.
const GaveUp = "gave up"

// Spec is one action.
type Spec struct {
	Kind Kind
	// At: not before this simulated time; After: this long after the previous
	// action finished; AfterCheckpoints: once this many more checkpoints
	// completed after the previous action finished.
	At, After        sim.Duration
	AfterCheckpoints int
	// Drain (stop-with-savepoint): emit the final watermark first, so every
	// window fires before the savepoint.
	Drain bool
	// Restore: From is FromSavepoint (default) or FromCheckpoint; Parallelism
	// overrides operators' parallelism by name; MaxParallelism, when set, must
	// equal the restored one (Flink refuses a change: the job fails);
	// StateBackend, when set, replaces the state backend.
	From           string
	Parallelism    map[string]int
	MaxParallelism int
	StateBackend   string
}

// Schedule is the actions of one run, in order.
type Schedule []Spec

// String renders an action on one line, as results list them.
func (s Spec) String() string {
	var b strings.Builder
	switch {
	case s.AfterCheckpoints > 0:
		fmt.Fprintf(&b, "after %d checkpoints: ", s.AfterCheckpoints)
	case s.After > 0:
		fmt.Fprintf(&b, "%v after: ", s.After)
	case s.At > 0:
		fmt.Fprintf(&b, "at %v: ", s.At)
	}
	b.WriteString(string(s.Kind))
	if s.Drain {
		b.WriteString(" --drain")
	}
	if s.Kind == Restore {
		fmt.Fprintf(&b, " from %s", s.from())
		for _, name := range slices.Sorted(maps.Keys(s.Parallelism)) {
			fmt.Fprintf(&b, " %s=%d", name, s.Parallelism[name])
		}
		if s.MaxParallelism > 0 {
			fmt.Fprintf(&b, " max-parallelism=%d", s.MaxParallelism)
		}
		if s.StateBackend != "" {
			fmt.Fprintf(&b, " state-backend=%s", s.StateBackend)
		}
	}
	return b.String()
}

func (s Spec) from() string {
	if s.From == "" {
		return FromSavepoint
	}
	return s.From
}

// Validate checks every action's fields and that the sequence is one a job can
// go through: savepoints, stops and cancels of a running job, a restore only
// after a stop or a cancel, from a savepoint only when one was taken, and from a
// checkpoint only after a cancel (a stopped job's checkpoints are discarded).
func (sc Schedule) Validate() error {
	running, savepoint := true, false
	var ended Kind
	for i, s := range sc {
		what := fmt.Sprintf("action %d (%s)", i+1, s.Kind)
		if err := s.validate(); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		switch s.Kind {
		case Savepoint, StopWithSavepoint, Cancel:
			if !running {
				return fmt.Errorf("%s: the job is not running (it ended with action %d, %s); restore it first", what, i, ended)
			}
			savepoint = savepoint || s.Kind != Cancel
			if s.Kind != Savepoint {
				running, ended = false, s.Kind
			}
		case Restore:
			switch {
			case running:
				return fmt.Errorf("%s: the job is still running; stop or cancel it first", what)
			case s.from() == FromSavepoint && !savepoint:
				return fmt.Errorf("%s: no savepoint was taken before", what)
			case s.from() == FromCheckpoint && ended != Cancel:
				return fmt.Errorf("%s: a stopped job keeps no checkpoint (it was stopped with a savepoint: restore from it)", what)
			}
			running = true
		}
	}
	return nil
}

func (s Spec) validate() error {
	known := false
	for _, k := range Kinds {
		known = known || s.Kind == k
	}
	switch {
	case !known:
		return fmt.Errorf("unknown action kind %q (known: %v)", s.Kind, Kinds)
	case s.At < 0 || s.After < 0 || s.AfterCheckpoints < 0:
		return fmt.Errorf("at, after and after-checkpoints must not be negative")
	case s.Drain && s.Kind != StopWithSavepoint:
		return fmt.Errorf("only stop-with-savepoint drains")
	case s.Kind != Restore && (s.From != "" || len(s.Parallelism) > 0 || s.MaxParallelism != 0 || s.StateBackend != ""):
		return fmt.Errorf("from, parallelism, max-parallelism and state-backend belong to a restore")
	case s.From != "" && s.From != FromSavepoint && s.From != FromCheckpoint:
		return fmt.Errorf("from must be %s or %s, got %q", FromSavepoint, FromCheckpoint, s.From)
	case s.MaxParallelism < 0:
		return fmt.Errorf("max-parallelism must be positive, got %d", s.MaxParallelism)
	case s.StateBackend != "" && s.StateBackend != "heap" && s.StateBackend != "pebble":
		return fmt.Errorf("unknown state backend %q (heap or pebble)", s.StateBackend)
	}
	for _, name := range slices.Sorted(maps.Keys(s.Parallelism)) {
		if p := s.Parallelism[name]; p < 1 {
			return fmt.Errorf("parallelism of %q must be at least 1, got %d", name, p)
		}
	}
	return nil
}
