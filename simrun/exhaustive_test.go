package simrun

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/ckptsim/ckptsim/scenarios"
)

// TestExhaustiveListAndReplay: --list numbers every (point, target) case, a
// mutant fails a crash case of a scenario changed by --set, and the replay
// command printed (which carries the --set) runs that case alone and fails it
// again.
func TestExhaustiveListAndReplay(t *testing.T) {
	code, out, errOut := simrun(t, "explore", "--exhaustive", "crash-during-alignment", "--list", "--json")
	if code != 0 {
		t.Fatalf("--list: exit %d\n%s\n%s", code, out, errOut)
	}
	var rows []struct {
		Case   int
		Target string
	}
	if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) == 0 {
		t.Fatalf("--list --json: %v\n%s", err, out)
	}
	targets := map[string]bool{}
	for i, r := range rows {
		if r.Case != i+1 {
			t.Fatalf("row %d is case %d", i, r.Case)
		}
		targets[r.Target] = true
	}
	for _, want := range []string{"worker-0", "worker-1", "worker-2", scenarios.TargetCoordinator, scenarios.TargetStore} {
		if !targets[want] {
			t.Errorf("no case crashes %s", want)
		}
	}
	const interval = "execution.checkpointing.interval=400ms"
	code, out, _ = simrun(t, "explore", "--exhaustive", "crash-during-alignment", "--protocol", "mutant/sink-early-commit", "--max-failures", "1", "--parallel", "2", "--set", interval)
	if code != 1 || !strings.Contains(out, "first failing point: case ") {
		t.Fatalf("the mutant was not caught (exit %d):\n%s", code, out)
	}
	replay := ""
	for _, line := range strings.Split(out, "\n") {
		if r, ok := strings.CutPrefix(strings.TrimSpace(line), "replay: simrun "); ok && replay == "" {
			replay = r
		}
	}
	args := strings.Fields(replay)
	if !slices.Contains(args, "--point") || !strings.HasSuffix(replay, " --set "+interval) {
		t.Fatalf("no replay command with --point and the --set in:\n%s", out)
	}
	code, again, _ := simrun(t, args...)
	if code != 1 || !strings.Contains(again, "1 of ") || !strings.Contains(again, "1 failed") {
		t.Fatalf("replay %q: exit %d\n%s", replay, code, again)
	}
}

func TestExhaustiveUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"explore", "--exhaustive", "fifo-violation"},                // expects detected
		{"explore", "--exhaustive", "no-such-scenario"},              // unknown
		{"explore", "--exhaustive", "steady", "--protocol", "nope"},  // unknown protocol
		{"explore", "--exhaustive", "steady", "--runs", "5"},         // a random-only flag
		{"explore", "--exhaustive", "steady", "--point", "0"},        // no case 0
		{"explore", "--point", "3"},                                  // needs --exhaustive
		{"explore", "--set", "out.cost=1ms"},                         // needs --exhaustive
		{"explore", "--exhaustive", "steady", "--set", "out.cost=x"}, // bad value
		{"explore", "--exhaustive", "steady", "--set", "out.cost"},   // no value
	} {
		code, out, errOut := simrun(t, args...)
		if code != 2 || !strings.HasPrefix(errOut, "simrun: ") || strings.Count(errOut, "\n") != 1 {
			t.Errorf("simrun %s: exit %d, want 2 with one line\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
		}
		noCrash(t, out+errOut)
	}
}

// TestExhaustiveNotesEquivalentMutant: a mutant only a cycle can catch passes the
// crash points of an acyclic scenario, and the summary says why and where to
// search instead; on a cyclic scenario such a mutant fails, without the note.
func TestExhaustiveNotesEquivalentMutant(t *testing.T) {
	const m = "mutant/aligned-no-backedge-log"
	code, out, _ := simrun(t, "explore", "--exhaustive", "crash-during-alignment", "--protocol", m, "--point", "1,2")
	if code != 0 || !strings.Contains(out, "note: "+m+" changes only jobs with a feedback edge and crash-during-alignment has none") ||
		!strings.Contains(out, "simrun explore --exhaustive cyclic-narrow-loop --protocol "+m) {
		t.Fatalf("exit %d, no note on the equivalent mutant:\n%s", code, out)
	}
	code, out, _ = simrun(t, "explore", "--exhaustive", "cyclic-narrow-loop", "--protocol", "mutant/cic-skip-forced", "--point", "1")
	if code != 1 || strings.Contains(out, "note: ") {
		t.Fatalf("on the cyclic scenario: exit %d\n%s", code, out)
	}
	code, out, _ = simrun(t, "explore", "--exhaustive", "crash-during-alignment", "--protocol", "aligned", "--point", "1")
	if code != 0 || strings.Contains(out, "note: ") {
		t.Fatalf("a correct protocol gets no note: exit %d\n%s", code, out)
	}
}
