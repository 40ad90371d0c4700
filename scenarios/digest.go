package scenarios

import (
	"fmt"
	"strings"

	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/state"
)

// The output oracles stream: a sink's committed records are folded, as they are
// committed, into an order-independent digest of their multiset, so a run's memory
// does not depend on how many records it commits. Two multisets with equal digests
// are equal but for a hash collision (two 64-bit sums: below 2^-64 per
// comparison). When digests differ, the runs are replayed with every committed
// record kept, which names the lost and duplicated records (see replayOutputs).

// digestBuckets partitions a sink's digest by key, so that a mismatch already
// says where: bucket b holds the keys of key groups [b*k, (b+1)*k) of the
// default 128 (k = 128/digestBuckets).
const digestBuckets = 16

// multisetDigest is the digest of a multiset of records: its size and the sums
// (modulo 2^64) of two 64-bit hashes of its elements. Adding is
// commutative, so the digest does not depend on commit order.
type multisetDigest struct {
	N      int64
	S1, S2 uint64
}

func (d *multisetDigest) add(h1, h2 uint64) {
	d.N++
	d.S1 += h1
	d.S2 += h2
}

func (d *multisetDigest) merge(o multisetDigest) {
	d.N += o.N
	d.S1 += o.S1
	d.S2 += o.S2
}

// minus is the digest of d's multiset without o's (o must be contained in d).
func (d multisetDigest) minus(o multisetDigest) multisetDigest {
	return multisetDigest{N: d.N - o.N, S1: d.S1 - o.S1, S2: d.S2 - o.S2}
}

// outputDigest is one sink's committed output as the output oracles need it:
// records derived from one source record (split ≥ 0) and derived records (window
// and join results, flatMap copies) apart, each by key bucket, and the per-split
// records whose source record the sink had committed before (repeats, as the
// verifying sink counts duplicates). Records are normalised first (normalize).
// It implements engine.CommitObserver.
type outputDigest struct {
	perSplit [digestBuckets]multisetDigest
	derived  [digestBuckets]multisetDigest
	repeats  multisetDigest
}

// ObserveCommit folds one committed record into the digest.
func (d *outputDigest) ObserveCommit(r *engine.Record, repeat bool) {
	n := normalize(*r)
	h1, h2 := hashRecord(&n)
	b := keyBucket(n.Key)
	if n.Split < 0 {
		d.derived[b].add(h1, h2)
		return
	}
	d.perSplit[b].add(h1, h2)
	if repeat {
		d.repeats.add(h1, h2)
	}
}

// total sums the buckets of one part.
func total(parts *[digestBuckets]multisetDigest) multisetDigest {
	var t multisetDigest
	for _, p := range parts {
		t.merge(p)
	}
	return t
}

// keyBucket is the digest bucket of a key: a range of key groups.
func keyBucket(key uint64) int {
	return state.KeyGroup(key, state.DefaultMaxParallelism) * digestBuckets / state.DefaultMaxParallelism
}

// bucketRange names the key groups of a bucket.
func bucketRange(b int) string {
	k := state.DefaultMaxParallelism / digestBuckets
	return fmt.Sprintf("%d-%d", b*k, (b+1)*k-1)
}

// differingBuckets describes where two digests of the same sink differ: the key
// groups and how many records more or fewer each part has there.
func differingBuckets(want, got *outputDigest) string {
	var parts []string
	describe := func(kind string, w, g *[digestBuckets]multisetDigest) {
		for b := range w {
			if w[b] != g[b] {
				parts = append(parts, fmt.Sprintf("%s records of key groups %s: %d committed, %d in the reference",
					kind, bucketRange(b), g[b].N, w[b].N))
			}
		}
	}
	describe("per-split", &want.perSplit, &got.perSplit)
	describe("derived", &want.derived, &got.derived)
	return strings.Join(parts, "; ")
}

// hashRecord returns two 64-bit hashes of every field of r: a chain of
// splitmix64 finalisers (each a bijection of its input) over the fields, and a
// second hash mixed from the first, so that two different multisets have equal
// sums of both only by a collision.
func hashRecord(r *engine.Record) (uint64, uint64) {
	h := fmix(r.Key ^ 0x9e3779b97f4a7c15)
	h = fmix(h ^ uint64(r.Value))
	h = fmix(h ^ uint64(r.Time))
	h = fmix(h ^ uint64(r.Offset))
	h = fmix(h ^ (uint64(uint32(r.Split))<<32 | uint64(uint32(r.Size))))
	return h, fmix(h + 0xa0761d6478bd642f)
}

// fmix is splitmix64's finaliser.
func fmix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}
