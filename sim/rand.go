package sim

import (
	"math/rand/v2"

	"github.com/cespare/xxhash/v2"
)

// Rand is one independent stream of pseudo-random numbers. Streams are derived from
// the run's root seed and a stable name, so adding a stream never changes another's
// draws.
type Rand struct {
	*rand.Rand
	name string
}

// Name is the stream's stable name.
func (r *Rand) Name() string { return r.name }

// StreamSeed derives the seed of the named stream from a root seed.
func StreamSeed(root uint64, name string) (uint64, uint64) {
	h := xxhash.Sum64String(name)
	return splitmix(root ^ h), splitmix(root + h*0x9e3779b97f4a7c15)
}

func splitmix(x uint64) uint64 { return Mix64(x + 0x9e3779b97f4a7c15) }

// Mix64 is splitmix64's 64-bit finaliser: inputs that differ in one bit differ
// in about half the bits of the output (key groups, record generators).
func Mix64(x uint64) uint64 {
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// NewRand returns the named stream of root seed, independent of any world.
func NewRand(root uint64, name string) *Rand {
	a, b := StreamSeed(root, name)
	return &Rand{Rand: rand.New(rand.NewPCG(a, b)), name: name}
}

// Rand returns the world's stream with the given name, creating it on first use. The
// same name always returns the same stream.
func (w *World) Rand(name string) *Rand {
	if r, ok := w.streams[name]; ok {
		return r
	}
	r := NewRand(w.seed, name)
	w.streams[name] = r
	return r
}

// Jitter returns a duration uniformly drawn from [0, max], or 0 when max <= 0.
func (r *Rand) Jitter(max Duration) Duration {
	if max <= 0 {
		return 0
	}
	return Duration(r.Uint64N(uint64(max) + 1)) // Int64N(max+1) would overflow at max = MaxInt64
}

// Chance reports true with probability p.
func (r *Rand) Chance(p float64) bool { return p > 0 && r.Float64() < p }
