package state

import "math/bits"

// table is an open-addressing hash table from Cell to int64 with linear
// probing and backward-shift deletion: the heap backend's per-key-group store. It
// hashes with a few multiplications instead of the runtime's generic hash of a
// 24-byte key, which matters on the per-record path. Keys, values and the used
// flag of a slot share one 32-byte struct, so a probe touches one cache line.
// The zero table is empty and allocates its slots at the first insert: most key
// groups of a subtask never hold a key.
type table struct {
	slots []slot
	n     int
	mask  uint64
	shift uint8
	// last remembers the slot of the last key found, so the Put that follows a
	// Get of the same key (read-modify-write) does not probe again.
	lastKey  Cell
	lastSlot uint64
	lastOK   bool
}

// slot is one slot of a table.
type slot struct {
	key  uint64
	sub  int64
	val  int64
	ns   uint32
	used bool
}

func (s *slot) stateKey() Cell { return Cell{NS: s.ns, Key: s.key, Sub: s.sub} }

func (s *slot) holds(k *Cell) bool { return s.key == k.Key && s.sub == k.Sub && s.ns == k.NS }

// minTableSize is the number of slots a table allocates first.
const minTableSize = 8

func newTable() *table { return &table{} }

// reserve empties the table and sizes it for n keys without growing (Restore
// knows how many keys a key group will hold).
func (t *table) reserve(n int) {
	size := minTableSize
	for 2*n > size {
		size *= 2
	}
	t.init(size)
}

func (t *table) init(size int) {
	t.lastOK = false
	t.slots = make([]slot, size)
	t.mask = uint64(size - 1)
	t.shift = uint8(64 - bits.Len64(t.mask))
	t.n = 0
}

// home is the slot a key hashes to: Fibonacci hashing of a multiplicative mix of
// the key's fields, taking the top bits.
func (t *table) home(k *Cell) uint64 {
	h := k.Key*0x9e3779b97f4a7c15 ^ uint64(k.NS)*0xc2b2ae3d27d4eb4f ^ uint64(k.Sub)*0x165667b19e3779f9
	h ^= h >> 29
	return (h * 0x9e3779b97f4a7c15) >> t.shift
}

// find returns the slot holding k, or the free slot where k would go.
func (t *table) find(k *Cell) (uint64, bool) {
	if t.lastOK && t.lastKey == *k {
		return t.lastSlot, true
	}
	i, ok := t.probe(k)
	if ok {
		t.lastKey, t.lastSlot, t.lastOK = *k, i, true
	}
	return i, ok
}

// probe is find without the last-key shortcut.
func (t *table) probe(k *Cell) (uint64, bool) {
	slots, mask := t.slots, t.mask
	if len(slots) == 0 {
		return 0, false
	}
	i := t.home(k) & mask
	for {
		s := &slots[i]
		if !s.used {
			return i, false
		}
		if s.holds(k) {
			return i, true
		}
		i = (i + 1) & mask
	}
}

func (t *table) get(k Cell) (int64, bool) {
	i, ok := t.find(&k)
	if !ok {
		return 0, false
	}
	return t.slots[i].val, true
}

// put stores v under k and reports whether k is new.
func (t *table) put(k Cell, v int64) (inserted bool) {
	i, ok := t.find(&k)
	if !ok {
		i = t.insertAt(i, &k)
	}
	t.slots[i].val = v
	return !ok
}

// add adds delta to the value of k (0 when absent) and returns the new value: a
// read-modify-write in one probe. inserted says k is new.
func (t *table) add(k *Cell, delta int64) (v int64, inserted bool) {
	i, ok := t.probe(k)
	if !ok {
		i = t.insertAt(i, k)
	}
	s := &t.slots[i]
	s.val += delta
	return s.val, !ok
}

// insertAt stores k with value 0 in the free slot i that find returned (growing
// the table first when it would be more than half full: short probes matter more
// than the memory) and returns k's slot.
func (t *table) insertAt(i uint64, k *Cell) uint64 {
	if 2*(t.n+1) > len(t.slots) {
		t.grow()
		i, _ = t.find(k)
	}
	t.slots[i] = slot{key: k.Key, sub: k.Sub, ns: k.NS, used: true}
	t.n++
	return i
}

func (t *table) grow() {
	old := t.slots
	t.init(max(minTableSize, 2*len(old)))
	for i := range old {
		if s := &old[i]; s.used {
			k := s.stateKey()
			j, _ := t.find(&k)
			t.slots[j] = *s
			t.n++
		}
	}
}

// del removes k and reports whether it was there.
func (t *table) del(k Cell) (removed bool) {
	i, ok := t.find(&k)
	if !ok {
		return false
	}
	t.lastOK = false
	t.slots[i] = slot{}
	t.n--
	// shift back later entries of the probe run that would no longer be found
	j := i
	for {
		j = (j + 1) & t.mask
		if !t.slots[j].used {
			return true
		}
		jk := t.slots[j].stateKey()
		home := t.home(&jk)
		// the entry at j may fill the hole at i if its home is not in (i, j]
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			t.slots[i] = t.slots[j]
			t.slots[j] = slot{}
			i = j
		}
	}
}

// each calls fn for every entry in slot order.
func (t *table) each(fn func(k Cell, v int64)) {
	for i := range t.slots {
		if s := &t.slots[i]; s.used {
			fn(s.stateKey(), s.val)
		}
	}
}
