package engine

import "testing"

// TestVerifierOrderIsPerSubtask: a split's record committed by one sink subtask
// after a later one committed by another is in order (nothing orders two
// subtasks' commits); after a later one of the same subtask it is out of order.
// Duplicates count across subtasks.
func TestVerifierOrderIsPerSubtask(t *testing.T) {
	rec := func(off int64) *Record { return &Record{Split: 2, Offset: off} }
	var v Verifier
	for _, c := range []struct {
		subtask int
		off     int64
	}{{2, 76}, {0, 80}, {0, 87}, {2, 77}, {2, 78}} {
		v.ObserveFrom(c.subtask, rec(c.off))
	}
	if v.OutOfOrder != 0 || v.Duplicates != 0 {
		t.Fatalf("across subtasks: %d out of order, %d duplicates, want 0, 0", v.OutOfOrder, v.Duplicates)
	}
	v.ObserveFrom(0, rec(79))
	if v.OutOfOrder != 1 {
		t.Fatalf("79 after 87 at subtask 0: %d out of order, want 1", v.OutOfOrder)
	}
	if !v.ObserveFrom(1, rec(80)) || v.Duplicates != 1 {
		t.Fatalf("80 again at subtask 1: %d duplicates, want 1", v.Duplicates)
	}
	if !v.Seen(2, 87) || v.Seen(2, 81) {
		t.Fatal("Seen disagrees with what was observed")
	}
}
