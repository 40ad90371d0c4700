package reports

import (
	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/faults"
	"github.com/ckptsim/ckptsim/sim"
)

// TimelineRow is one time bucket of one run: what the sinks received in it.
type TimelineRow struct {
	Scenario string  `json:"scenario"`
	Protocol string  `json:"protocol"`
	StartMS  float64 `json:"start_ms"`
	EndMS    float64 `json:"end_ms"`
	// Records is the number of records the sink tasks processed in the bucket
	// (replays after a restore included); ThroughputRPS is the same per second.
	Records       int64   `json:"records"`
	ThroughputRPS float64 `json:"throughput_rps"`
	// Committed is the number of records the sinks committed to the external
	// system in the bucket.
	Committed int64 `json:"committed"`
	// LatencyP50MS and LatencyP99MS are the end-to-end latencies (event time to
	// the external system) of the records committed in the bucket.
	LatencyP50MS float64 `json:"latency_p50_ms"`
	LatencyP99MS float64 `json:"latency_p99_ms"`
}

// maxTimelineBuckets bounds a timeline; longer runs get wider buckets.
const maxTimelineBuckets = 400

// Timeline samples a running job's sinks into time buckets. Attach it before the
// run starts; it only observes (the run's trace hash does not change).
type Timeline struct {
	rt      *engine.Runtime
	sampler *sim.Sampler
	period  sim.Duration
	last    sim.Time
	prev    engine.Histogram
	cur     engine.Histogram
	seen    map[*engine.Task]int64 // records in per sink task at the last sample
	buckets []bucket
}

type bucket struct {
	start, end sim.Time
	records    int64
	lat        engine.Histogram
}

// AttachTimeline starts sampling rt every period (when 0: the buffer timeout, at
// least 10 ms, since records leave in bursts that far apart); the buckets widen as
// the run grows so that there are at most 400 of them.
func AttachTimeline(rt *engine.Runtime, period sim.Duration) *Timeline {
	if period <= 0 {
		period = max(10*sim.Millisecond, rt.Config().BufferTimeout)
	}
	tl := &Timeline{rt: rt, period: period, last: rt.World().Now(), seen: map[*engine.Task]int64{}}
	tl.sampler = rt.World().AddSampler(period, tl.sample)
	return tl
}

// sample closes the bucket that ends at at.
func (tl *Timeline) sample(at sim.Time) {
	tl.cur = engine.Histogram{}
	for _, name := range tl.rt.Sinks() {
		tl.cur.Merge(tl.rt.Sink(name).Latency())
	}
	tl.buckets = append(tl.buckets, bucket{start: tl.last, end: at, records: tl.sinkRecords(), lat: tl.cur.Since(&tl.prev)})
	tl.prev, tl.last = tl.cur, at
	if len(tl.buckets) >= 2*maxTimelineBuckets {
		tl.halve()
	}
}

// sinkRecords is how many records the sink tasks took in since the last sample
// (a restarted task is a new task that starts from zero).
func (tl *Timeline) sinkRecords() int64 {
	var n int64
	for _, v := range tl.rt.Job().Vertices {
		if v.Kind != engine.KindSink {
			continue
		}
		for _, t := range tl.rt.TasksOf(v.Name) {
			in := t.Metrics().RecordsIn
			n += in - tl.seen[t]
			tl.seen[t] = in
		}
	}
	return n
}

// halve merges neighbouring buckets and doubles the sampling period.
func (tl *Timeline) halve() {
	n := len(tl.buckets) / 2
	for i := 0; i < n; i++ {
		a, b := tl.buckets[2*i], tl.buckets[2*i+1]
		a.lat.Merge(&b.lat)
		a.end, a.records = b.end, a.records+b.records
		tl.buckets[i] = a
	}
	if len(tl.buckets)%2 == 1 {
		tl.buckets[n] = tl.buckets[len(tl.buckets)-1]
		n++
	}
	tl.buckets = tl.buckets[:n]
	tl.period *= 2
	tl.sampler.SetPeriod(tl.period)
}

// Rows closes the last bucket at the current time and returns the buckets as rows.
func (tl *Timeline) Rows(scenario, protocol string) []TimelineRow {
	now := tl.rt.World().Now()
	if now > tl.last {
		tl.sample(now)
	}
	tl.sampler.Stop()
	rows := make([]TimelineRow, 0, len(tl.buckets))
	for i := range tl.buckets {
		b := &tl.buckets[i]
		secs := b.end.Sub(b.start).Seconds()
		row := TimelineRow{Scenario: scenario, Protocol: protocol, StartMS: b.start.Seconds() * 1000,
			EndMS: b.end.Seconds() * 1000, Records: b.records, Committed: b.lat.Count(),
			LatencyP50MS: b.lat.Quantile(0.5).Milliseconds(), LatencyP99MS: b.lat.Quantile(0.99).Milliseconds()}
		if secs > 0 {
			row.ThroughputRPS = float64(row.Records) / secs
		}
		rows = append(rows, row)
	}
	return rows
}

// FaultWindow is one injected fault as a span of simulated time.
type FaultWindow struct {
	Scenario string  `json:"scenario"`
	Protocol string  `json:"protocol"`
	Kind     string  `json:"kind"`
	StartMS  float64 `json:"start_ms"`
	EndMS    float64 `json:"end_ms"`
	Detail   string  `json:"detail"`
}

// FaultWindows turns an injector's log into spans: a fault that heals lasts until
// its "healed" entry (or endMS), a crashed node until it restarts, and a one-off
// fault (a failed task, failed commits) is an instant.
func FaultWindows(scenario, protocol string, log []faults.Injected, endMS float64) []FaultWindow {
	var out []FaultWindow
	open := map[faults.Kind][]int{} // kind -> indices of windows not yet healed, oldest first
	for _, e := range log {
		at := e.At.Seconds() * 1000
		if e.Detail == "healed" {
			if q := open[e.Kind]; len(q) > 0 {
				out[q[0]].EndMS = at
				open[e.Kind] = q[1:]
			}
			continue
		}
		w := FaultWindow{Scenario: scenario, Protocol: protocol, Kind: string(e.Kind), StartMS: at, EndMS: at, Detail: e.Detail}
		switch {
		case e.Down > 0:
			w.EndMS = at + e.Down.Milliseconds()
		case heals(e.Kind):
			w.EndMS = endMS
			open[e.Kind] = append(open[e.Kind], len(out))
		}
		out = append(out, w)
	}
	return out
}

// heals reports whether a fault kind logs a "healed" entry when it ends.
func heals(k faults.Kind) bool {
	switch k {
	case faults.Partition, faults.LatencySpike, faults.Straggler, faults.StorageOutage, faults.StorageSlow,
		faults.DiskErrors, faults.FIFOViolation:
		return true
	}
	return false
}
