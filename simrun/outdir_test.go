package simrun

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func touch(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	return out
}

// TestPrepareSuiteDir: an earlier suite's outputs go (stale traces and figures
// with them), other files stay; a foreign non-empty directory is refused unless
// --force.
func TestPrepareSuiteDir(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"results.json", "index.html", "summary.txt", "traces/gone--aligned--trace.json",
		"figures/gone--timeline.svg", "data/checkpoints.csv", "my-notes.txt"} {
		touch(t, filepath.Join(dir, f))
	}
	if err := prepareSuiteDir(dir, false); err != nil {
		t.Fatal(err)
	}
	if got := names(t, dir); !slices.Equal(got, []string{"my-notes.txt"}) {
		t.Errorf("left %v, want only my-notes.txt", got)
	}
	// now my-notes.txt alone: not an earlier suite's output
	if err := prepareSuiteDir(dir, false); err == nil {
		t.Error("a foreign non-empty directory was accepted without --force")
	}
	touch(t, filepath.Join(dir, "figures", "x.svg"))
	if err := prepareSuiteDir(dir, true); err != nil {
		t.Fatal(err)
	}
	if got := names(t, dir); !slices.Equal(got, []string{"my-notes.txt"}) {
		t.Errorf("with --force left %v", got)
	}
	if err := prepareSuiteDir(filepath.Join(dir, "new"), false); err != nil {
		t.Errorf("a new directory: %v", err)
	}
}

// TestClearSweepOutputs: only what a sweep of the same name wrote goes.
func TestClearSweepOutputs(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"s.csv", "s.json", "s--recovery.svg", "s--recovery.csv", "other.csv", "other--duration.png", "s-x.csv"} {
		touch(t, filepath.Join(dir, f))
	}
	if err := clearSweepOutputs(dir, "s"); err != nil {
		t.Fatal(err)
	}
	if got := names(t, dir); !slices.Equal(got, []string{"other--duration.png", "other.csv", "s-x.csv"}) {
		t.Errorf("left %v", got)
	}
}
