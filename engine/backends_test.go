package engine

import (
	"testing"

	"github.com/ckptsim/ckptsim/state"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// backendKinds are the state backends every engine test runs against.
var backendKinds = []string{"heap", "pebble"}

// stateBackends lists the backends every engine test runs against.
func stateBackends(t testing.TB) []string { return backendKinds }

// newRapidBackend returns an empty backend of the given kind; pebble lives on a
// fresh in-memory filesystem.
func newRapidBackend(t interface{ Fatal(args ...any) }, kind string, rng state.KeyGroupRange) state.Backend {
	if kind == "heap" {
		return state.NewHeap(rng)
	}
	p, err := state.NewPebble(vfs.NewCrashableMem(), "state", rng)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
