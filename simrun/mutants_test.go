package simrun

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ckptsim/ckptsim/protocol/mutant"
)

// TestCatchRateTableIsCurrent checks that docs/protocols.md's catch-rate table
// (written by `simrun mutants --write`) has one row per mutant, in order, and that
// every mutant has a figure from before the search changes or is listed as newer. Regenerate it with
// mutantsCommand after adding a mutant.
func TestCatchRateTableIsCurrent(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "protocols.md"))
	if err != nil {
		t.Fatal(err)
	}
	i, j := bytes.Index(doc, []byte(catchRatesBegin)), bytes.Index(doc, []byte(catchRatesEnd))
	if i < 0 || j < i {
		t.Fatalf("docs/protocols.md has no catch-rate markers")
	}
	var rows []string
	for _, line := range strings.Split(string(doc[i:j]), "\n") {
		if strings.HasPrefix(line, "| `mutant/") {
			rows = append(rows, strings.Trim(strings.SplitN(line, "|", 3)[1], " `"))
		}
	}
	var want []string
	for _, m := range mutant.All {
		want = append(want, m.Name())
		if _, ok := catchRatesBefore[m.Name()]; !ok && !contains(catchRatesNew, m.Name()) {
			t.Errorf("%s has no catch rate from before the search changes and is not listed as newer (catchRatesNew)", m.Name())
		}
	}
	if strings.Join(rows, ",") != strings.Join(want, ",") {
		t.Errorf("the table lists %v, the mutants are %v: run `%s`", rows, want, mutantsCommand)
	}
}

// TestReplaceCatchRates checks that --write replaces exactly the text between the
// markers and refuses a file without them.
func TestReplaceCatchRates(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "doc.md")
	old := "intro\n" + catchRatesBegin + "\nold table\n" + catchRatesEnd + "\noutro\n"
	if err := os.WriteFile(p, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	table := catchRatesBegin + "\nnew\n" + catchRatesEnd + "\n"
	if err := replaceCatchRates(p, []byte(table)); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(p)
	if want := "intro\n" + table + "outro\n"; string(got) != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if err := os.WriteFile(p, []byte("no markers\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := replaceCatchRates(p, []byte(table)); err == nil {
		t.Errorf("a file without markers was accepted")
	}
}
