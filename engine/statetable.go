package engine

import "math/bits"

// stateTable is an open-addressing hash table from StateKey to int64 with linear
// probing and backward-shift deletion: the heap backend's per-key-group store. It
// hashes with a few multiplications instead of the runtime's generic hash of a
// 24-byte key, which matters on the per-record path.
type stateTable struct {
	keys  []StateKey
	vals  []int64
	used  []bool
	n     int
	mask  uint64
	shift uint8
	// last remembers the slot of the last key found, so the Put that follows a
	// Get of the same key (read-modify-write) does not probe again.
	lastKey  StateKey
	lastSlot uint64
	lastOK   bool
}

func newStateTable() *stateTable {
	t := &stateTable{}
	t.init(8)
	return t
}

func (t *stateTable) init(size int) {
	t.lastOK = false
	t.keys = make([]StateKey, size)
	t.vals = make([]int64, size)
	t.used = make([]bool, size)
	t.mask = uint64(size - 1)
	t.shift = uint8(64 - bits.Len64(t.mask))
	t.n = 0
}

// home is the slot a key hashes to: Fibonacci hashing of a multiplicative mix of
// the key's fields, taking the top bits.
func (t *stateTable) home(k StateKey) uint64 {
	h := k.Key*0x9e3779b97f4a7c15 ^ uint64(k.NS)*0xc2b2ae3d27d4eb4f ^ uint64(k.Sub)*0x165667b19e3779f9
	h ^= h >> 29
	return (h * 0x9e3779b97f4a7c15) >> t.shift
}

func (t *stateTable) find(k StateKey) (uint64, bool) {
	if t.lastOK && t.lastKey == k {
		return t.lastSlot, true
	}
	i := t.home(k)
	for t.used[i] {
		if c := &t.keys[i]; c.Key == k.Key && c.Sub == k.Sub && c.NS == k.NS {
			t.lastKey, t.lastSlot, t.lastOK = k, i, true
			return i, true
		}
		i = (i + 1) & t.mask
	}
	return i, false
}

func (t *stateTable) get(k StateKey) (int64, bool) {
	i, ok := t.find(k)
	if !ok {
		return 0, false
	}
	return t.vals[i], true
}

func (t *stateTable) put(k StateKey, v int64) {
	i, ok := t.find(k)
	if ok {
		t.vals[i] = v
		return
	}
	if 4*(t.n+1) > 3*len(t.keys) {
		t.grow()
		i, _ = t.find(k)
	}
	t.keys[i], t.vals[i], t.used[i] = k, v, true
	t.n++
}

func (t *stateTable) grow() {
	keys, vals, used := t.keys, t.vals, t.used
	t.init(2 * len(keys))
	for i, u := range used {
		if u {
			j, _ := t.find(keys[i])
			t.keys[j], t.vals[j], t.used[j] = keys[i], vals[i], true
			t.n++
		}
	}
}

func (t *stateTable) del(k StateKey) {
	i, ok := t.find(k)
	if !ok {
		return
	}
	t.lastOK = false
	t.used[i] = false
	t.keys[i] = StateKey{}
	t.n--
	// shift back later entries of the probe run that would no longer be found
	j := i
	for {
		j = (j + 1) & t.mask
		if !t.used[j] {
			return
		}
		home := t.home(t.keys[j])
		// the entry at j may fill the hole at i if its home is not in (i, j]
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			t.keys[i], t.vals[i], t.used[i] = t.keys[j], t.vals[j], true
			t.used[j] = false
			t.keys[j] = StateKey{}
			i = j
		}
	}
}

// each calls fn for every entry in slot order.
func (t *stateTable) each(fn func(k StateKey, v int64)) {
	for i, u := range t.used {
		if u {
			fn(t.keys[i], t.vals[i])
		}
	}
}
