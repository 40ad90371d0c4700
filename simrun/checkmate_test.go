package simrun

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckmateDocIsCurrent: docs/checkmate.md and its figures in
// docs/checkmate/ are what their command produces now (regenerate them with the
// command the file names when the engine changes).
func TestCheckmateDocIsCurrent(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("..", "docs", "checkmate.md"))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := runCheckmate(2, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := rep.writeFigures(dir); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	rep.write(&got)
	if got.String() != string(want) {
		t.Fatalf("docs/checkmate.md is stale: run `%s` (first difference at byte %d)", checkmateCommand, firstDiff(got.String(), string(want)))
	}
	if !strings.Contains(string(want), checkmateCommand) {
		t.Fatalf("docs/checkmate.md does not name the command that produces it")
	}
	if len(rep.figures) != len(checkmateFigures) {
		t.Fatalf("%d figures drawn, want %d: %v", len(rep.figures), len(checkmateFigures), rep.figures)
	}
	for _, path := range rep.figures {
		fresh, err := os.ReadFile(filepath.Join(dir, path))
		if err != nil {
			t.Fatal(err)
		}
		committed, err := os.ReadFile(filepath.Join("..", "docs", path))
		if err != nil {
			t.Fatalf("docs/%s: %v (run `%s`)", path, err, checkmateCommand)
		}
		if !bytes.Equal(fresh, committed) {
			t.Fatalf("docs/%s is stale: run `%s`", path, checkmateCommand)
		}
		if !strings.Contains(string(want), "("+path+")") {
			t.Fatalf("docs/checkmate.md does not show %s", path)
		}
	}
	for _, r := range rep.rows {
		if !r.OK {
			t.Errorf("%s under %s failed: %s", r.Values, r.Protocol, r.Replay)
		}
	}
	for _, l := range rep.logs {
		if !l.res.OK {
			t.Errorf("log bound %s failed: %s", l.duration, l.replay)
		}
	}
}
