// Package state holds the keyed state backends of operator subtasks: the heap
// backend (one hash table per key group) and the pebble backend (an LSM on a
// node's simulated disk, with incremental snapshots of shared sstables), their
// snapshots, and key groups (how keys map to subtasks when rescaling). It knows
// nothing of tasks or checkpoints: the engine snapshots and restores a backend
// at the moments its protocol decides.
package state

import (
	"cmp"
	"fmt"
	"slices"
)

// Cell addresses one value of keyed state: a namespace (an operator's state or
// timer family), the record key, and a sub-key (a window end, a buffered record id).
type Cell struct {
	NS  uint32
	Key uint64
	Sub int64
}

// Entry is one value of keyed state with the key group it belongs to.
type Entry struct {
	KeyGroup int
	Cell
	Value int64
}

// EntryBytes is the logical size of one entry in snapshots of the heap backend.
const EntryBytes = 2 + 4 + 8 + 8 + 8

// Backend is a state backend: the keyed state of one operator subtask, covering
// one range of key groups. Implementations: the heap backend (Go maps) and the
// pebble backend (an LSM on the node's simulated disk).
type Backend interface {
	// Get returns the value stored under k in key group kg.
	Get(kg int, k Cell) (int64, bool)
	// Put stores v under k in key group kg.
	Put(kg int, k Cell, v int64)
	// Delete removes k from key group kg.
	Delete(kg int, k Cell)
	// ScanKey calls fn for every entry of (ns, key) in key group kg in Sub order,
	// until fn returns false.
	ScanKey(kg int, ns uint32, key uint64, fn func(sub, value int64) bool)
	// Entries returns every entry sorted by (key group, ns, key, sub): what the
	// oracles compare.
	Entries() []Entry
	// Snapshot captures the state as of now for checkpoint id. An incremental
	// snapshot may share files with the previous one; backends that cannot do
	// incremental snapshots take full ones.
	Snapshot(id int64, incremental bool) (*Snapshot, error)
	// Restore replaces the state with the entries of the snapshots that fall in the
	// backend's key-group range (snapshots of several old subtasks when rescaling).
	Restore(snaps []*Snapshot) error
	// Range is the key groups this backend holds.
	Range() KeyGroupRange
	// Close releases the backend's resources.
	Close() error
}

// Snapshot is an immutable copy of one subtask's keyed state.
type Snapshot struct {
	Backend string
	Range   KeyGroupRange
	// Entries holds the state of full logical snapshots (heap backend), sorted
	// by (key group, ns, key, sub) unless the backend took it unsorted: read it
	// with SnapshotEntries, which sorts.
	Entries []Entry
	// Files holds the files of file-based snapshots (pebble backend); files shared
	// with an earlier snapshot are listed with Shared set.
	Files []File
	// FullSize is the size in bytes of the whole state.
	FullSize int64
	// IncrementalSize is the size of what this snapshot added (FullSize when full).
	IncrementalSize int64
	// Unsorted says Entries are in no particular order: the heap backend does not
	// sort when it snapshots (most checkpoints are never read back, and a restore
	// needs no order); SnapshotEntries sorts a copy.
	Unsorted bool
}

// File is one file of a file-based snapshot.
type File struct {
	Name   string
	Size   int64
	Data   []byte
	Shared bool
}

// Heap is the heap state backend: one in-memory hash table per key group.
type Heap struct {
	rng    KeyGroupRange
	groups []table
	// scanSubs is ScanKey's scratch slice of subs.
	scanSubs []int64
	// scan indexes the subs of the namespaces ScanKey was asked about
	// (scanindex.go).
	scan scanIndex
}

// NewHeap returns an empty heap backend for the key groups of rng.
func NewHeap(rng KeyGroupRange) *Heap {
	return &Heap{rng: rng, groups: make([]table, rng.Len())}
}

func (h *Heap) group(kg int) *table {
	if !h.rng.Contains(kg) {
		panic(fmt.Sprintf("state: key group %d outside the backend's range %v", kg, h.rng))
	}
	return &h.groups[kg-h.rng.Start]
}

// Range is the key groups the backend holds.
func (h *Heap) Range() KeyGroupRange { return h.rng }

// Get returns the value of k in key group kg.
func (h *Heap) Get(kg int, k Cell) (int64, bool) {
	return h.group(kg).get(k)
}

// Put stores v under k in key group kg.
func (h *Heap) Put(kg int, k Cell, v int64) {
	if h.group(kg).put(k, v) && h.scan.covers(k.NS) {
		h.scan.insert(kg, &k)
	}
}

// Add adds delta to the value under k (0 when absent) and returns the new value:
// a read-modify-write in one probe, for sums and counts.
func (h *Heap) Add(kg int, k Cell, delta int64) int64 {
	v, inserted := h.group(kg).add(&k, delta)
	if inserted && h.scan.covers(k.NS) {
		h.scan.insert(kg, &k)
	}
	return v
}

// Delete removes k from key group kg.
func (h *Heap) Delete(kg int, k Cell) {
	if h.group(kg).del(k) && h.scan.covers(k.NS) {
		h.scan.remove(kg, &k)
	}
}

// ScanKey calls fn for the entries of (ns, key) in Sub order: the subs as the
// key group holds them when the scan starts, each value read just before fn sees
// it (fn may change the state). The first scan of a namespace indexes its subs by
// (key group, key), kept up to date by every later put and delete of it.
func (h *Heap) ScanKey(kg int, ns uint32, key uint64, fn func(sub, value int64) bool) {
	g := h.group(kg)
	if !h.scan.covers(ns) {
		h.scan.build(h, ns)
	}
	// a copy in a scratch of the backend's own, unless a scan is already using it
	// (fn may scan again, or change the subs)
	subs := append(h.scanSubs[:0], h.scan.subs[scanKey{kg: kg, ns: ns, key: key}]...)
	h.scanSubs = nil
	for _, s := range subs {
		v, _ := g.get(Cell{NS: ns, Key: key, Sub: s})
		if !fn(s, v) {
			break
		}
	}
	h.scanSubs = subs
}

// Entries returns every entry in sorted order.
func (h *Heap) Entries() []Entry { return h.entries(true) }

// EntriesAnyOrder returns every entry in no particular order (each key group's in
// its table's slot order).
func (h *Heap) EntriesAnyOrder() []Entry { return h.entries(false) }

// EntriesAnyOrder returns every entry of b in no particular order, each key once:
// for a reader that orders or indexes them itself (an operator rebuilding its
// timer heap after a restore). A backend without an unordered listing gives its
// sorted Entries.
func EntriesAnyOrder(b Backend) []Entry {
	if u, ok := b.(interface{ EntriesAnyOrder() []Entry }); ok {
		return u.EntriesAnyOrder()
	}
	return b.Entries()
}

// entries copies every entry, by key group, each group's in slot order unless
// sorted.
func (h *Heap) entries(sorted bool) []Entry {
	n := 0
	for i := range h.groups {
		n += h.groups[i].n
	}
	var out []Entry
	if n > 0 {
		out = make([]Entry, 0, n) // one allocation: a snapshot copies every entry
	}
	for i := range h.groups {
		start := len(out)
		kg := h.rng.Start + i
		for j := range h.groups[i].slots {
			if s := &h.groups[i].slots[j]; s.used {
				out = append(out, Entry{KeyGroup: kg, Cell: s.stateKey(), Value: s.val})
			}
		}
		if sorted {
			SortEntries(out[start:])
		}
	}
	return out
}

// Snapshot copies the whole state (the heap backend takes full snapshots only),
// unsorted: SnapshotEntries sorts a copy for a reader that needs the order.
func (h *Heap) Snapshot(int64, bool) (*Snapshot, error) {
	e := h.entries(false)
	size := int64(len(e)) * EntryBytes
	return &Snapshot{Backend: "heap", Range: h.rng, Entries: e, FullSize: size, IncrementalSize: size, Unsorted: true}, nil
}

// Restore loads the entries of snaps that fall in the backend's range (a later
// snapshot's value of a key wins), each key group's table sized for its entries
// at once.
func (h *Heap) Restore(snaps []*Snapshot) error {
	clear(h.groups)
	h.scan = scanIndex{} // rebuilt by the next scan
	all := make([][]Entry, len(snaps))
	counts := make([]int, len(h.groups))
	for i, s := range snaps {
		entries, err := SnapshotEntriesAnyOrder(s)
		if err != nil {
			return err
		}
		all[i] = entries
		for _, e := range entries {
			if h.rng.Contains(e.KeyGroup) {
				counts[e.KeyGroup-h.rng.Start]++
			}
		}
	}
	for i, n := range counts {
		if n > 0 {
			h.groups[i].reserve(n)
		}
	}
	for _, entries := range all {
		for _, e := range entries {
			if h.rng.Contains(e.KeyGroup) {
				h.groups[e.KeyGroup-h.rng.Start].put(e.Cell, e.Value)
			}
		}
	}
	return nil
}

// Close does nothing for the heap backend.
func (h *Heap) Close() error { return nil }

// SnapshotReader turns a file-based snapshot into entries; the pebble backend
// registers one so that any backend can restore any snapshot.
var snapshotReaders = map[string]func(*Snapshot) ([]Entry, error){}

// RegisterSnapshotReader makes snapshots of the named backend readable by
// SnapshotEntries.
func RegisterSnapshotReader(backend string, read func(*Snapshot) ([]Entry, error)) {
	snapshotReaders[backend] = read
}

// SnapshotEntries returns the entries of a snapshot of any backend, sorted by
// (key group, ns, key, sub). The snapshot itself is never modified (snapshots
// are shared by the runs that restore them): the entries of one taken unsorted
// are a sorted copy.
func SnapshotEntries(s *Snapshot) ([]Entry, error) {
	if s.Unsorted {
		out := slices.Clone(s.Entries)
		SortEntries(out)
		return out, nil
	}
	return SnapshotEntriesAnyOrder(s)
}

// SnapshotEntriesAnyOrder returns the entries of a snapshot of any backend in no
// particular order (each key at most once): for a reader that sorts or indexes
// them itself, such as a restore.
func SnapshotEntriesAnyOrder(s *Snapshot) ([]Entry, error) {
	if s.Entries != nil || len(s.Files) == 0 {
		return s.Entries, nil
	}
	read := snapshotReaders[s.Backend]
	if read == nil {
		return nil, fmt.Errorf("state: no reader for snapshots of the %q backend", s.Backend)
	}
	return read(s)
}

// SortEntries sorts entries by (key group, ns, key, sub).
func SortEntries(e []Entry) {
	slices.SortFunc(e, compareEntries)
}

// compareEntries orders entries by (key group, ns, key, sub).
func compareEntries(a, b Entry) int {
	if c := cmp.Compare(a.KeyGroup, b.KeyGroup); c != 0 {
		return c
	}
	if c := cmp.Compare(a.NS, b.NS); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Key, b.Key); c != 0 {
		return c
	}
	return cmp.Compare(a.Sub, b.Sub)
}
