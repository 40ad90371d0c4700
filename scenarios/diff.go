package scenarios

import (
	"strings"

	"github.com/google/go-cmp/cmp"
)

// StableDiff is cmp.Diff(want, got) made reproducible: go-cmp deliberately
// indents its report with U+00A0 instead of U+0020 in a random half of the
// processes (chosen from the wall clock at start-up, so that no one relies on
// its format); the same two values must give the same text in every run, since
// the text ends up in results.json and the HTML report. "" when equal.
func StableDiff(want, got any) string {
	return strings.ReplaceAll(cmp.Diff(want, got), "\u00a0", " ")
}
