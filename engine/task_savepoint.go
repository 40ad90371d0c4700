package engine

import "fmt"

// snapshotState takes the keyed state's part of checkpoint id: the backend's own
// snapshot (files for pebble, incremental when configured), or for a savepoint
// the canonical format, a sorted list of entries any backend restores.
func (t *Task) snapshotState(id int64) (*StateSnapshot, error) {
	if t.rt.savepointKinds[id] == NoSavepoint {
		return t.state.Snapshot(id, t.rt.cfg.Checkpoint.Incremental)
	}
	return canonicalSnapshot(t.state)
}

// CanonicalBackend names the backend-independent format of savepoint state.
const CanonicalBackend = "canonical"

// canonicalSnapshot copies every entry of st, whatever the backend: what Flink
// calls the canonical savepoint format. A failed read of the backend's disk is
// an error, not a panic.
func canonicalSnapshot(st KeyedState) (snap *StateSnapshot, err error) {
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(*StateIOError)
			if !ok {
				panic(r)
			}
			snap, err = nil, fmt.Errorf("canonical savepoint: %w", e)
		}
	}()
	entries := st.Entries()
	if entries == nil {
		entries = []StateEntry{}
	}
	size := int64(len(entries)) * StateEntryBytes
	return &StateSnapshot{Backend: CanonicalBackend, Range: st.Range(), Entries: entries, FullSize: size, IncrementalSize: size}, nil
}

// resume lets a task suspended by stop-with-savepoint id go on: the savepoint
// was aborted, the job keeps running.
func (t *Task) resume(id int64) {
	if t.suspended == id && id != 0 {
		t.suspended = 0
		t.wake()
	}
}
