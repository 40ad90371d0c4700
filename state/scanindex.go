package state

import "slices"

// scanIndex is the heap backend's index for ScanKey: for each namespace it
// covers, the subs of every (key group, key), sorted. Without it a scan reads
// every slot of the key group's table, since a key's entries are spread over the
// table by their sub (the interval join scans once per record). A namespace is
// covered from its first scan on; the backend's puts and deletes of new and
// removed keys of covered namespaces keep it current.
type scanIndex struct {
	ns   []uint32 // the covered namespaces (a handful: the ones an operator scans)
	subs map[scanKey][]int64
}

// scanKey names the subs of one (key group, namespace, key).
type scanKey struct {
	kg  int
	ns  uint32
	key uint64
}

// covers reports whether the index holds namespace ns.
func (x *scanIndex) covers(ns uint32) bool {
	for _, n := range x.ns {
		if n == ns {
			return true
		}
	}
	return false
}

// build adds namespace ns, reading every key group of h.
func (x *scanIndex) build(h *Heap, ns uint32) {
	if x.subs == nil {
		x.subs = map[scanKey][]int64{}
	}
	x.ns = append(x.ns, ns)
	var added []scanKey
	for i := range h.groups {
		kg := h.rng.Start + i
		for j := range h.groups[i].slots {
			if s := &h.groups[i].slots[j]; s.used && s.ns == ns {
				k := scanKey{kg: kg, ns: ns, key: s.key}
				if len(x.subs[k]) == 0 {
					added = append(added, k)
				}
				x.subs[k] = append(x.subs[k], s.sub)
			}
		}
	}
	for _, k := range added {
		slices.Sort(x.subs[k])
	}
}

// insert records the new key c of key group kg.
func (x *scanIndex) insert(kg int, c *Cell) {
	k := scanKey{kg: kg, ns: c.NS, key: c.Key}
	subs := x.subs[k]
	i, _ := slices.BinarySearch(subs, c.Sub)
	x.subs[k] = slices.Insert(subs, i, c.Sub)
}

// remove forgets the removed key c of key group kg.
func (x *scanIndex) remove(kg int, c *Cell) {
	k := scanKey{kg: kg, ns: c.NS, key: c.Key}
	subs := x.subs[k]
	i, found := slices.BinarySearch(subs, c.Sub)
	if !found {
		return
	}
	if len(subs) == 1 {
		delete(x.subs, k)
		return
	}
	x.subs[k] = slices.Delete(subs, i, i+1)
}
