package engine_test

import (
	"strings"
	"testing"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/sim"
)

// breaker is a protocol whose handler edits the actions of a correct one for
// savepoint barriers: a handler that breaks the savepoint contract.
type breaker struct {
	inner checkpoint.Protocol
	// hide clears BarrierInfo.Savepoint before the inner handler sees it.
	hide bool
	// edit rewrites the actions the inner handler asked for a savepoint barrier
	// at a task with several input channels.
	edit func(ch int, b checkpoint.BarrierInfo, now sim.Time, acts []checkpoint.Action) []checkpoint.Action
}

func (p breaker) Name() string                    { return "breaker/" + p.inner.Name() }
func (p breaker) Guarantee() checkpoint.Guarantee { return p.inner.Guarantee() }
func (p breaker) NewHandler(cfg checkpoint.HandlerConfig) checkpoint.BarrierHandler {
	return &breakerHandler{BarrierHandler: p.inner.NewHandler(cfg), p: p, inputs: cfg.Channels}
}

type breakerHandler struct {
	checkpoint.BarrierHandler
	p      breaker
	inputs int
}

func (h *breakerHandler) Barrier(ch int, b checkpoint.BarrierInfo, now sim.Time, out []checkpoint.Action) []checkpoint.Action {
	sp := b.Savepoint
	if h.p.hide {
		b.Savepoint = false
	}
	n := len(out)
	out = h.BarrierHandler.Barrier(ch, b, now, out)
	if sp && h.p.edit != nil && h.inputs > 1 {
		out = append(out[:n], h.p.edit(ch, b, now, append([]checkpoint.Action(nil), out[n:]...))...)
	}
	return out
}

// TestBrokenSavepointContractFailsTheJobClearly: a handler that takes a savepoint
// unaligned, gives it an aligned-checkpoint timeout, persists in-flight data for
// it or asks its barrier to overtake data fails the job at once, for good, with a
// reason naming the savepoint, the task and the rule, instead of a stop that
// never completes.
func TestBrokenSavepointContractFailsTheJobClearly(t *testing.T) {
	lookup := func(name string) checkpoint.Protocol {
		p, err := checkpoint.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name  string
		p     breaker
		wants string
	}{
		{"unaligned-ignoring-the-flag", breaker{inner: lookup("unaligned"), hide: true}, "taken unaligned by task"},
		{"hybrid-ignoring-the-flag", breaker{inner: lookup("hybrid"), hide: true}, "with an aligned-checkpoint timeout"},
		{"aligned-with-output-timeout", breaker{inner: lookup("aligned"), edit: func(ch int, b checkpoint.BarrierInfo, now sim.Time, acts []checkpoint.Action) []checkpoint.Action {
			for i := range acts {
				if acts[i].Kind == checkpoint.ActCheckpoint {
					acts[i].At = now.Add(sim.Millisecond)
				}
			}
			return acts
		}}, "with an aligned-checkpoint timeout"},
		{"aligned-persisting", breaker{inner: lookup("aligned"), edit: func(ch int, b checkpoint.BarrierInfo, now sim.Time, acts []checkpoint.Action) []checkpoint.Action {
			for _, a := range acts {
				if a.Kind == checkpoint.ActCheckpoint {
					return append(acts, checkpoint.Action{Kind: checkpoint.ActPersist, Channel: 0})
				}
			}
			return acts
		}}, "persists in-flight data of input channel 0 for savepoint"},
		{"aligned-prioritizing", breaker{inner: lookup("aligned"), edit: func(ch int, b checkpoint.BarrierInfo, now sim.Time, acts []checkpoint.Action) []checkpoint.Action {
			for _, a := range acts {
				if a.Kind == checkpoint.ActBlock {
					return append(acts, checkpoint.Action{Kind: checkpoint.ActPrioritize, Channel: (ch + 1) % 2, Checkpoint: b.Checkpoint})
				}
			}
			return acts
		}}, "to overtake data"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := savepointConfig(t, "aligned", "heap")
			cfg.Protocol = c.p
			cfg.Checkpoint.AlignedTimeout = sim.Microsecond // hybrid: every alignment times out
			rt := newSavepointRuntime(t, cfg)
			var results []engine.SavepointResult
			rt.Hooks.OnSavepoint(func(r engine.SavepointResult) { results = append(results, r) })
			rt.Start()
			rt.RunUntil(sim.Time(300 * sim.Millisecond))
			id, err := rt.TriggerSavepoint(engine.StopSavepoint)
			if err != nil {
				t.Fatal(err)
			}
			rt.RunUntil(sim.Time(sim.Minute))
			failed, reason := rt.Failed()
			t.Log(reason)
			if !failed || rt.Status() != engine.JobFailed {
				t.Fatalf("the job did not fail (status %s, savepoints %+v)", rt.Status(), results)
			}
			vs := rt.ContractViolations()
			if len(vs) != 1 || vs[0].Checkpoint != id || vs[0].Task == "" {
				t.Fatalf("violations %+v, want one for savepoint %d", vs, id)
			}
			for _, want := range []string{"protocol " + c.p.Name(), "savepoint", vs[0].Task, c.wants, "savepoints must be aligned (checkpoint.BarrierInfo.Savepoint)"} {
				if !strings.Contains(reason, want) {
					t.Errorf("reason %q does not say %q", reason, want)
				}
			}
			if len(results) != 1 || results[0].ID != id || results[0].OK {
				t.Errorf("savepoint results %+v, want savepoint %d failed", results, id)
			}
			if rt.World().Now() > sim.Time(sim.Second) {
				t.Errorf("the job failed only at %v, not at the violation (%v)", rt.World().Now(), vs[0].At)
			}
		})
	}
}

// TestCorrectProtocolsKeepTheSavepointContract: every registered coordinated
// protocol takes a stop-with-savepoint without a violation.
func TestCorrectProtocolsKeepTheSavepointContract(t *testing.T) {
	for _, name := range []string{"aligned", "unaligned", "hybrid", "atleastonce"} {
		cfg := savepointConfig(t, name, "heap")
		cfg.Checkpoint.AlignedTimeout = sim.Microsecond
		rt := newSavepointRuntime(t, cfg)
		rt.Start()
		rt.RunUntil(sim.Time(300 * sim.Millisecond))
		if _, err := rt.TriggerSavepoint(engine.StopSavepoint); err != nil {
			t.Fatal(err)
		}
		rt.RunUntil(sim.Time(sim.Minute))
		if vs := rt.ContractViolations(); len(vs) > 0 || rt.StoppedWith() == nil {
			t.Errorf("%s: violations %v, stopped with %v, failures %v", name, vs, rt.StoppedWith(), rt.Failures())
		}
	}
}
