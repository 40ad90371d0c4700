package engine

import (
	"fmt"
	"testing"

	"github.com/ckptsim/ckptsim/sim"
)

// batchJobs are jobs whose chains take batches: unlimited and rate-limited
// sources, hash, rebalance and broadcast edges, a map that makes some records
// larger (so a batch stops early), a filter, costs that end slices midway.
func batchJobs() map[string]func() *Job {
	grow := func(r *Record) {
		if r.Key%7 == 0 {
			r.Size *= 300
		}
		r.Value *= 3
	}
	return map[string]func() *Job{
		"sum": func() *Job { return pipelineSum(3000, 50) },
		"slow-sum": func() *Job {
			j := pipelineSum(3000, 50)
			j.Vertices[len(j.Vertices)-1].Cost = 20 * sim.Microsecond
			return j
		},
		"resize-rebalance": func() *Job {
			j := NewJob("r")
			j.Source("src", SourceSpec{Splits: 3, Records: 4000, Keys: KeySpec{Count: 30}}).Parallelism(2).
				Map("grow", grow).
				Rebalance().Filter("odd", func(r *Record) bool { return r.Value%2 == 1 }).Parallelism(3).
				KeyBy().Sum("sum").Parallelism(2).Cost(40*sim.Microsecond).
				Sink("out", SinkSpec{Kind: SinkTwoPhaseCommit})
			return j
		},
		"broadcast": func() *Job {
			j := NewJob("b")
			j.Source("src", SourceSpec{Splits: 2, Records: 2000, Rate: 50000, Keys: KeySpec{Count: 10}}).Parallelism(2).
				Broadcast().Map("id", nil).Parallelism(3).Cost(2*sim.Microsecond).
				KeyBy().Count("count").Parallelism(2).Cost(30*sim.Microsecond).
				Sink("out", SinkSpec{})
			return j
		},
	}
}

// TestBatchesChangeNothing runs each job with and without batches: the trace hash,
// the sink output and the task metrics must be the same.
func TestBatchesChangeNothing(t *testing.T) {
	for name, job := range batchJobs() {
		for _, cfg := range []Config{{Workers: 2}, {Workers: 2, Quantum: 7 * sim.Microsecond}, {Workers: 3, BufferTimeout: sim.Millisecond}, {Workers: 2, BufferTimeout: -1}} {
			t.Run(fmt.Sprintf("%s/%v/%v", name, cfg.Quantum, cfg.BufferTimeout), func(t *testing.T) {
				on := runSummary(t, job(), cfg, true)
				off := runSummary(t, job(), cfg, false)
				if on != off {
					t.Fatalf("batches changed the run:\nwith:    %s\nwithout: %s", on, off)
				}
			})
		}
	}
}

func runSummary(t *testing.T, j *Job, cfg Config, batches bool) string {
	defer func(b bool) { batching = b }(batching)
	batching = batches
	rt := mustRun(t, 3, j, cfg, sim.Never)
	if !rt.Finished() {
		t.Fatalf("job did not finish: %v", rt.Failures())
	}
	s := fmt.Sprintf("hash %x", rt.World().TraceHash())
	for _, name := range rt.Sinks() {
		var sum uint64
		for i, r := range rt.Sink(name).Committed() {
			sum = sum*31 + uint64(i) + r.Key*7 + uint64(r.Value)*13 + uint64(r.Offset)
		}
		v := rt.Sink(name).Verifier()
		s += fmt.Sprintf(" %s: %x %d/%d", name, sum, v.Total, v.Unique())
	}
	for _, task := range rt.Tasks() {
		m := task.Metrics()
		s += fmt.Sprintf(" %s %d/%d/%v", task.Name(), m.RecordsIn, m.RecordsOut, m.Busy)
	}
	return s
}
