package reports

import (
	"bytes"
	"encoding/csv"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/engine"
	_ "github.com/ckptsim/ckptsim/protocol"
	"github.com/ckptsim/ckptsim/scenarios"
	"github.com/ckptsim/ckptsim/sim"
)

// smallRuns runs a backpressured job with a crash under three protocols.
func smallRuns(t *testing.T) *Tables {
	t.Helper()
	var tables Tables
	for _, name := range []string{"aligned", "unaligned", "hybrid"} {
		p, _ := checkpoint.Lookup(name)
		j := engine.NewJob("report")
		j.Source("src", engine.SourceSpec{Splits: 2, Records: 3000, RecordSize: 1024}).Parallelism(2).
			Rebalance().Map("map", nil).Parallelism(2).
			Rebalance().Sink("out", engine.SinkSpec{Kind: engine.SinkTwoPhaseCommit, Discard: true}).Parallelism(2).Cost(sim.Millisecond)
		w := sim.NewWorld(1)
		rt, err := engine.NewRuntime(w, j, engine.Config{Workers: 2, Protocol: p,
			Checkpoint: engine.CheckpointConfig{Interval: 300 * sim.Millisecond, AlignedTimeout: 20 * sim.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		w.After(900*sim.Millisecond, crash{rt.Workers()[1]}, 0, 0, 0)
		if !rt.RunToCompletion(sim.Time(5 * sim.Minute)) {
			t.Fatalf("%s: job did not finish", name)
		}
		tables.Add("small", name, rt)
	}
	return &tables
}

type crash struct{ n *sim.Node }

func (c crash) Handle(sim.Event) {
	if c.n.Up() {
		c.n.Crash()
		c.n.World().After(300*sim.Millisecond, crash{c.n}, 1, 0, 0)
	} else {
		c.n.Restart()
	}
}

func TestTablesAreWrittenAsCSVAndJSON(t *testing.T) {
	tables := smallRuns(t)
	dir := t.TempDir()
	if err := tables.Write(dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"checkpoints", "subtask_checkpoints", "failures"} {
		f, err := os.Open(filepath.Join(dir, name+".csv"))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatalf("%s.csv: %v", name, err)
		}
		if len(recs) < 2 {
			t.Fatalf("%s.csv has %d lines, want a header and rows", name, len(recs))
		}
		if _, err := os.Stat(filepath.Join(dir, name+".json")); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFigureIsValidAndNotBlank renders figure 2 and checks the PNG decodes with
// many colours in use and the SVG draws paths.
func TestFigureIsValidAndNotBlank(t *testing.T) {
	tables := smallRuns(t)
	dir := t.TempDir()
	if err := CheckpointDurations(dir, "checkpoint-durations", "small", tables.Checkpoints); err != nil {
		t.Fatal(err)
	}
	checkImages(t, dir, "checkpoint-durations", []string{"aligned", "unaligned", "hybrid"})
	if _, err := os.Stat(filepath.Join(dir, "checkpoint-durations.csv")); err != nil {
		t.Fatal(err)
	}
}

func TestBoxPlotIsValidAndNotBlank(t *testing.T) {
	tables := smallRuns(t)
	dir := t.TempDir()
	if err := AlignmentAndStartDelay(dir, "alignment", "small", tables.Subtasks); err != nil {
		t.Fatal(err)
	}
	checkImages(t, dir, "alignment", []string{"aligned", "unaligned", "hybrid", "start delay"})
}

// checkImages checks NAME.png decodes and uses many colours, and NAME.svg draws
// paths and contains every label.
func checkImages(t *testing.T, dir, name string, labels []string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name+".png"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	colors := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, a := img.At(x, y).RGBA()
			colors[[4]uint32{r, g, bl, a}] = true
		}
	}
	if len(colors) < 8 {
		t.Fatalf("%s.png uses %d colours: blank", name, len(colors))
	}
	svg, err := os.ReadFile(filepath.Join(dir, name+".svg"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(svg), "<svg") || strings.Count(string(svg), "<path") < 10 {
		t.Fatalf("%s.svg draws nothing (%d paths)", name, strings.Count(string(svg), "<path"))
	}
	for _, l := range labels {
		if !strings.Contains(string(svg), l) {
			t.Fatalf("%s.svg lacks the label %q", name, l)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, name+".csv")); err != nil {
		t.Fatal(err)
	}
}

// TestIndexInlinesFiguresAndChecks: the HTML report lists every run with its
// verdict and replay command and inlines the figures, with no external resource.
func TestIndexInlinesFiguresAndChecks(t *testing.T) {
	tables := smallRuns(t)
	dir := t.TempDir()
	if err := CheckpointDurations(dir, FigureName("small", "", "checkpoint-durations"), "small", tables.Checkpoints); err != nil {
		t.Fatal(err)
	}
	results := []*scenarios.Result{
		{Scenario: "small", Protocol: "aligned", OK: true, Outcome: "pass", Replay: "simrun replay small --protocol aligned --seed 1",
			Checks: []scenarios.Check{{Name: "exactly-once-state", OK: true}}},
		{Scenario: "small", Protocol: "unaligned", OK: false, Outcome: "check-failed", Replay: "simrun replay small --protocol unaligned --seed 1",
			Checks: []scenarios.Check{{Name: "exactly-once-output", OK: false, Detail: "3 records lost <b>"}}},
	}
	if err := WriteIndex(dir, dir, results, nil); err != nil {
		t.Fatal(err)
	}
	html, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	page := string(html)
	for _, want := range []string{"small", "aligned", "unaligned", "FAIL", "simrun replay small --protocol unaligned --seed 1", "<svg", "3 records lost &lt;b&gt;"} {
		if !strings.Contains(page, want) {
			t.Fatalf("index.html lacks %q", want)
		}
	}
	for _, external := range []string{"<script src", "<link ", `src="http`, `href="http`, "url(http"} {
		if strings.Contains(page, external) {
			t.Fatalf("index.html loads an external resource (%q)", external)
		}
	}
}
