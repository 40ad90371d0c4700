package engine

import (
	"slices"
	"testing"
)

// TestHooksSeveralSubscribers: every subscriber of a moment runs, in the order
// they subscribed, and any one of them swallows a completion's notifications.
func TestHooksSeveralSubscribers(t *testing.T) {
	var h Hooks
	var got []string
	h.OnDeployed(func(a int) { got = append(got, "first") })
	h.OnDeployed(func(a int) { got = append(got, "second") })
	h.fireDeployed(2)
	if !slices.Equal(got, []string{"first", "second"}) {
		t.Errorf("deployed subscribers ran as %v", got)
	}
	if h.fireCheckpointCompleted(&CompletedCheckpoint{ID: 1}) {
		t.Errorf("no subscriber, yet the notifications were swallowed")
	}
	calls := 0
	h.OnCheckpointCompleted(func(*CompletedCheckpoint) bool { calls++; return true })
	h.OnCheckpointCompleted(func(*CompletedCheckpoint) bool { calls++; return false })
	if !h.fireCheckpointCompleted(&CompletedCheckpoint{ID: 1}) || calls != 2 {
		t.Errorf("a swallowing subscriber and another: not swallowed, or %d calls (want 2)", calls)
	}
	if h.observesPhases() {
		t.Errorf("phases observed with no subscriber")
	}
	h.OnPhaseEnded(func(PhaseSpan) {})
	if !h.observesPhases() {
		t.Errorf("phases not observed with a subscriber")
	}
}
