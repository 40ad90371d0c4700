package reports

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/ckptsim/ckptsim/protocol"
	"github.com/ckptsim/ckptsim/scenarios"
	"github.com/ckptsim/ckptsim/sim"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// SweepRow is one run of a sweep: the swept values, the protocol (none for a run
// without checkpoints) and what the run measured.
type SweepRow struct {
	Sweep    string `json:"sweep"`
	Scenario string `json:"scenario"`
	// Param is the first swept key (the x axis), Value its value here, X the
	// value as a number in Unit; Values lists every swept key=value of the point.
	Param    string  `json:"param"`
	Value    string  `json:"value"`
	X        float64 `json:"x"`
	Unit     string  `json:"unit"`
	Values   string  `json:"values"`
	Protocol string  `json:"protocol"`
	Seed     uint64  `json:"seed"`
	OK       bool    `json:"ok"`
	Outcome  string  `json:"outcome"`
	// Checkpoint measures: completed checkpoints, their end-to-end duration,
	// alignment, full state size and persisted in-flight data (medians per run).
	Completed      int     `json:"completed"`
	DurationP50MS  float64 `json:"duration_p50_ms"`
	DurationP99MS  float64 `json:"duration_p99_ms"`
	AlignmentP50MS float64 `json:"alignment_p50_ms"`
	StateBytes     float64 `json:"state_bytes_p50"`
	InflightBytes  float64 `json:"persisted_inflight_bytes_p50"`
	// CheckpointBytes is StateBytes + InflightBytes: what one checkpoint stores.
	CheckpointBytes float64 `json:"checkpoint_bytes_p50"`
	Restarts        int     `json:"restarts"`
	// RecoveryP50MS is the downtime of a restart, CatchUpP50MS the time from the
	// failure until the sources were back where they were.
	RecoveryP50MS float64 `json:"recovery_p50_ms"`
	CatchUpP50MS  float64 `json:"catch_up_p50_ms"`
	Reprocessed   int64   `json:"reprocessed_records"`
	ProcessedRPS  float64 `json:"processed_rps"`
	LatencyP50MS  float64 `json:"latency_p50_ms"`
	LatencyP99MS  float64 `json:"latency_p99_ms"`
	// The protocol's costs (scenarios.Costs): pause p50, bytes written to the
	// checkpoint store, message logs held at the end, protocol messages and
	// bytes, forced and useless checkpoints, records replayed from what the
	// protocol kept.
	PauseP50MS       float64 `json:"pause_p50_ms"`
	WrittenBytes     int64   `json:"written_bytes"`
	LogHeldBytes     int64   `json:"log_held_bytes"`
	ProtocolMessages int64   `json:"protocol_messages"`
	ProtocolBytes    int64   `json:"protocol_bytes"`
	Forced           int     `json:"forced_checkpoints"`
	Useless          int     `json:"useless_checkpoints"`
	Replayed         int64   `json:"replayed_records"`
	// BaselineRPS is the same point's throughput without checkpoints (when the
	// sweep has a baseline) and OverheadPct the throughput lost to checkpointing.
	BaselineRPS float64 `json:"baseline_rps"`
	OverheadPct float64 `json:"overhead_pct"`
	// ModelAlignedMS is the analytical estimate of an aligned checkpoint.
	ModelAlignedMS float64 `json:"model_aligned_ms"`
	Replay         string  `json:"replay"`
}

// NewSweepRow makes the row of one sweep run.
func NewSweepRow(sw *scenarios.Sweep, pt *scenarios.SweepPoint, res *scenarios.Result) SweepRow {
	x, unit := Numeric(pt.Values[0])
	if math.IsNaN(x) { // a category (state.backend.type=heap,pebble): its position
		x, unit = float64(slices.Index(sw.Params[0].Values, pt.Values[0])), categoryUnit
	}
	var kv []string
	for i, v := range pt.Values {
		kv = append(kv, sw.Params[i].Key+"="+v)
	}
	proto := pt.Protocol
	if pt.Baseline() {
		proto = NoCheckpoints
	}
	c := res.Checkpoints
	return SweepRow{Sweep: sw.Name, Scenario: sw.Scenario.Name, Param: sw.Params[0].Key, Value: pt.Values[0],
		X: x, Unit: unit, Values: strings.Join(kv, " "), Protocol: proto, Seed: pt.Seed, OK: res.OK, Outcome: res.Outcome,
		Completed: c.Completed, DurationP50MS: c.DurationMS.P50, DurationP99MS: c.DurationMS.P99,
		AlignmentP50MS: c.AlignmentMS.P50, StateBytes: c.FullBytes.P50, InflightBytes: c.PersistedInflightBytes.P50,
		CheckpointBytes: c.FullBytes.P50 + c.PersistedInflightBytes.P50, Restarts: res.Restarts,
		RecoveryP50MS: res.RecoveryMS.P50, CatchUpP50MS: res.CatchUpMS.P50, Reprocessed: res.ReprocessedRecords, ProcessedRPS: res.ProcessedRPS,
		ModelAlignedMS: pt.Model.Aligned.Milliseconds(), Replay: res.Replay,
		LatencyP50MS: res.LatencyMS.P50, LatencyP99MS: res.LatencyMS.P99,
		PauseP50MS: res.Costs.PauseMS.P50, WrittenBytes: res.Costs.WrittenBytes, LogHeldBytes: res.Costs.LogHeldBytes,
		ProtocolMessages: res.Costs.ProtocolMessages, ProtocolBytes: res.Costs.ProtocolBytes,
		Forced: res.Costs.ForcedCheckpoints, Useless: res.Costs.UselessCheckpoints, Replayed: res.Costs.ReplayedRecords}
}

// categoryUnit marks a swept key whose values are names, not numbers.
const categoryUnit = "category"

// FillOverhead sets each run's baseline throughput and overhead from the
// baseline run of the same values and seed.
func FillOverhead(rows []SweepRow) {
	base := map[string]float64{}
	for _, r := range rows {
		if r.Protocol == NoCheckpoints {
			base[r.Values+"\x00"+strconv.FormatUint(r.Seed, 10)] = r.ProcessedRPS
		}
	}
	for i := range rows {
		b, ok := base[rows[i].Values+"\x00"+strconv.FormatUint(rows[i].Seed, 10)]
		if ok && b > 0 {
			rows[i].BaselineRPS = b
			rows[i].OverheadPct = 100 * (1 - rows[i].ProcessedRPS/b)
		}
	}
}

// Numeric reads a swept value as a number for an axis: durations in ms, sizes in
// bytes, rates in records/s, anything else as written ("" unit).
func Numeric(v string) (float64, string) {
	if n, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
		return n, ""
	}
	if d, err := sim.ParseDuration(v); err == nil {
		return d.Milliseconds(), "ms"
	}
	if n, err := scenarios.ParseSize(v); err == nil {
		return float64(n), "bytes"
	}
	if r, err := scenarios.ParseRate(v); err == nil {
		return r, "records/s"
	}
	return math.NaN(), ""
}

// series groups a sweep's rows by protocol (and by the other swept values, when
// several keys are swept), medians over seeds, ordered by x.
type series struct {
	label string
	proto string
	pts   []seriesPoint
}

type seriesPoint struct {
	x    float64
	rows []SweepRow
}

func (p seriesPoint) median(f func(SweepRow) float64) float64 {
	var vs []float64
	for _, r := range p.rows {
		if v := f(r); !math.IsNaN(v) {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return math.NaN()
	}
	sort.Float64s(vs)
	if len(vs)%2 == 1 {
		return vs[len(vs)/2]
	}
	return (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
}

func group(rows []SweepRow, withBaseline bool) []series {
	by := map[string]*series{}
	for _, r := range rows {
		if math.IsNaN(r.X) || (r.Protocol == NoCheckpoints && !withBaseline) {
			continue
		}
		label := r.Protocol
		if rest := strings.TrimPrefix(r.Values, r.Param+"="+r.Value); rest != "" {
			label += "," + rest
		}
		s := by[label]
		if s == nil {
			s = &series{label: label, proto: r.Protocol}
			by[label] = s
		}
		if n := len(s.pts); n > 0 && s.pts[n-1].x == r.X {
			s.pts[n-1].rows = append(s.pts[n-1].rows, r)
		} else {
			s.pts = append(s.pts, seriesPoint{x: r.X, rows: []SweepRow{r}})
		}
	}
	var out []series
	for _, k := range sortedKeys(by) {
		s := by[k]
		sort.SliceStable(s.pts, func(i, j int) bool { return s.pts[i].x < s.pts[j].x })
		out = append(out, *s)
	}
	return out
}

// sweepPlot starts a sweep figure: x is the swept key, on a log scale when its
// values span more than a factor of 20.
func sweepPlot(title string, rows []SweepRow, ylabel string, logY bool) *plot.Plot {
	p := newPlot()
	p.Title.Text = title
	r0 := rows[0]
	p.X.Label.Text = r0.Param
	switch r0.Unit {
	case categoryUnit: // the values' names at their positions
		labels := make([]string, 0, len(rows))
		for _, r := range rows {
			for int(r.X) >= len(labels) {
				labels = append(labels, "")
			}
			labels[int(r.X)] = r.Value
		}
		p.NominalX(labels...)
	default:
		if r0.Unit != "" {
			p.X.Label.Text += " (" + r0.Unit + ")"
		}
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, r := range rows {
			lo, hi = math.Min(lo, r.X), math.Max(hi, r.X)
		}
		if lo > 0 && hi/lo > 20 {
			setLog(&p.X)
		}
	}
	p.Y.Label.Text = ylabel
	if logY {
		setLog(&p.Y)
	}
	p.Add(plotter.NewGrid())
	return p
}

// addSeries draws one line with points per series of y (skipping points whose y is
// NaN, or not positive on a log axis), and returns how many it drew.
func addSeries(p *plot.Plot, ss []series, y func(SweepRow) float64, logY bool) (int, error) {
	var lines []xySeries
	for _, s := range ss {
		var xys plotter.XYs
		for _, pt := range s.pts {
			v := pt.median(y)
			if math.IsNaN(v) || (logY && v <= 0) {
				continue
			}
			xys = append(xys, plotter.XY{X: pt.x, Y: v})
		}
		if len(xys) > 0 {
			lines = append(lines, xySeries{label: s.label, protocol: s.proto, xys: xys})
		}
	}
	return len(lines), addSeriesLines(p, lines)
}

// SweepFigures draws every figure a sweep's rows support and writes the rows as
// NAME.csv/json: figure 3 (checkpoint duration, log y, with the analytical model
// of aligned checkpoints), figure 4 (checkpoint size), figure 5 (recovery time and
// reprocessed records, when runs failed) and figure 6 (throughput overhead, when
// the sweep has a baseline) and, for a sweep across protocol families, figure 7
// (the costs that differ by family). It returns the names of the figures written.
func SweepFigures(dir, name string, rows []SweepRow) ([]string, error) {
	if len(rows) == 0 {
		return nil, fmt.Errorf("sweep %s: no runs", name)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var t Tables
	if err := t.writeOne(dir, name, rows); err != nil {
		return nil, err
	}
	ss := group(rows, false)
	var written []string
	figs := []struct {
		suffix string
		draw   func(string, []SweepRow, []series) (bool, error)
	}{
		{"duration", durationFigure}, {"size", sizeFigure}, {"recovery", recoveryFigure}, {"overhead", overheadFigure},
		{"costs", costsFigure},
	}
	for _, f := range figs {
		ok, err := f.draw(filepath.Join(dir, name+"--"+f.suffix), rows, ss)
		if err != nil {
			return written, fmt.Errorf("sweep %s, %s figure: %w", name, f.suffix, err)
		}
		if ok {
			written = append(written, name+"--"+f.suffix)
			if err := t.writeOne(dir, name+"--"+f.suffix, rows); err != nil { // the data beside the figure
				return written, err
			}
		}
	}
	return written, nil
}

func durationFigure(path string, rows []SweepRow, ss []series) (bool, error) {
	p := sweepPlot(fmt.Sprintf("Checkpoint duration against %s — %s", rows[0].Param, rows[0].Scenario), rows,
		"end-to-end checkpoint duration, p50 (ms, log scale)", true)
	n, err := addSeries(p, ss, func(r SweepRow) float64 {
		if r.Completed == 0 {
			return math.NaN()
		}
		return r.DurationP50MS
	}, true)
	if err != nil || n == 0 {
		return false, err
	}
	var model plotter.XYs
	for _, s := range ss {
		if s.proto != protocol.AlignedName {
			continue
		}
		for _, pt := range s.pts {
			if v := pt.median(func(r SweepRow) float64 { return r.ModelAlignedMS }); v > 0 {
				model = append(model, plotter.XY{X: pt.x, Y: v})
			}
		}
		break
	}
	if len(model) > 0 {
		l, err := plotter.NewLine(model)
		if err != nil {
			return false, err
		}
		l.Color = color.Black
		l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		l.Width = vg.Points(1.2)
		p.Add(l)
		addLegend(p, "model: aligned", l)
	}
	return true, saveSplit(p, path)
}

func sizeFigure(path string, rows []SweepRow, ss []series) (bool, error) {
	p := sweepPlot(fmt.Sprintf("Checkpoint size against %s — %s", rows[0].Param, rows[0].Scenario), rows,
		"state + persisted in-flight data, p50 (KiB)", false)
	n, err := addSeries(p, ss, func(r SweepRow) float64 {
		if r.Completed == 0 {
			return math.NaN()
		}
		return r.CheckpointBytes / 1024
	}, false)
	if err != nil || n == 0 {
		return false, err
	}
	p.Y.Min = 0
	return true, saveSplit(p, path)
}

func recoveryFigure(path string, rows []SweepRow, ss []series) (bool, error) {
	restarted := false
	for _, r := range rows {
		restarted = restarted || r.Restarts > 0
	}
	if !restarted {
		return false, nil
	}
	rec := sweepPlot(fmt.Sprintf("Recovery against %s — %s", rows[0].Param, rows[0].Scenario), rows,
		"time from the failure until caught up, p50 (ms)", false)
	if _, err := addSeries(rec, ss, func(r SweepRow) float64 {
		if r.Restarts == 0 || r.CatchUpP50MS == 0 {
			return math.NaN()
		}
		return r.CatchUpP50MS
	}, false); err != nil {
		return false, err
	}
	rep := sweepPlot("", rows, "reprocessed records", false)
	if _, err := addSeries(rep, ss, func(r SweepRow) float64 { return float64(r.Reprocessed) }, false); err != nil {
		return false, err
	}
	rec.Y.Min, rep.Y.Min = 0, 0
	return true, saveFigure([]*plot.Plot{rec, rep}, 2.6*vg.Inch, filepath.Dir(path), filepath.Base(path))
}

func overheadFigure(path string, rows []SweepRow, ss []series) (bool, error) {
	has := false
	for _, r := range rows {
		has = has || r.BaselineRPS > 0
	}
	if !has {
		return false, nil
	}
	p := sweepPlot(fmt.Sprintf("Throughput overhead against %s — %s", rows[0].Param, rows[0].Scenario), rows,
		"throughput lost vs no checkpoints (%)", false)
	n, err := addSeries(p, ss, func(r SweepRow) float64 {
		if r.BaselineRPS <= 0 {
			return math.NaN()
		}
		return r.OverheadPct
	}, false)
	if err != nil || n == 0 {
		return false, err
	}
	zero, err := plotter.NewLine(plotter.XYs{{X: rows[0].X, Y: 0}, {X: rows[len(rows)-1].X, Y: 0}})
	if err != nil {
		return false, err
	}
	zero.Color = color.Gray{Y: 0x80}
	zero.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
	p.Add(zero)
	return true, saveSplit(p, path)
}

func saveSplit(p *plot.Plot, path string) error {
	return save(p, filepath.Dir(path), filepath.Base(path))
}

// NoCheckpoints is the protocol column of a sweep's baseline rows: the same job
// run without checkpoints, against which overheads are measured.
const NoCheckpoints = "none"
