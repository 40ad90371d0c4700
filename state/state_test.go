package state

import (
	"fmt"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

// This file holds the tests every Backend implementation must pass, run
// against the heap and the pebble backends.

// backendKinds are the state backends under test.
var backendKinds = []string{"heap", "pebble"}

// newTestBackend returns an empty backend of the given kind; pebble backends
// live on a fresh in-memory crashable filesystem. The backend is closed when the
// test ends.
func newTestBackend(t testing.TB, kind string, rng KeyGroupRange) Backend {
	t.Helper()
	var b Backend
	switch kind {
	case "heap":
		b = NewHeap(rng)
	case "pebble":
		p, err := NewPebble(vfs.NewCrashableMem(), "state", rng)
		if err != nil {
			t.Fatal(err)
		}
		b = p
	default:
		t.Fatalf("unknown backend %q", kind)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("close %s: %v", kind, err)
		}
	})
	return b
}

// scanAll returns what ScanKey visits as (sub, value) pairs.
func scanAll(s Backend, kg int, ns uint32, key uint64) [][2]int64 {
	var out [][2]int64
	s.ScanKey(kg, ns, key, func(sub, v int64) bool {
		out = append(out, [2]int64{sub, v})
		return true
	})
	return out
}

func TestStateBackendContract(t *testing.T) {
	rng := KeyGroupRange{Start: 10, End: 20}
	k := func(ns uint32, key uint64, sub int64) Cell { return Cell{NS: ns, Key: key, Sub: sub} }
	type op struct {
		del bool
		kg  int
		k   Cell
		v   int64
	}
	tests := []struct {
		name    string
		ops     []op
		want    []Entry
		scanKG  int
		scanNS  uint32
		scanKey uint64
		scan    [][2]int64
	}{
		{name: "empty", scanKG: 10},
		{
			name:   "put and overwrite",
			ops:    []op{{kg: 10, k: k(1, 2, 3), v: 4}, {kg: 10, k: k(1, 2, 3), v: 5}},
			want:   []Entry{{KeyGroup: 10, Cell: k(1, 2, 3), Value: 5}},
			scanKG: 10, scanNS: 1, scanKey: 2, scan: [][2]int64{{3, 5}},
		},
		{
			name:   "delete",
			ops:    []op{{kg: 11, k: k(1, 2, 3), v: 4}, {kg: 11, k: k(1, 2, 4), v: 6}, {del: true, kg: 11, k: k(1, 2, 3)}},
			want:   []Entry{{KeyGroup: 11, Cell: k(1, 2, 4), Value: 6}},
			scanKG: 11, scanNS: 1, scanKey: 2, scan: [][2]int64{{4, 6}},
		},
		{
			name:   "delete of a missing key",
			ops:    []op{{del: true, kg: 12, k: k(0, 0, 0)}},
			scanKG: 12,
		},
		{
			name: "negative subs scan in numeric order",
			ops: []op{
				{kg: 19, k: k(7, 1, 5), v: 1}, {kg: 19, k: k(7, 1, -5), v: 2},
				{kg: 19, k: k(7, 1, -1<<63), v: 3}, {kg: 19, k: k(7, 1, 1<<63-1), v: 4},
				{kg: 19, k: k(7, 1, 0), v: 5}, {kg: 19, k: k(7, 2, 0), v: 6}, {kg: 19, k: k(8, 1, 0), v: 7},
				{kg: 18, k: k(7, 1, 0), v: 8},
			},
			want: []Entry{
				{KeyGroup: 18, Cell: k(7, 1, 0), Value: 8},
				{KeyGroup: 19, Cell: k(7, 1, -1<<63), Value: 3},
				{KeyGroup: 19, Cell: k(7, 1, -5), Value: 2},
				{KeyGroup: 19, Cell: k(7, 1, 0), Value: 5},
				{KeyGroup: 19, Cell: k(7, 1, 5), Value: 1},
				{KeyGroup: 19, Cell: k(7, 1, 1<<63-1), Value: 4},
				{KeyGroup: 19, Cell: k(7, 2, 0), Value: 6},
				{KeyGroup: 19, Cell: k(8, 1, 0), Value: 7},
			},
			scanKG: 19, scanNS: 7, scanKey: 1, scan: [][2]int64{{-1 << 63, 3}, {-5, 2}, {0, 5}, {5, 1}, {1<<63 - 1, 4}},
		},
		{
			name: "large key and namespace values",
			ops:  []op{{kg: 10, k: k(1<<32-1, 1<<64-1, -1), v: -9}, {kg: 10, k: k(0, 1<<63, 0), v: 1 << 62}},
			want: []Entry{
				{KeyGroup: 10, Cell: k(0, 1<<63, 0), Value: 1 << 62},
				{KeyGroup: 10, Cell: k(1<<32-1, 1<<64-1, -1), Value: -9},
			},
			scanKG: 10, scanNS: 1<<32 - 1, scanKey: 1<<64 - 1, scan: [][2]int64{{-1, -9}},
		},
	}
	for _, kind := range backendKinds {
		for _, tc := range tests {
			t.Run(kind+"/"+tc.name, func(t *testing.T) {
				// Run each case on the live state, then after a snapshot (pebble:
				// data in sstables), then after restoring that snapshot.
				s := newTestBackend(t, kind, rng)
				for _, o := range tc.ops {
					if o.del {
						s.Delete(o.kg, o.k)
					} else {
						s.Put(o.kg, o.k, o.v)
					}
				}
				check := func(stage string, s Backend) {
					t.Helper()
					if d := cmp.Diff(tc.want, s.Entries()); d != "" {
						t.Errorf("%s: Entries (-want +got):\n%s", stage, d)
					}
					if d := cmp.Diff(tc.scan, scanAll(s, tc.scanKG, tc.scanNS, tc.scanKey)); d != "" {
						t.Errorf("%s: ScanKey (-want +got):\n%s", stage, d)
					}
					for _, e := range tc.want {
						if v, ok := s.Get(e.KeyGroup, e.Cell); !ok || v != e.Value {
							t.Errorf("%s: Get(%d, %+v) = %d, %v; want %d, true", stage, e.KeyGroup, e.Cell, v, ok, e.Value)
						}
					}
					if s.Range() != rng {
						t.Errorf("%s: Range = %v, want %v", stage, s.Range(), rng)
					}
				}
				check("live", s)
				snap, err := s.Snapshot(1, false)
				if err != nil {
					t.Fatal(err)
				}
				check("after snapshot", s)
				for _, into := range backendKinds {
					r := newTestBackend(t, into, rng)
					if err := r.Restore([]*Snapshot{snap}); err != nil {
						t.Fatal(err)
					}
					check("restored into "+into, r)
				}
			})
		}
	}
}

func TestStateBackendOutOfRangePanics(t *testing.T) {
	for _, kind := range backendKinds {
		t.Run(kind, func(t *testing.T) {
			s := newTestBackend(t, kind, KeyGroupRange{Start: 4, End: 8})
			for _, kg := range []int{3, 8} {
				func() {
					defer func() {
						if recover() == nil {
							t.Errorf("Put in key group %d did not panic", kg)
						}
					}()
					s.Put(kg, Cell{}, 1)
				}()
			}
		})
	}
}

func TestStateBackendScanKeyStops(t *testing.T) {
	for _, kind := range backendKinds {
		t.Run(kind, func(t *testing.T) {
			s := newTestBackend(t, kind, KeyGroupRange{Start: 0, End: 1})
			for i := range int64(10) {
				s.Put(0, Cell{NS: 1, Key: 1, Sub: i}, i)
				if i == 4 {
					if _, err := s.Snapshot(1, true); err != nil {
						t.Fatal(err)
					}
				}
			}
			var got []int64
			s.ScanKey(0, 1, 1, func(sub, _ int64) bool {
				got = append(got, sub)
				return len(got) < 3
			})
			if d := cmp.Diff([]int64{0, 1, 2}, got); d != "" {
				t.Errorf("ScanKey (-want +got):\n%s", d)
			}
		})
	}
}

// stateOp is one generated operation on a backend.
type stateOp struct {
	kind  int // 0 put, 1 delete, 2 get, 3 scan, 4 snapshot
	kg    int
	key   Cell
	value int64
	incr  bool
}

func (o stateOp) String() string {
	return fmt.Sprintf("%d kg=%d %+v v=%d incr=%v", o.kind, o.kg, o.key, o.value, o.incr)
}

// opKinds weighs the operation kinds: mostly puts, few snapshots.
var opKinds = []int{0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 4, 4}

// genStateOp draws operations over a small key space so that keys collide.
func genStateOp(rng KeyGroupRange) *rapid.Generator[stateOp] {
	return rapid.Custom(func(t *rapid.T) stateOp {
		return stateOp{
			kind: opKinds[rapid.IntRange(0, len(opKinds)-1).Draw(t, "op")],
			kg:   rapid.IntRange(rng.Start, rng.End-1).Draw(t, "kg"),
			key: Cell{
				NS:  rapid.Uint32Range(0, 2).Draw(t, "ns"),
				Key: rapid.Uint64Range(0, 3).Draw(t, "key"),
				Sub: rapid.Int64Range(-3, 3).Draw(t, "sub"),
			},
			value: rapid.Int64().Draw(t, "value"),
			incr:  rapid.Bool().Draw(t, "incr"),
		}
	})
}

// applyStateOp applies o to every backend and fails t when they disagree.
func applyStateOp(t *rapid.T, o stateOp, backends []Backend, names []string) {
	var ref Backend = backends[0]
	switch o.kind {
	case 0:
		for _, b := range backends {
			b.Put(o.kg, o.key, o.value)
		}
	case 1:
		for _, b := range backends {
			b.Delete(o.kg, o.key)
		}
	case 2:
		wv, wok := ref.Get(o.kg, o.key)
		for i, b := range backends[1:] {
			if v, ok := b.Get(o.kg, o.key); v != wv || ok != wok {
				t.Fatalf("%s: Get(%d, %+v) = %d, %v; %s has %d, %v", names[i+1], o.kg, o.key, v, ok, names[0], wv, wok)
			}
		}
	case 3:
		want := scanAll(ref, o.kg, o.key.NS, o.key.Key)
		for i, b := range backends[1:] {
			if d := cmp.Diff(want, scanAll(b, o.kg, o.key.NS, o.key.Key)); d != "" {
				t.Fatalf("%s: ScanKey(%d, %d, %d) differs from %s (-%s +%s):\n%s", names[i+1], o.kg, o.key.NS, o.key.Key, names[0], names[0], names[i+1], d)
			}
		}
	case 4:
		for i, b := range backends {
			if _, err := b.Snapshot(1, o.incr); err != nil {
				t.Fatalf("%s: Snapshot: %v", names[i], err)
			}
		}
	}
}

// TestStateBackendsAgree applies random operations to a heap backend and two
// pebble backends (one with a tiny write buffer, so that sstables are ingested
// and compacted between snapshots) and compares every read.
func TestStateBackendsAgree(t *testing.T) {
	rng := KeyGroupRange{Start: 3, End: 7}
	rapid.Check(t, func(t *rapid.T) {
		heap := NewHeap(rng)
		p1, err := NewPebble(vfs.NewCrashableMem(), "db", rng)
		if err != nil {
			t.Fatal(err)
		}
		defer p1.Close()
		p2, err := NewPebble(vfs.NewMem(), "a/b", rng)
		if err != nil {
			t.Fatal(err)
		}
		defer p2.Close()
		p2.writeAt, p2.nextWrite = 2, 2
		backends := []Backend{heap, p1, p2}
		names := []string{"heap", "pebble", "pebble (small buffer)"}
		ops := rapid.SliceOfN(genStateOp(rng), 0, 200).Draw(t, "ops")
		for _, o := range ops {
			applyStateOp(t, o, backends, names)
		}
		want := heap.Entries()
		for i, b := range backends[1:] {
			if d := cmp.Diff(want, b.Entries()); d != "" {
				t.Fatalf("%s: Entries (-heap +%s):\n%s", names[i+1], names[i+1], d)
			}
		}
	})
}

// TestStateSnapshotRestoreRoundTrip snapshots a random state of either backend
// and restores it into fresh backends of both kinds.
func TestStateSnapshotRestoreRoundTrip(t *testing.T) {
	rng := KeyGroupRange{Start: 0, End: 8}
	rapid.Check(t, func(t *rapid.T) {
		from := rapid.SampledFrom(backendKinds).Draw(t, "from")
		src := newRapidBackend(t, from, rng)
		defer src.Close()
		ops := rapid.SliceOfN(genStateOp(rng), 0, 100).Draw(t, "ops")
		for _, o := range ops {
			applyStateOp(t, o, []Backend{src}, []string{from})
		}
		want := src.Entries()
		snap, err := src.Snapshot(2, rapid.Bool().Draw(t, "incremental"))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := SnapshotEntries(snap); err != nil || !cmp.Equal(want, got, cmpEmpty) {
			t.Fatalf("SnapshotEntries: %v, diff (-want +got):\n%s", err, cmp.Diff(want, got, cmpEmpty))
		}
		for _, into := range backendKinds {
			dst := newRapidBackend(t, into, rng)
			// Restore into a backend that already holds other data.
			dst.Put(1, Cell{NS: 99}, 1)
			if into == "pebble" {
				if _, err := dst.Snapshot(1, false); err != nil {
					t.Fatal(err)
				}
			}
			if err := dst.Restore([]*Snapshot{snap}); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, dst.Entries(), cmpEmpty); d != "" {
				t.Fatalf("%s restored into %s (-want +got):\n%s", from, into, d)
			}
			dst.Close()
		}
	})
}

// cmpEmpty makes nil and empty slices equal.
var cmpEmpty = cmp.Comparer(func(a, b []Entry) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return cmp.Equal(a, b)
})

func newRapidBackend(t *rapid.T, kind string, rng KeyGroupRange) Backend {
	if kind == "heap" {
		return NewHeap(rng)
	}
	p, err := NewPebble(vfs.NewCrashableMem(), "state", rng)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestStateRescale snapshots two subtasks and restores their union into three,
// for every combination of backends.
func TestStateRescale(t *testing.T) {
	const maxPar = 128
	for _, from := range backendKinds {
		for _, into := range backendKinds {
			t.Run(from+"->"+into, func(t *testing.T) {
				rapid.Check(t, func(t *rapid.T) {
					var all []Entry
					var snaps []*Snapshot
					n := rapid.IntRange(0, 300).Draw(t, "n")
					keys := rapid.SliceOfN(rapid.Uint64Range(0, 1000), n, n).Draw(t, "keys")
					for i := range 2 {
						s := newRapidBackend(t, from, RangeFor(i, 2, maxPar))
						for j, key := range keys {
							kg := KeyGroup(key, maxPar)
							if OperatorIndex(kg, maxPar, 2) != i {
								continue
							}
							k := Cell{NS: uint32(j % 3), Key: key, Sub: int64(j%5) - 2}
							s.Put(kg, k, int64(j))
							if j%7 == 0 {
								s.Delete(kg, k)
							}
							if j%50 == 0 {
								if _, err := s.Snapshot(int64(j), true); err != nil {
									t.Fatal(err)
								}
							}
						}
						all = append(all, s.Entries()...)
						snap, err := s.Snapshot(1000, true)
						if err != nil {
							t.Fatal(err)
						}
						snaps = append(snaps, snap)
						s.Close()
					}
					SortEntries(all)
					var got []Entry
					for i := range 3 {
						r := RangeFor(i, 3, maxPar)
						s := newRapidBackend(t, into, r)
						if err := s.Restore(snaps); err != nil {
							t.Fatal(err)
						}
						for _, e := range s.Entries() {
							if !r.Contains(e.KeyGroup) || OperatorIndex(e.KeyGroup, maxPar, 3) != i {
								t.Fatalf("subtask %d (%v) holds %+v", i, r, e)
							}
							got = append(got, e)
						}
						s.Close()
					}
					if d := cmp.Diff(all, got, cmpEmpty); d != "" {
						t.Fatalf("rescaled state (-original +restored):\n%s", d)
					}
				})
			})
		}
	}
}

// TestHeapSnapshotUnsorted checks that a heap snapshot is taken unsorted, that
// SnapshotEntries returns its entries sorted without modifying the snapshot, and
// that a restore from it holds the same state.
func TestHeapSnapshotUnsorted(t *testing.T) {
	rng := KeyGroupRange{Start: 0, End: 2}
	h := NewHeap(rng)
	for i := 200; i > 0; i-- {
		h.Put(i%2, Cell{NS: uint32(i % 3), Key: uint64(i * 7919 % 101), Sub: int64(i)}, int64(i))
	}
	snap, err := h.Snapshot(1, false)
	if err != nil {
		t.Fatal(err)
	}
	if !snap.Unsorted {
		t.Fatalf("heap snapshot not marked Unsorted")
	}
	raw := slices.Clone(snap.Entries)
	got, err := SnapshotEntries(snap)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(h.Entries(), got); d != "" {
		t.Fatalf("SnapshotEntries (-Entries +got):\n%s", d)
	}
	if !slices.IsSortedFunc(got, compareEntries) || slices.IsSortedFunc(raw, compareEntries) {
		t.Fatalf("sorted: SnapshotEntries %v, the snapshot's own %v (want true, false)",
			slices.IsSortedFunc(got, compareEntries), slices.IsSortedFunc(raw, compareEntries))
	}
	if !slices.Equal(raw, snap.Entries) {
		t.Fatalf("SnapshotEntries modified the snapshot")
	}
	anyOrder := EntriesAnyOrder(h)
	SortEntries(anyOrder)
	if d := cmp.Diff(h.Entries(), anyOrder); d != "" {
		t.Fatalf("EntriesAnyOrder, sorted (-Entries +got):\n%s", d)
	}
	r := NewHeap(rng)
	if err := r.Restore([]*Snapshot{snap}); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(h.Entries(), r.Entries()); d != "" {
		t.Fatalf("restored (-want +got):\n%s", d)
	}
}
