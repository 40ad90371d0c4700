package simrun

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExploreHashes: --hashes writes one line per case, "seed protocol scenario
// hash", and replaying a case with --case writes the same line.
func TestExploreHashes(t *testing.T) {
	dir := t.TempDir()
	all := filepath.Join(dir, "all")
	if code, out, errOut := simrun(t, "explore", "--runs", "3", "--seed", "5", "--hashes", all); code != 0 {
		t.Fatalf("explore: exit %d\n%s\n%s", code, out, errOut)
	}
	lines := readLines(t, all)
	if len(lines) != 3 {
		t.Fatalf("%d lines in the --hashes file, want 3:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	f := strings.Fields(lines[1])
	if len(f) != 4 || len(f[3]) != 16 {
		t.Fatalf("line %q: want seed, protocol, scenario and a 16-digit hash", lines[1])
	}
	one := filepath.Join(dir, "one")
	if code, out, errOut := simrun(t, "explore", "--case", f[0], "--protocol", f[1], "--hashes", one); code != 0 {
		t.Fatalf("explore --case: exit %d\n%s\n%s", code, out, errOut)
	}
	if got := readLines(t, one); len(got) != 1 || got[0] != lines[1] {
		t.Errorf("replayed case: %q, in the exploration: %q", got, lines[1])
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// TestExploreMaxFailures: random explore stops starting cases at the first
// failure with --max-failures 1, and says how many it did not run.
func TestExploreMaxFailures(t *testing.T) {
	code, out, errOut := simrun(t, "explore", "--protocol", "mutant/sink-early-commit", "--runs", "200",
		"--max-failures", "1", "--no-shrink", "--parallel", "1", "--json")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, out, errOut)
	}
	var rep struct {
		Runs, Failures, Skipped int
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if rep.Failures != 1 || rep.Runs+rep.Skipped != 200 || rep.Skipped == 0 {
		t.Fatalf("--max-failures 1 over 200 cases: %d runs, %d failures, %d not run", rep.Runs, rep.Failures, rep.Skipped)
	}
	if code, _, errOut := simrun(t, "explore", "--max-failures", "-1"); code != 2 {
		t.Fatalf("--max-failures -1: exit %d\n%s", code, errOut)
	}
}
