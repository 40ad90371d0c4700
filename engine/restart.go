package engine

import (
	"fmt"
	"math"

	"github.com/ckptsim/ckptsim/sim"
)

// RestartConfig is the restart strategy (restart-strategy.*).
type RestartConfig struct {
	// Strategy is none, fixed-delay (default) or exponential-delay.
	Strategy string
	// Attempts and Delay configure fixed-delay (defaults 10 and 1 s).
	Attempts int
	Delay    sim.Duration
	// InitialBackoff, MaxBackoff, Multiplier and Jitter configure exponential-delay
	// (defaults 1 s, 1 min, 2, 0.1).
	InitialBackoff, MaxBackoff sim.Duration
	Multiplier                 float64
	Jitter                     float64
	// Failover is the failover strategy (jobmanager.execution.failover-strategy):
	// region (default) restarts only the pipelined regions of the failed tasks;
	// full restarts every task.
	Failover string
}

func (r *RestartConfig) fill() {
	if r.Strategy == "" {
		r.Strategy = "fixed-delay"
	}
	if r.Attempts == 0 {
		r.Attempts = 10
	}
	if r.Delay == 0 {
		r.Delay = sim.Second
	}
	if r.InitialBackoff == 0 {
		r.InitialBackoff = sim.Second
	}
	if r.MaxBackoff == 0 {
		r.MaxBackoff = sim.Minute
	}
	if r.Multiplier == 0 {
		r.Multiplier = 2
	}
	if r.Failover == "" {
		r.Failover = "region"
	}
}

func (r *RestartConfig) validate() error {
	switch r.Strategy {
	case "none", "fixed-delay", "exponential-delay":
	default:
		return fmt.Errorf("unknown restart strategy %q (none, fixed-delay, exponential-delay)", r.Strategy)
	}
	if r.Failover != "region" && r.Failover != "full" {
		return fmt.Errorf("unknown failover strategy %q (region or full)", r.Failover)
	}
	switch {
	case r.Attempts < 0:
		return fmt.Errorf("restart attempts must not be negative, got %d", r.Attempts)
	case r.Delay < 0 || r.InitialBackoff < 0 || r.MaxBackoff < 0:
		return fmt.Errorf("restart delays must not be negative")
	case r.Multiplier < 1 || math.IsNaN(r.Multiplier):
		return fmt.Errorf("restart backoff multiplier must be at least 1, got %v", r.Multiplier)
	case r.Jitter < 0 || r.Jitter > 1:
		return fmt.Errorf("restart jitter factor must be within [0, 1], got %v", r.Jitter)
	}
	return nil
}

// nextRestartDelay asks the restart strategy whether the job restarts and after
// how long.
func (rt *Runtime) nextRestartDelay() (sim.Duration, bool) {
	r := rt.cfg.Restart
	switch r.Strategy {
	case "none":
		return 0, false
	case "exponential-delay":
		if rt.backoff == 0 {
			rt.backoff = r.InitialBackoff
		} else {
			rt.backoff = sim.Duration(math.Min(float64(rt.backoff)*r.Multiplier, float64(r.MaxBackoff)))
		}
		d := rt.backoff
		if r.Jitter > 0 {
			j := (rt.restartRnd.Float64()*2 - 1) * r.Jitter * float64(d)
			d += sim.Duration(j)
		}
		return d, true
	default:
		if rt.restarts-rt.life.restartBase >= r.Attempts {
			return 0, false
		}
		return r.Delay, true
	}
}
