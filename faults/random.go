package faults

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ckptsim/ckptsim/sim"
)

// Targets are what a random schedule may aim at.
type Targets struct {
	Tasks   []string // task names, e.g. "sum[1]"
	Workers []string // worker node names
	// Window is the simulated time in which faults start (the safety phase);
	// every fault heals before Window ends plus its duration.
	Window sim.Duration
	// Sinks reports whether the job has two-phase-commit sinks.
	Sinks bool
}

// Swarm is the random choice of one run: which fault kinds are enabled and how
// often each fires (faults per simulated second), as TigerBeetle's swarm testing.
type Swarm struct {
	Rates map[Kind]float64
}

func (s Swarm) String() string {
	if len(s.Rates) == 0 {
		return "no faults"
	}
	kinds := make([]string, 0, len(s.Rates))
	for k := range s.Rates {
		kinds = append(kinds, string(k))
	}
	sort.Strings(kinds)
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = fmt.Sprintf("%s %.2f/s", k, s.Rates[Kind(k)])
	}
	return strings.Join(parts, ", ")
}

// randomKinds are the kinds swarm testing draws from: every fault that a correct
// protocol must survive (FIFO violation breaks an assumption and is excluded).
var randomKinds = []Kind{CrashTask, CrashWorker, CrashCoordinator, Partition, LatencySpike, Straggler,
	StorageOutage, StorageSlow, SinkCommitFailure}

// Random draws a swarm (a random subset of fault kinds with random rates) and a
// schedule from it. Everything derives from r, so a seed reproduces both.
func Random(r *sim.Rand, t Targets) (Swarm, Schedule) {
	sw := Swarm{Rates: map[Kind]float64{}}
	for _, k := range randomKinds {
		if k == SinkCommitFailure && !t.Sinks {
			continue
		}
		if r.Chance(0.4) {
			sw.Rates[k] = 0.1 + r.Float64()*0.9
		}
	}
	var sched Schedule
	window := t.Window.Seconds()
	for _, k := range randomKinds {
		rate, ok := sw.Rates[k]
		if !ok {
			continue
		}
		n := int(rate*window + r.Float64())
		for i := 0; i < n && len(sched) < 8; i++ {
			s := Spec{Kind: k, At: sim.Duration(r.Int64N(int64(t.Window) + 1))}
			if !fill(r, &s, t) {
				continue
			}
			sched = append(sched, s)
		}
	}
	sort.SliceStable(sched, func(i, j int) bool { return sched[i].At < sched[j].At })
	// event-triggered crashes aim at the moments protocols get wrong
	if len(t.Tasks) > 0 && r.Chance(0.6) {
		ph := Phases[r.IntN(len(Phases))]
		s := Spec{Kind: CrashWorker, When: &When{Checkpoint: int64(1 + r.IntN(4)), Phase: ph},
			RestartAfter: 100*sim.Millisecond + sim.Duration(r.Int64N(int64(sim.Second)))}
		if ph == PhaseMetadata {
			sw.Rates["triggered-"+Kind(ph)] = 1
			return sw, append(sched, metadataCrash(r, t, s.When.Checkpoint, s.RestartAfter)...)
		}
		switch ph {
		case PhaseAlignment, PhaseAfterSync, PhasePreCommit:
			s.When.Task = t.Tasks[r.IntN(len(t.Tasks))]
			if ph != PhaseAlignment || r.Chance(0.5) {
				s.When.Task = "" // any task reaching the phase
				s.Worker = t.Workers[r.IntN(len(t.Workers))]
			}
		default:
			s.Worker = t.Workers[r.IntN(len(t.Workers))]
		}
		if s.Worker == "" && s.When.Task == "" {
			s.Worker = t.Workers[0]
		}
		sw.Rates["triggered-"+Kind(ph)] = 1
		sched = append(sched, s)
	}
	// a store crash while a checkpoint's metadata is written, drawn on its own:
	// the moment between the last acknowledgement and a durable checkpoint
	if len(t.Workers) > 0 && r.Chance(0.25) {
		sw.Rates["triggered-"+Kind(PhaseMetadata)] = 1
		sched = append(sched, metadataCrash(r, t, int64(1+r.IntN(4)), 100*sim.Millisecond+sim.Duration(r.Int64N(int64(sim.Second))))...)
	}
	return sw, sched
}

// metadataCrash is a store crash while checkpoint id's metadata is written (the
// checkpoint fails although every task acknowledged it), then a worker crash once
// a task snapshotted the next checkpoint, so that the job restores an older one.
func metadataCrash(r *sim.Rand, t Targets, id int64, restartAfter sim.Duration) []Spec {
	return []Spec{
		{Kind: CrashStore, When: &When{Checkpoint: id, Phase: PhaseMetadata},
			For: 100*sim.Millisecond + sim.Duration(r.Int64N(int64(900*sim.Millisecond)))},
		{Kind: CrashWorker, When: &When{Checkpoint: id + 1, Phase: PhaseAfterSync},
			Worker: t.Workers[r.IntN(len(t.Workers))], RestartAfter: restartAfter},
	}
}

// fill chooses a fault's target and parameters; false when it has none to aim at.
func fill(r *sim.Rand, s *Spec, t Targets) bool {
	pick := func(xs []string) string { return xs[r.IntN(len(xs))] }
	dur := func(min, max sim.Duration) sim.Duration { return min + sim.Duration(r.Int64N(int64(max-min)+1)) }
	switch s.Kind {
	case CrashTask, Straggler:
		if len(t.Tasks) == 0 {
			return false
		}
		s.Task = pick(t.Tasks)
		s.Factor = 2 + 8*r.Float64()
		s.For = dur(200*sim.Millisecond, 2*sim.Second)
	case CrashWorker:
		if len(t.Workers) == 0 {
			return false
		}
		s.Worker = pick(t.Workers)
		s.RestartAfter = dur(100*sim.Millisecond, 2*sim.Second)
	case CrashCoordinator:
		s.RestartAfter = dur(100*sim.Millisecond, 2*sim.Second)
	case Partition, LatencySpike:
		nodes := append(append([]string(nil), t.Workers...), "jobmanager")
		if len(nodes) < 2 {
			return false
		}
		a := r.IntN(len(nodes))
		b := (a + 1 + r.IntN(len(nodes)-1)) % len(nodes)
		s.Between = [2]string{nodes[a], nodes[b]}
		s.For = dur(100*sim.Millisecond, 2*sim.Second)
		s.Extra = dur(10*sim.Millisecond, 500*sim.Millisecond)
	case StorageOutage, StorageSlow:
		s.For = dur(100*sim.Millisecond, 2*sim.Second)
		s.Factor = 2 + 18*r.Float64()
	case SinkCommitFailure:
		s.Count = 1 + r.IntN(5)
	}
	return true
}

// String renders a fault on one line, as in failure reports.
func (s Spec) String() string {
	var b strings.Builder
	if s.When != nil {
		if s.When.Savepoint != 0 {
			fmt.Fprintf(&b, "when savepoint #%d reaches %s", s.When.Savepoint, s.When.Phase)
		} else {
			fmt.Fprintf(&b, "when checkpoint %d reaches %s", s.When.Checkpoint, s.When.Phase)
		}
		if s.When.Task != "" {
			fmt.Fprintf(&b, " at %s", s.When.Task)
		}
		if s.When.Nth > 1 {
			fmt.Fprintf(&b, " (%s time)", ordinal(s.When.Nth))
		}
	} else {
		fmt.Fprintf(&b, "at %v", s.At)
	}
	fmt.Fprintf(&b, ": %s", s.Kind)
	for _, kv := range []struct {
		k string
		v any
		z bool
	}{
		{"task", s.Task, s.Task == ""}, {"worker", s.Worker, s.Worker == ""},
		{"between", s.Between, s.Between[0] == ""}, {"for", s.For, s.For == 0},
		{"restart-after", s.RestartAfter, s.RestartAfter == 0}, {"factor", fmt.Sprintf("%.1f", s.Factor), s.Factor == 0 || (s.Kind != Straggler && s.Kind != StorageSlow)},
		{"extra", s.Extra, s.Extra == 0 || s.Kind != LatencySpike}, {"count", s.Count, s.Count == 0},
	} {
		if !kv.z {
			fmt.Fprintf(&b, " %s=%v", kv.k, kv.v)
		}
	}
	return b.String()
}
