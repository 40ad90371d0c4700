package state

import (
	"github.com/ckptsim/ckptsim/sim"
)

// DefaultMaxParallelism is the number of key groups when a job sets none (Flink's
// default for small parallelism).
const DefaultMaxParallelism = 128

// KeyGroup maps a key to its key group: a mixed hash of the key modulo the maximum
// parallelism, as Flink's KeyGroupRangeAssignment (which uses murmur hashing).
func KeyGroup(key uint64, maxParallelism int) int {
	h := sim.Mix64(key)
	if m := uint64(maxParallelism); m&(m-1) == 0 {
		return int(h & (m - 1)) // the default 128: a mask, not a division
	}
	return int(h % uint64(maxParallelism))
}

// OperatorIndex is the subtask that owns a key group at the given parallelism.
func OperatorIndex(keyGroup, maxParallelism, parallelism int) int {
	return keyGroup * parallelism / maxParallelism
}

// KeyGroupRange is the half-open range [Start, End) of key groups of one subtask.
type KeyGroupRange struct{ Start, End int }

// Contains reports whether kg is in the range.
func (r KeyGroupRange) Contains(kg int) bool { return kg >= r.Start && kg < r.End }

// Len is the number of key groups in the range.
func (r KeyGroupRange) Len() int { return r.End - r.Start }

// RangeFor is the key groups owned by subtask i of parallelism p: the inverse of
// OperatorIndex.
func RangeFor(i, p, maxParallelism int) KeyGroupRange {
	start := (i*maxParallelism + p - 1) / p
	end := ((i+1)*maxParallelism + p - 1) / p
	return KeyGroupRange{Start: start, End: end}
}
