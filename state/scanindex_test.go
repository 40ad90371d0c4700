package state

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

// TestHeapScanIndexMatchesEntries drives a heap backend with random puts, adds,
// deletes, scans and restores from its own snapshots, and checks every scan
// against the (sub, value) pairs its sorted Entries hold for the scanned key.
func TestHeapScanIndexMatchesEntries(t *testing.T) {
	rng := KeyGroupRange{Start: 2, End: 5}
	rapid.Check(t, func(t *rapid.T) {
		h := NewHeap(rng)
		for i, n := 0, rapid.IntRange(0, 300).Draw(t, "ops"); i < n; i++ {
			kg := rapid.IntRange(rng.Start, rng.End-1).Draw(t, "kg")
			c := Cell{NS: rapid.Uint32Range(0, 2).Draw(t, "ns"), Key: rapid.Uint64Range(0, 3).Draw(t, "key"),
				Sub: rapid.Int64Range(-4, 4).Draw(t, "sub")}
			switch rapid.IntRange(0, 5).Draw(t, "op") {
			case 0:
				h.Put(kg, c, rapid.Int64Range(-9, 9).Draw(t, "v"))
			case 1:
				h.Add(kg, c, 1)
			case 2:
				h.Delete(kg, c)
			case 3, 4:
				var want [][2]int64
				for _, e := range h.Entries() {
					if e.KeyGroup == kg && e.NS == c.NS && e.Key == c.Key {
						want = append(want, [2]int64{e.Sub, e.Value})
					}
				}
				if d := cmp.Diff(want, scanAll(h, kg, c.NS, c.Key)); d != "" {
					t.Fatalf("ScanKey(%d, %d, %d) (-Entries +scan):\n%s", kg, c.NS, c.Key, d)
				}
			case 5:
				snap, err := h.Snapshot(1, false)
				if err != nil {
					t.Fatal(err)
				}
				h.Put(kg, c, 100) // lost by the restore
				if err := h.Restore([]*Snapshot{snap}); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}

// TestHeapScanKeySeesSubsAsTheScanStarted checks that a scan whose callback
// deletes and adds subs of the scanned key visits the subs as they were when it
// started, reading each value when it gets to it.
func TestHeapScanKeySeesSubsAsTheScanStarted(t *testing.T) {
	h := NewHeap(KeyGroupRange{Start: 0, End: 1})
	for s := int64(1); s <= 3; s++ {
		h.Put(0, Cell{NS: 1, Key: 7, Sub: s}, 10*s)
	}
	var got [][2]int64
	h.ScanKey(0, 1, 7, func(sub, v int64) bool {
		got = append(got, [2]int64{sub, v})
		if sub == 1 {
			h.Delete(0, Cell{NS: 1, Key: 7, Sub: 2})
			h.Put(0, Cell{NS: 1, Key: 7, Sub: 3}, 33)
			h.Put(0, Cell{NS: 1, Key: 7, Sub: 4}, 44)
		}
		return true
	})
	want := [][2]int64{{1, 10}, {2, 0}, {3, 33}}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("scan (-want +got):\n%s", d)
	}
	if d := cmp.Diff([][2]int64{{1, 10}, {3, 33}, {4, 44}}, scanAll(h, 0, 1, 7)); d != "" {
		t.Fatalf("scan after (-want +got):\n%s", d)
	}
}
