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
			Rebalance().Sink("out", engine.SinkSpec{Kind: engine.SinkTwoPhaseCommit}).Parallelism(2).Cost(sim.Millisecond)
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

// TestReportPages: the overview has one cell per scenario and protocol with the
// run's verdict, linked to the run's section of the scenario's page, which
// lists the checks (escaped), the replay command and the figures; nothing is
// loaded from the network.
func TestReportPages(t *testing.T) {
	tables := smallRuns(t)
	dir := t.TempDir()
	figs := filepath.Join(dir, "figures")
	if err := os.MkdirAll(figs, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := CheckpointDurations(figs, FigureName("small", "", "checkpoint-durations"), "small", tables.Checkpoints); err != nil {
		t.Fatal(err)
	}
	results := []*scenarios.Result{
		{Scenario: "small", Protocol: "aligned", OK: true, Outcome: "pass", Replay: "simrun replay small --protocol aligned --seed 1",
			Checks: []scenarios.Check{{Name: "exactly-once-state", OK: true}}},
		{Scenario: "small", Protocol: "mutant/x", OK: false, Outcome: "check-failed", Replay: "simrun replay small --protocol mutant/x --seed 1",
			Checks: []scenarios.Check{{Name: "exactly-once-output", OK: false, Detail: "3 records lost <b>"}}},
		{Scenario: "other", Protocol: "aligned", OK: true, Outcome: "detected"},
	}
	if err := WriteIndex(dir, figs, results, nil); err != nil {
		t.Fatal(err)
	}
	read := func(name string) string {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	index := read("index.html")
	for _, want := range []string{
		`<a href="scenarios/small.html#run-aligned">ok`, `<a href="scenarios/small.html#run-mutant-x">FAIL`,
		`class="v-fail"`, `class="v-detected"`, `<td class="v-missing">`, // other under mutant/x: not run
	} {
		if !strings.Contains(index, want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
	page := read("scenarios/small.html")
	for _, want := range []string{`id="run-mutant-x"`, "simrun replay small --protocol mutant/x --seed 1",
		"3 records lost &lt;b&gt;", `src="../figures/small--checkpoint-durations.svg"`, `href="../index.html"`, `href="other.html"`} {
		if !strings.Contains(page, want) {
			t.Errorf("scenarios/small.html lacks %q", want)
		}
	}
	for _, p := range []string{index, page} {
		for _, external := range []string{"<script src", "<link ", `src="http`, "url(http"} {
			if strings.Contains(p, external) {
				t.Fatalf("a page loads an external resource (%q)", external)
			}
		}
	}
}

// TestTablesDropEmptyColumns: a column that is zero or empty in every row is
// left out; with folding, a column with one value everywhere moves above the
// table; the rest keep their order.
func TestTablesDropEmptyColumns(t *testing.T) {
	rows := []SweepRow{
		{Param: "k", Value: "1", Values: "k=1", Protocol: "aligned", OK: true, Completed: 3, Seed: 7, DurationP50MS: 12},
		{Param: "k", Value: "2", Values: "k=2", Protocol: "aligned", OK: false, Completed: 4, Seed: 7, DurationP50MS: 0},
	}
	tab := buildFoldedTable(sweepColumnsFor(rows), rows, nil)
	var heads []string
	for _, h := range tab.Head {
		heads = append(heads, h.Text)
	}
	if got, want := strings.Join(heads, "|"), "k|protocol|result|checkpoints|duration p50 ms"; got != want {
		t.Errorf("columns %s, want %s", got, want)
	}
	if len(tab.Same) != 1 || tab.Same[0].Head != "seed" || tab.Same[0].Value != "7" {
		t.Errorf("folded %+v, want seed 7", tab.Same)
	}
	if tab.Rows[1][2].Text != "FAIL" || !strings.Contains(tab.Rows[1][2].Class, "v-fail") {
		t.Errorf("row 2's result cell is %+v", tab.Rows[1][2])
	}
	tr := transpose(tab)
	if len(tr.Head) != 3 || tr.Rows[0][0].Text != "protocol" || tr.Rows[0][2].Text != "aligned" {
		t.Errorf("transposed %+v", tr)
	}
}
