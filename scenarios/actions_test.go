package scenarios

import (
	"os"
	"strings"
	"testing"

	"github.com/ckptsim/ckptsim/actions"
	"github.com/ckptsim/ckptsim/sim"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// withActions is a small scenario that stops with a savepoint, restores at new
// parallelism and backend, cancels and restores the retained checkpoint.
const withActions = `name: acts
job:
  sources:
    - {name: src, splits: 4, records: 2000, rate: 1000/s}
  operators:
    - {name: agg, type: sum, input: src, parallelism: 2}
    - {name: out, type: sink, input: agg}
config:
  execution.checkpointing.interval: 200 ms
  execution.checkpointing.externalized-checkpoint-retention: RETAIN_ON_CANCELLATION
actions:
  - {at: 500 ms, kind: savepoint}
  - {after: 200 ms, kind: stop-with-savepoint}
  - {after: 300 ms, kind: restore, parallelism: {agg: 3, src: 2}, state-backend: pebble}
  - {after-checkpoints: 2, kind: cancel}
  - {after: 100 ms, kind: restore, from: checkpoint, parallelism: {agg: 1}}
`

func TestActionsScenario(t *testing.T) {
	sc, err := Parse([]byte(withActions), "acts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	st, err := sc.Setup("")
	if err != nil {
		t.Fatal(err)
	}
	want := actions.Schedule{
		{Kind: actions.Savepoint, At: 500 * sim.Millisecond},
		{Kind: actions.StopWithSavepoint, After: 200 * sim.Millisecond},
		{Kind: actions.Restore, After: 300 * sim.Millisecond, Parallelism: map[string]int{"agg": 3, "src": 2}, StateBackend: "pebble"},
		{Kind: actions.Cancel, AfterCheckpoints: 2},
		{Kind: actions.Restore, After: 100 * sim.Millisecond, From: "checkpoint", Parallelism: map[string]int{"agg": 1}},
	}
	if d := cmp.Diff(want, st.Actions); d != "" {
		t.Fatalf("actions (-want +got):\n%s", d)
	}
	// agg runs at 2, 3, then 1 while out stays at 2: their edge is rebalance; the
	// cluster has slots for the largest parallelism
	for _, v := range st.NewJob().Vertices {
		if v.Name == "out" && v.Inputs[0].Part.String() != "rebalance" {
			t.Errorf("agg -> out is %v", v.Inputs[0].Part)
		}
	}
	data, _ := sc.YAML()
	back, err := Parse(data, "printed.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if d := cmp.Diff(sc, back, cmpopts.EquateEmpty()); d != "" {
		t.Errorf("round trip (-loaded +reloaded):\n%s", d)
	}
	res, err := Run(st, RunOptions{CheckRestorePoints: true})
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK || len(res.Actions) != 5 || res.Savepoints.Restores != 2 {
		t.Fatalf("ok %v, actions %v, savepoints %+v, checks %+v", res.OK, res.Actions, res.Savepoints, res.Checks)
	}
	for _, c := range []string{"savepoint", "stop-with-savepoint", "cancel", "restore-from-savepoint", "restore-from-checkpoint", "rescale-by-restore"} {
		if !strings.Contains(strings.Join(res.Coverage, " "), c) {
			t.Errorf("coverage %v lacks %s", res.Coverage, c)
		}
	}
}

// TestActionsMaxParallelismRefused: a restore with another max parallelism fails
// the job with Flink's message, and a scenario can expect it.
func TestActionsMaxParallelismRefused(t *testing.T) {
	src := strings.Replace(withActions, "state-backend: pebble}", "max-parallelism: 256}", 1) + "expect: {outcome: job-fails}\n"
	sc, err := Parse([]byte(src), "refused.yaml")
	if err != nil {
		t.Fatal(err)
	}
	st, err := sc.Setup("")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(st, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK || res.Outcome != OutcomeJobFails || !strings.Contains(res.Checks[0].Detail, "maximum parallelism (128)") {
		t.Fatalf("outcome %s: %+v", res.Outcome, res.Checks)
	}
}

// TestStoppedNotDrained: a job stopped without drain and never restored has
// committed part of the reference's output exactly once, and a job restored from
// its savepoint ends as the reference.
func TestStoppedNotDrained(t *testing.T) {
	src := withActions[:strings.Index(withActions, "actions:")] + "actions:\n  - {at: 800 ms, kind: stop-with-savepoint}\n"
	for _, proto := range []string{"aligned", "unaligned", "atleastonce"} {
		sc, err := Parse([]byte(src), "stop.yaml")
		if err != nil {
			t.Fatal(err)
		}
		st, err := sc.Setup(proto)
		if err != nil {
			t.Fatal(err)
		}
		res, err := Run(st, RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]bool{}
		for _, c := range res.Checks {
			names[c.Name] = true
		}
		if !res.OK || !names["savepoint-resumes"] || (proto != "atleastonce" && !names["exactly-once-output-so-far"]) {
			t.Errorf("%s: ok %v, checks %+v", proto, res.OK, res.Checks)
		}
	}
}

func TestActionsBadInput(t *testing.T) {
	rep := func(old, new string) string {
		if !strings.Contains(withActions, old) {
			panic("case does not apply: " + old)
		}
		return strings.Replace(withActions, old, new, 1)
	}
	for _, c := range []struct{ name, src, pos, msg string }{
		{"unknown kind", rep("kind: savepoint}", "kind: snapshot}"), "12:24", `unknown action "snapshot"`},
		{"restore while running", rep("kind: stop-with-savepoint}", "kind: savepoint}"), "14:5", "the job is still running"},
		{"unknown operator", rep("{agg: 3, src: 2}", "{agr: 3, src: 2}"), "14:50", `unknown operator "agr" (did you mean "agg"?)`},
		{"parallelism too large", rep("{agg: 3, src: 2}", "{agg: 300, src: 2}"), "14:55", "within [1, 128]"},
		{"field of another kind", rep("kind: cancel}", "kind: cancel, drain: true}"), "15:42", "does not take drain"},
		{"no retention", rep("  execution.checkpointing.externalized-checkpoint-retention: RETAIN_ON_CANCELLATION\n", ""), "15:42", "RETAIN_ON_CANCELLATION"},
		{"bad delay", rep("after: 200 ms", "after: soon"), "13:13", "after: "},
		{"bad retention", rep("RETAIN_ON_CANCELLATION", "KEEP"), "10:62", "want RETAIN_ON_CANCELLATION"},
		{"from a stopped job's checkpoint", rep("kind: restore, parallelism: {agg: 3", "kind: restore, from: checkpoint, parallelism: {agg: 3"), "14:5", "a stopped job keeps no checkpoint"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.src), "bad.yaml")
			if err == nil {
				t.Fatal("parsed; want an error")
			}
			first := strings.SplitN(err.Error(), "\n", 2)[0]
			if !strings.HasPrefix(first, "bad.yaml:"+c.pos) || !strings.Contains(first, c.msg) {
				t.Errorf("error %q, want it at %s saying %q", first, c.pos, c.msg)
			}
		})
	}
}

// TestSavepointsDocExample: the full scenario of docs/savepoints.md loads and
// passes.
func TestSavepointsDocExample(t *testing.T) {
	data, err := os.ReadFile("../docs/savepoints.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	i := strings.Index(doc, "```yaml\nname: ")
	if i < 0 {
		t.Fatal("docs/savepoints.md has no full scenario")
	}
	block := doc[i+len("```yaml\n"):]
	block = block[:strings.Index(block, "```")]
	sc, err := Parse([]byte(block), "docs/savepoints.md")
	if err != nil {
		t.Fatal(err)
	}
	st, err := sc.Setup("")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(st, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK || res.Savepoints.Restores != 2 {
		t.Fatalf("ok %v, actions %v, checks %+v", res.OK, res.Actions, res.Checks)
	}
}
