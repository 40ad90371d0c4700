package engine

import (
	"fmt"
	"math"
	"sort"

	"github.com/ckptsim/ckptsim/sim"
)

// KeyDist is a key distribution of a generated source.
type KeyDist uint8

// Key distributions.
const (
	Uniform KeyDist = iota // every key equally likely
	Zipf                   // key k has weight 1/(k+1)^Exponent
	Hot                    // key 0 takes HotRatio of the records, the rest are uniform
)

func (d KeyDist) String() string { return [...]string{"uniform", "zipf", "hot"}[d] }

// KeySpec describes the keys of generated records.
type KeySpec struct {
	Dist     KeyDist
	Count    int     // number of distinct keys (default 1000)
	Exponent float64 // Zipf exponent (default 1.1)
	HotRatio float64 // share of the hot key (default 0.9)
}

// SourceSpec describes a replayable partitioned log (like Kafka topic partitions):
// deterministic generators whose record at (split, offset) is always the same.
type SourceSpec struct {
	Splits     int          // number of splits (partitions)
	Rate       float64      // records per second per split; 0 means as fast as possible
	Records    int64        // records per split; 0 means unbounded
	Keys       KeySpec      // key distribution
	Disorder   sim.Duration // bounded event-time disorder
	RecordSize int32        // bytes per record on the wire (default 64)
	Seed       uint64       // generator seed; 0 derives it from the run's seed
	// WatermarkInterval is how often the source emits watermarks (default 200 ms,
	// Flink's pipeline.auto-watermark-interval).
	WatermarkInterval sim.Duration
}

func (s *SourceSpec) validate(name string) error {
	switch {
	case s.Splits <= 0:
		return fmt.Errorf("source %q: splits must be at least 1, got %d", name, s.Splits)
	case s.Rate < 0 || math.IsNaN(s.Rate) || math.IsInf(s.Rate, 0):
		return fmt.Errorf("source %q: rate must be a non-negative number, got %v", name, s.Rate)
	case s.Records < 0:
		return fmt.Errorf("source %q: records must not be negative, got %d", name, s.Records)
	case s.Disorder < 0:
		return fmt.Errorf("source %q: disorder must not be negative", name)
	case s.RecordSize < 0:
		return fmt.Errorf("source %q: record size must not be negative", name)
	case s.Keys.Count < 0:
		return fmt.Errorf("source %q: key count must not be negative", name)
	case s.Keys.HotRatio < 0 || s.Keys.HotRatio > 1:
		return fmt.Errorf("source %q: hot ratio must be within [0, 1], got %v", name, s.Keys.HotRatio)
	case s.Keys.Exponent < 0:
		return fmt.Errorf("source %q: zipf exponent must not be negative", name)
	}
	return nil
}

func (s *SourceSpec) fill() {
	if s.Keys.Count == 0 {
		s.Keys.Count = 1000
	}
	if s.Keys.Exponent == 0 {
		s.Keys.Exponent = 1.1
	}
	if s.Keys.Dist == Hot && s.Keys.HotRatio == 0 {
		s.Keys.HotRatio = 0.9
	}
	if s.RecordSize == 0 {
		s.RecordSize = 64
	}
	if s.WatermarkInterval == 0 {
		s.WatermarkInterval = 200 * sim.Millisecond
	}
}

// Interval is the event-time (and, when rate-limited, emission) distance between two
// records of a split.
func (s *SourceSpec) Interval() sim.Duration {
	if s.Rate > 0 {
		return sim.Duration(float64(sim.Second) / s.Rate)
	}
	return sim.Millisecond
}

// Generator produces the records of a source: a pure function of (seed, split,
// offset), so a rewound source replays exactly the same records.
type Generator struct {
	spec     SourceSpec
	base     int32 // the first split's id: split ids are unique across the job's sources
	seed     uint64
	cdf      []float64 // Zipf cumulative weights
	interval sim.Time  // Interval, precomputed
}

// NewGenerator returns the generator of spec with the given seed (spec.Seed wins
// when set).
func NewGenerator(spec SourceSpec, seed uint64) *Generator {
	spec.fill()
	if spec.Seed != 0 {
		seed = spec.Seed
	}
	g := &Generator{spec: spec, seed: seed, interval: sim.Time(spec.Interval())}
	if spec.Keys.Dist == Zipf {
		g.cdf = make([]float64, spec.Keys.Count)
		total := 0.0
		for k := range g.cdf {
			total += 1 / math.Pow(float64(k+1), spec.Keys.Exponent)
			g.cdf[k] = total
		}
		for k := range g.cdf {
			g.cdf[k] /= total
		}
	}
	return g
}

// Splits lists the ids of the source's splits (unique across the job's sources).
func (g *Generator) Splits() []int32 {
	out := make([]int32, g.spec.Splits)
	for i := range out {
		out[i] = g.base + int32(i)
	}
	return out
}

// Spec is the source description with defaults filled in.
func (g *Generator) Spec() SourceSpec { return g.spec }

// unit turns 53 bits of x into a float in [0, 1).
func unit(x uint64) float64 { return float64(x>>11) / (1 << 53) }

// below maps the high 32 bits of x uniformly onto [0, n) with a multiplication
// instead of a division (Lemire's fast range reduction); n must fit in 32 bits.
func below(x, n uint64) uint64 {
	if n > 0xffffffff {
		return x % n
	}
	return ((x >> 32) * n) >> 32
}

// Record returns the record at offset off of split.
func (g *Generator) Record(split int32, off int64) Record {
	var r Record
	g.Fill(&r, split, off)
	return r
}

// Fill writes the record at offset off of split into r.
func (g *Generator) Fill(r *Record, split int32, off int64) {
	h1 := sim.Mix64(g.seed ^ (uint64(split)<<40 + uint64(off)))
	var h2 uint64
	if g.spec.Keys.Dist == Hot || g.spec.Disorder > 0 {
		h2 = sim.Mix64(h1 ^ 0x9e3779b97f4a7c15)
	}
	k := g.spec.Keys
	var key uint64
	switch k.Dist {
	case Zipf:
		key = uint64(sort.SearchFloat64s(g.cdf, unit(h1)))
		if key >= uint64(k.Count) {
			key = uint64(k.Count - 1)
		}
	case Hot:
		if unit(h1) < k.HotRatio || k.Count == 1 {
			key = 0
		} else {
			key = 1 + below(h2, uint64(k.Count-1))
		}
	default:
		key = below(h1, uint64(k.Count))
	}
	nominal := sim.Time(off) * g.interval
	t := nominal
	if g.spec.Disorder > 0 {
		t -= sim.Time(below(h2<<16|h2>>48, uint64(g.spec.Disorder)+1))
		if t < 0 {
			t = 0
		}
	}
	r.Key = key
	r.Value = off*int64(g.spec.Splits) + int64(split-g.base) + 1
	r.Time = t
	r.Split = split
	r.Offset = off
	r.Size = g.spec.RecordSize
}

// DueAt is when the record at off is available in the log (rate-limited sources);
// unlimited sources have everything available at once.
func (g *Generator) DueAt(off int64) sim.Time {
	if g.spec.Rate <= 0 {
		return 0
	}
	return sim.Time(off) * g.interval
}

// Bounded reports whether the splits end.
func (g *Generator) Bounded() bool { return g.spec.Records > 0 }

// SplitsOf lists the splits of g read by subtask i of p: split s goes to s mod p.
func (g *Generator) SplitsOf(i, p int) []int32 {
	var out []int32
	for s := i; s < g.spec.Splits; s += p {
		out = append(out, g.base+int32(s))
	}
	return out
}
