package scenarios

import (
	"fmt"
	"math"
	"strings"

	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/sim"
)

// Model is the analytical estimate of an aligned checkpoint's end-to-end duration
// under backpressure, as in Flink's write-up of its checkpointing benchmark: an
// aligned barrier queues behind the in-flight data of every exchange between the
// sources and the bottleneck, and that data drains at the bottleneck's rate. So
// aligned ≈ Σ over exchanges of in-flight bytes ÷ consumption rate, or, with
// buffer debloating, ≈ exchanges × the debloat target. Unaligned barriers overtake
// the in-flight data, so the model of an unaligned checkpoint is close to zero.
//
// The in-flight bytes of an exchange, per consumer subtask, are its input gate's
// buffers plus its share of the producers' output buffers, all full under
// backpressure. With buffer debloating every buffer shrinks to the size that makes
// the gate hold Target's worth of data, but never below the minimum segment size;
// Flink's own, simpler debloat model is exchanges × Target (TargetModel).
//
// The estimate assumes every operator sees every record (maps and sinks, as in the
// benchmark).
type Model struct {
	// Bottleneck names the slowest vertex; ThroughputRPS is its capacity in records
	// per second (all subtasks together).
	Bottleneck    string
	ThroughputRPS float64
	// Backpressured is false when the sources are slower than every operator: no
	// in-flight data piles up and the model predicts no alignment delay.
	Backpressured bool
	// Exchanges are the network exchanges from the sources to the bottleneck.
	Exchanges []ExchangeModel
	// Debloat is set when buffer debloating bounds in-flight data by time.
	Debloat bool
	// Aligned is the estimate of an aligned checkpoint's end-to-end duration.
	Aligned sim.Duration
	// TargetModel is exchanges × the debloat target (0 without debloating).
	TargetModel sim.Duration
}

// ExchangeModel is one network exchange of the model.
type ExchangeModel struct {
	From, To string
	// InflightBytes is the data queued for one consumer subtask: its input gate's
	// buffers and its share of the producers' output buffers.
	InflightBytes int64
	// RateBytesPerSec is how fast one consumer subtask drains it.
	RateBytesPerSec float64
	// BufferBytes is the size of each buffer: the segment size, or the debloated
	// size.
	BufferBytes int64
	// Time is InflightBytes ÷ RateBytesPerSec.
	Time sim.Duration
}

// String is a one-line account of the model, for reports.
func (m Model) String() string {
	if !m.Backpressured {
		return fmt.Sprintf("no backpressure (bottleneck %s at %.0f records/s is a source): aligned ≈ 0", m.Bottleneck, m.ThroughputRPS)
	}
	var parts []string
	for _, e := range m.Exchanges {
		parts = append(parts, fmt.Sprintf("%s→%s: %.1f KiB in %d B buffers ÷ %.1f KiB/s = %v", e.From, e.To,
			float64(e.InflightBytes)/1024, e.BufferBytes, e.RateBytesPerSec/1024, e.Time))
	}
	s := fmt.Sprintf("aligned ≈ %v = %s (bottleneck %s, %.0f records/s)", m.Aligned, strings.Join(parts, " + "), m.Bottleneck, m.ThroughputRPS)
	if m.Debloat {
		s += fmt.Sprintf("; Flink's debloat model: %d exchanges × target = %v", len(m.Exchanges), m.TargetModel)
	}
	return s
}

// AlignedModel computes the analytical model of the setup's job and network.
func (st *Setup) AlignedModel() (Model, error) {
	job := st.NewJob()
	if err := job.Validate(); err != nil {
		return Model{}, err
	}
	var m Model
	var bottleneck *engine.Vertex
	m.ThroughputRPS = math.Inf(1)
	for _, v := range job.Vertices {
		if c := capacity(v); c < m.ThroughputRPS {
			m.ThroughputRPS, bottleneck = c, v
		}
	}
	if bottleneck == nil {
		return m, fmt.Errorf("model: no source has a rate and no operator a cost: throughput is unbounded")
	}
	m.Bottleneck = bottleneck.Name
	m.Backpressured = bottleneck.Kind != engine.KindSource
	if !m.Backpressured {
		return m, nil
	}
	net := st.Config.Net
	m.Debloat = net.Debloat.Enabled
	size := recordSize(job)
	for _, e := range exchangesTo(bottleneck) {
		x := exchangeModel(e.From, e.To, net, size, m.ThroughputRPS)
		m.Exchanges = append(m.Exchanges, x)
		m.Aligned += x.Time
		if m.Debloat {
			m.TargetModel += debloatTarget(net)
		}
	}
	return m, nil
}

// capacity is a vertex's throughput limit in records per second.
func capacity(v *engine.Vertex) float64 {
	if v.Kind == engine.KindSource {
		if v.Source.Rate > 0 {
			return v.Source.Rate * float64(v.Source.Splits)
		}
		return math.Inf(1)
	}
	if v.Cost > 0 {
		return float64(v.Parallelism) / v.Cost.Seconds()
	}
	return math.Inf(1)
}

type edge struct{ From, To *engine.Vertex }

// exchangesTo lists the network (unchained) edges upstream of v, sources first.
func exchangesTo(v *engine.Vertex) []edge {
	var out []edge
	for _, in := range v.Inputs {
		if in.Feedback {
			continue // a back edge: its producer is downstream
		}
		out = append(out, exchangesTo(in.From)...)
		if in.Part != engine.Forward || in.From.Parallelism != v.Parallelism {
			out = append(out, edge{in.From, v})
		}
	}
	return out
}

// exchangeModel sizes one all-to-all exchange under backpressure: the consumer's
// gate (exclusive buffers per channel plus floating) and the producers' output
// pools (Flink's default size: exclusive per subpartition plus floating) are full.
func exchangeModel(from, to *engine.Vertex, net sim.NetConfig, recordBytes int64, rps float64) ExchangeModel {
	seg := int64(net.SegmentSize)
	if seg <= 0 {
		seg = sim.DefaultSegmentSize
	}
	excl, floating := int64(net.ExclusivePerChannel), int64(net.FloatingPerGate)
	if excl <= 0 {
		excl = sim.DefaultExclusivePerChannel
	}
	if floating == 0 {
		floating = sim.DefaultFloatingPerGate
	} else if floating < 0 {
		floating = 0
	}
	producers, consumers := int64(from.Parallelism), int64(to.Parallelism)
	gate := producers*excl + floating
	pool := consumers*excl + floating
	rate := rps / float64(consumers) * float64(recordBytes)
	if net.Debloat.Enabled {
		minSize := int64(net.Debloat.MinSize)
		if minSize <= 0 {
			minSize = sim.DefaultDebloatMinSize
		}
		seg = max(minSize, min(seg, int64(rate*debloatTarget(net).Seconds())/gate))
	}
	inflight := (gate + pool*producers/consumers) * seg
	return ExchangeModel{From: from.Name, To: to.Name, InflightBytes: inflight, RateBytesPerSec: rate, BufferBytes: seg,
		Time: sim.Duration(float64(inflight) / rate * float64(sim.Second))}
}

func debloatTarget(net sim.NetConfig) sim.Duration {
	if net.Debloat.Target > 0 {
		return net.Debloat.Target
	}
	return sim.DefaultDebloatTarget
}

// recordSize is the modelled record size of the job's first source.
func recordSize(job *engine.Job) int64 {
	for _, v := range job.Vertices {
		if v.Kind == engine.KindSource && v.Source.RecordSize > 0 {
			return int64(v.Source.RecordSize)
		}
	}
	return 64 // the generator's default (engine.SourceSpec)
}
