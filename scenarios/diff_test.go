package scenarios

import (
	"strings"
	"testing"
)

// TestStableDiff: the diff of two values is plain ASCII-indented text whatever
// go-cmp chose at start-up, and names the differing field.
func TestStableDiff(t *testing.T) {
	type kv struct{ Key, Value int }
	want := []kv{{1, 10}, {2, 20}}
	got := []kv{{1, 10}, {2, 21}}
	d := StableDiff(want, got)
	if strings.Contains(d, "\u00a0") {
		t.Fatalf("diff keeps U+00A0:\n%q", d)
	}
	if !strings.Contains(d, "-") || !strings.Contains(d, "+") || !strings.Contains(d, "Value") {
		t.Fatalf("diff does not show the change:\n%s", d)
	}
	if StableDiff(want, want) != "" {
		t.Fatal("equal values differ")
	}
}
