package state

import (
	"testing"

	"pgregory.net/rapid"
)

// TestStateTableMatchesMap drives the open-addressing table and a Go map with the
// same random puts, gets and deletes over a small key space (many collisions and
// probe runs) and compares them after every step.
func TestStateTableMatchesMap(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		tab := newTable()
		ref := map[Cell]int64{}
		key := rapid.Custom(func(t *rapid.T) Cell {
			return Cell{NS: rapid.Uint32Range(0, 2).Draw(t, "ns"), Key: rapid.Uint64Range(0, 40).Draw(t, "key"),
				Sub: rapid.Int64Range(-2, 2).Draw(t, "sub")}
		})
		for i, n := 0, rapid.IntRange(0, 400).Draw(rt, "ops"); i < n; i++ {
			k := key.Draw(rt, "k")
			switch rapid.IntRange(0, 2).Draw(rt, "op") {
			case 0:
				v := rapid.Int64().Draw(rt, "v")
				tab.put(k, v)
				ref[k] = v
			case 1:
				tab.del(k)
				delete(ref, k)
			}
			got, ok := tab.get(k)
			want, wok := ref[k]
			if ok != wok || got != want {
				rt.Fatalf("get %v = %d,%v; want %d,%v", k, got, ok, want, wok)
			}
			if tab.n != len(ref) {
				rt.Fatalf("size %d, want %d", tab.n, len(ref))
			}
		}
		for k, v := range ref {
			if got, ok := tab.get(k); !ok || got != v {
				rt.Fatalf("final get %v = %d,%v; want %d", k, got, ok, v)
			}
		}
		seen := 0
		tab.each(func(k Cell, v int64) {
			seen++
			if ref[k] != v {
				rt.Fatalf("each saw %v=%d, want %d", k, v, ref[k])
			}
		})
		if seen != len(ref) {
			rt.Fatalf("each saw %d entries, want %d", seen, len(ref))
		}
	})
}

// TestStateTableReserveDoesNotGrow checks that a table reserved for n keys holds
// them without reallocating its slots, and that the zero table works.
func TestStateTableReserveDoesNotGrow(t *testing.T) {
	var zero table
	if _, ok := zero.get(Cell{Key: 1}); ok {
		t.Fatalf("the zero table holds a key")
	}
	zero.del(Cell{Key: 1})
	zero.put(Cell{Key: 1}, 7)
	if v, ok := zero.get(Cell{Key: 1}); !ok || v != 7 {
		t.Fatalf("zero table after put: %d, %v", v, ok)
	}
	for _, n := range []int{1, 4, 5, 100, 1000} {
		var tab table
		tab.reserve(n)
		size := len(tab.slots)
		for i := 0; i < n; i++ {
			tab.put(Cell{NS: 1, Key: uint64(i), Sub: int64(-i)}, int64(i))
		}
		if len(tab.slots) != size || tab.n != n {
			t.Errorf("reserve(%d): %d slots, %d after %d puts (n=%d)", n, size, len(tab.slots), n, tab.n)
		}
	}
}
