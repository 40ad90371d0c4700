package reports

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/faults"
	"github.com/ckptsim/ckptsim/scenarios"
	"github.com/ckptsim/ckptsim/sim"
)

// TestTimelineFigure renders figure 1 of a small run with a worker crash: the
// throughput line, the checkpoint spans and the shaded fault window are drawn.
func TestTimelineFigure(t *testing.T) {
	sc, err := scenarios.Lookup("crash-during-alignment")
	if err != nil {
		t.Fatal(err)
	}
	setup, err := sc.Setup("aligned")
	if err != nil {
		t.Fatal(err)
	}
	var tl *Timeline
	var log []faults.Injected
	var tables Tables
	res, err := scenarios.Run(setup, scenarios.RunOptions{
		Attach:        func(rt *engine.Runtime) { tl = AttachTimeline(rt, 0) },
		ObserveFaults: func(l []faults.Injected) { log = l },
		Observe: func(rt *engine.Runtime) {
			tables.Add(sc.Name, "aligned", rt)
			tables.Timeline = tl.Rows(sc.Name, "aligned")
		},
	})
	if err != nil || !res.OK {
		t.Fatalf("run: %v %+v", err, res)
	}
	rows := tables.Timeline
	if len(rows) < 30 || len(rows) > 2*maxTimelineBuckets {
		t.Fatalf("%d timeline buckets, want between 30 and %d", len(rows), 2*maxTimelineBuckets)
	}
	var records int64
	for i, r := range rows {
		records += r.Records
		if i > 0 && r.StartMS != rows[i-1].EndMS {
			t.Fatalf("bucket %d starts at %v, the previous ended at %v", i, r.StartMS, rows[i-1].EndMS)
		}
	}
	if records < res.Records {
		t.Fatalf("the timeline counts %d sink records, the run read %d", records, res.Records)
	}
	fw := FaultWindows(sc.Name, "aligned", log, rows[len(rows)-1].EndMS)
	// the scenario's two crashes: worker-1 down 2 s during alignment, worker-2 down 1 s at 6 s
	if len(fw) != 2 || fw[0].Kind != "crash-worker" || math.Abs(fw[0].EndMS-fw[0].StartMS-2000) > 1e-6 ||
		fw[1].Kind != "crash-worker" || fw[1].StartMS != 6000 || math.Abs(fw[1].EndMS-fw[1].StartMS-1000) > 1e-6 {
		t.Fatalf("fault windows %+v, want a 2 s and a 1 s crash-worker window", fw)
	}
	dir := t.TempDir()
	name := FigureName(sc.Name, "aligned", "timeline")
	if err := TimelineFigure(dir, name, "timeline", rows, tables.Checkpoints, fw); err != nil {
		t.Fatal(err)
	}
	checkImages(t, dir, name, []string{"crash-worker", "completed", "sink throughput", "simulated time"})
	img := decodePNG(t, filepath.Join(dir, name+".png"))
	for what, c := range map[string]color.Color{"throughput": color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
		"completed checkpoints": color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
		"failed checkpoints":    color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}} {
		if n := pixels(img, c); n < 50 {
			t.Errorf("the %s colour covers %d pixels: not drawn", what, n)
		}
	}
	for _, f := range []string{name + "-checkpoints.csv", name + "-faults.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSweepFigures renders figures 3 to 6 from a small sweep with a crash and a
// baseline: every figure is drawn with every protocol's series.
func TestSweepFigures(t *testing.T) {
	sc, err := scenarios.Lookup("crash-during-alignment")
	if err != nil {
		t.Fatal(err)
	}
	sw := &scenarios.Sweep{Name: "small", Scenario: sc, Seeds: 1, Baseline: true,
		Set:       []scenarios.Param{{Key: "orders.records", Values: []string{"2000"}}},
		Params:    []scenarios.Param{{Key: "execution.checkpointing.interval", Values: []string{"200 ms", "500 ms"}}},
		Protocols: []string{"aligned", "unaligned"}}
	pts, err := sw.Points()
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 2*3 {
		t.Fatalf("%d points, want 2 values × (baseline + 2 protocols)", len(pts))
	}
	var rows []SweepRow
	for i := range pts {
		res, err := scenarios.Run(pts[i].Setup, scenarios.RunOptions{Seed: pts[i].Seed})
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, NewSweepRow(sw, &pts[i], res))
	}
	FillOverhead(rows)
	dir := t.TempDir()
	figs, err := SweepFigures(dir, "small", rows)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"small--duration", "small--size", "small--recovery", "small--overhead"}
	if len(figs) != len(want) {
		t.Fatalf("figures %v, want %v", figs, want)
	}
	for i, f := range want {
		if figs[i] != f {
			t.Fatalf("figures %v, want %v", figs, want)
		}
		checkImages(t, dir, f, []string{"aligned", "unaligned", "execution.checkpointing.interval (ms)"})
		img := decodePNG(t, filepath.Join(dir, f+".png"))
		for _, p := range []string{"aligned", "unaligned"} {
			if n := pixels(img, colorOf(p)); n < 30 {
				t.Errorf("%s: the %s series covers %d pixels: not drawn", f, p, n)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "small.csv")); err != nil {
		t.Fatal(err)
	}
}

func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// pixels counts the pixels of img within a small distance of colour c.
func pixels(img image.Image, c color.Color) int {
	cr, cg, cb, _ := c.RGBA()
	near := func(a, b uint32) bool { return a>>8 <= b>>8+24 && b>>8 <= a>>8+24 }
	n := 0
	bd := img.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if near(r, cr) && near(g, cg) && near(b, cb) {
				n++
			}
		}
	}
	return n
}

// Sampling a run for its timeline only observes it: the trace hash is unchanged.
func TestTimelineKeepsTheTraceHash(t *testing.T) {
	sc, err := scenarios.Lookup("cascading-failure")
	if err != nil {
		t.Fatal(err)
	}
	setup, err := sc.Setup("unaligned")
	if err != nil {
		t.Fatal(err)
	}
	plain, err := scenarios.Run(setup, scenarios.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var tl *Timeline
	sampled, err := scenarios.Run(setup, scenarios.RunOptions{
		Attach:  func(rt *engine.Runtime) { tl = AttachTimeline(rt, sim.Millisecond) },
		Observe: func(*engine.Runtime) { tl.Rows(sc.Name, "unaligned") },
	})
	if err != nil {
		t.Fatal(err)
	}
	if plain.TraceHash != sampled.TraceHash {
		t.Fatalf("the timeline changed the trace hash: %s vs %s", plain.TraceHash, sampled.TraceHash)
	}
}

func TestNumeric(t *testing.T) {
	for in, want := range map[string][2]any{"8": {8.0, ""}, "100 us": {0.1, "ms"}, "2 s": {2000.0, "ms"},
		"4 kb": {4096.0, "bytes"}, "2000/s": {2000.0, "records/s"}} {
		x, unit := Numeric(in)
		if math.Abs(x-want[0].(float64)) > 1e-9 || unit != want[1].(string) {
			t.Errorf("Numeric(%q) = %v %q, want %v %q", in, x, unit, want[0], want[1])
		}
	}
	if x, _ := Numeric("heap"); !math.IsNaN(x) {
		t.Errorf("Numeric(heap) = %v, want NaN", x)
	}
}

// TestFigure3Shape runs the backpressure sweep of figure 3 at 1 and 10 ms per
// record: aligned checkpoints grow with backpressure and stay within 1.5× of the
// analytical model, unaligned ones stay flat (up to one record's processing time)
// and are 100× faster at 10 ms, and hybrid lies in between.
func TestFigure3Shape(t *testing.T) {
	sws, err := scenarios.BuiltinSweeps()
	if err != nil {
		t.Fatal(err)
	}
	var sw *scenarios.Sweep
	for _, s := range sws {
		if s.Name == "backpressure" {
			sw = s
		}
	}
	if sw == nil {
		t.Fatal("no backpressure sweep")
	}
	sw.Params = []scenarios.Param{{Key: sw.Params[0].Key, Values: []string{"1 ms", "10 ms"}}}
	pts, err := sw.Points()
	if err != nil {
		t.Fatal(err)
	}
	p50 := map[string]float64{}
	var rows []SweepRow
	for i := range pts {
		res, err := scenarios.Run(pts[i].Setup, scenarios.RunOptions{Seed: pts[i].Seed})
		if err != nil || !res.OK {
			t.Fatalf("%v %s: %v %+v", pts[i].Values, pts[i].Protocol, err, res.Checks)
		}
		row := NewSweepRow(sw, &pts[i], res)
		rows = append(rows, row)
		p50[row.Value+" "+row.Protocol] = row.DurationP50MS
		if row.Protocol == "aligned" {
			if ratio := row.DurationP50MS / row.ModelAlignedMS; ratio < 1/1.5 || ratio > 1.5 {
				t.Errorf("%s: aligned %.0f ms, model %.0f ms: not within 1.5×", row.Value, row.DurationP50MS, row.ModelAlignedMS)
			}
		}
	}
	if p50["10 ms aligned"] < 5*p50["1 ms aligned"] {
		t.Errorf("aligned does not grow with backpressure: %v", p50)
	}
	// Unaligned barriers overtake the queues; they wait only for the record being
	// processed (10 ms at the sink), where aligned ones wait for the whole queue.
	if p50["10 ms unaligned"] > p50["1 ms unaligned"]+15 || p50["10 ms aligned"] < 100*p50["10 ms unaligned"] {
		t.Errorf("unaligned is not flat and 100× faster at 10 ms: %v", p50)
	}
	for _, v := range []string{"1 ms", "10 ms"} {
		if h := p50[v+" hybrid"]; h <= p50[v+" unaligned"] || h >= p50[v+" aligned"] {
			t.Errorf("%s: hybrid %.1f ms is not between unaligned and aligned: %v", v, h, p50)
		}
	}
	dir := t.TempDir()
	if _, err := SweepFigures(dir, "backpressure", rows); err != nil {
		t.Fatal(err)
	}
	checkImages(t, dir, "backpressure--duration", []string{"model: aligned", "sink.cost (ms)"})
}
