package engine

import "testing"

// stateBackends lists the backends every engine test runs against.
func stateBackends(t testing.TB) []string { return []string{"heap", "pebble"} }
