package scenarios

import (
	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/sim"
)

// pressure is what a random case draws to put its checkpoints under stress, as
// Flink's checkpointing ITCases do: tiny network buffers and short buffer timeouts
// (so that data is always in flight and barriers queue behind it or overtake it),
// a sink slower than the sources (backpressure, so that output queues fill and
// alignments last), and more checkpoints in flight at once. The draws come from a
// stream of their own, so the rest of a case is drawn as before.
type pressure struct {
	// network: segment size, exclusive buffers per channel, floating buffers per
	// gate (-1: none) and buffer timeout (-1: flush after every record); zero
	// values keep the defaults.
	segment, exclusive, floating int
	bufferTimeout                sim.Duration
	// backpressure: the sink's capacity as a fraction of the sources' rate (0:
	// the sink cost drawn with the job).
	capacity float64
	// concurrent checkpoints (0: as drawn with the job), triggered at most this
	// far apart so that they do overlap
	concurrent int
	interval   sim.Duration
}

// drawPressure draws a case's pressure from its own stream.
func drawPressure(seed uint64) pressure {
	r := sim.NewRand(seed, "explore/pressure")
	var p pressure
	if r.Chance(0.5) {
		// UnalignedCheckpointITCase: tiny buffers, about one per channel
		p.segment = []int{512, 1024, 4096}[r.IntN(3)]
		p.exclusive = 1 + r.IntN(2)
		p.floating = []int{-1, 1, 2, 4}[r.IntN(4)]
		p.bufferTimeout = []sim.Duration{-1, sim.Millisecond, 5 * sim.Millisecond, 20 * sim.Millisecond}[r.IntN(4)]
	}
	if r.Chance(0.4) {
		p.capacity = 0.3 + 0.6*r.Float64()
	}
	if r.Chance(0.35) {
		p.concurrent = 2 + r.IntN(3)
		p.interval = sim.Duration(50+r.IntN(100)) * sim.Millisecond
	}
	return p
}

// apply sets the drawn pressure on a case's configuration and sink cost; rate is
// the records per second all sources emit together and sinks the sink's
// parallelism.
func (p pressure) apply(cfg *engine.Config, sinkCost *sim.Duration, rate float64, sinks int) {
	if p.segment > 0 {
		cfg.Net.SegmentSize = p.segment
		cfg.Net.ExclusivePerChannel = p.exclusive
		cfg.Net.FloatingPerGate = p.floating
		cfg.BufferTimeout = p.bufferTimeout
	}
	if p.capacity > 0 && rate > 0 {
		// sinks / cost = capacity × rate; at most 5 ms a record
		cost := sim.Duration(float64(sinks) / (p.capacity * rate) * float64(sim.Second))
		*sinkCost = max(*sinkCost, min(cost, 5*sim.Millisecond))
	}
	if p.concurrent > 0 {
		cfg.Checkpoint.MaxConcurrent = p.concurrent
		cfg.Checkpoint.Interval = min(cfg.Checkpoint.Interval, p.interval)
	}
}

// Strings names the pressure for failure reports.
func (p pressure) String() string {
	s := ""
	if p.segment > 0 {
		s += "tiny-buffers "
	}
	if p.capacity > 0 {
		s += "backpressure "
	}
	if p.concurrent > 0 {
		s += "concurrent "
	}
	if s == "" {
		return "none"
	}
	return s[:len(s)-1]
}
