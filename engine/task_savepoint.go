package engine

import (
	"fmt"

	"github.com/ckptsim/ckptsim/state"
)

// snapshotState takes the keyed state's part of checkpoint id: the backend's own
// snapshot (files for pebble, incremental when configured), or for a savepoint
// the canonical format, a sorted list of entries any backend restores.
func (t *Task) snapshotState(id int64) (*state.Snapshot, error) {
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
func canonicalSnapshot(st state.Backend) (snap *state.Snapshot, err error) {
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(*state.IOError)
			if !ok {
				panic(r)
			}
			snap, err = nil, fmt.Errorf("canonical savepoint: %w", e)
		}
	}()
	entries := st.Entries()
	if entries == nil {
		entries = []state.Entry{}
	}
	size := int64(len(entries)) * state.EntryBytes
	return &state.Snapshot{Backend: CanonicalBackend, Range: st.Range(), Entries: entries, FullSize: size, IncrementalSize: size}, nil
}

// resume lets a task suspended by stop-with-savepoint id go on: the savepoint
// was aborted, the job keeps running.
func (t *Task) resume(id int64) {
	if t.suspended == id && id != 0 {
		t.suspended = 0
		t.wake()
	}
}
