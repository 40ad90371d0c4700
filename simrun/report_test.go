package simrun

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ckptsim/ckptsim/internal/headless"
	"github.com/ckptsim/ckptsim/reports"
	"github.com/ckptsim/ckptsim/scenarios"
)

// reportScenarios cover every kind of page content: faults with a restore and
// failed checkpoints, a job that fails as expected, and a detected violation
// whose state check carries a go-cmp diff.
var reportScenarios = []string{"crash-during-alignment", "repeated-crashes", "fifo-violation"}

// writeSmallReport writes what suite --out writes for a small suite (three
// scenarios under two protocols, and one small sweep) into dir.
func writeSmallReport(t *testing.T, dir string) {
	t.Helper()
	var scs []*scenarios.Scenario
	for _, name := range reportScenarios {
		sc, err := scenarios.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		scs = append(scs, sc)
	}
	traces := filepath.Join(dir, "traces")
	if err := os.MkdirAll(traces, 0o755); err != nil {
		t.Fatal(err)
	}
	// what suite --out does, in its order
	start := time.Now()
	results, tables := runSuite(scs, []string{"aligned", "unaligned"}, 2, false, traces, io.Discard, nil)
	if err := writeSuiteResults(dir, "", results, 2, time.Since(start)); err != nil {
		t.Fatal(err)
	}
	if err := writeReports(dir, tables); err != nil {
		t.Fatal(err)
	}
	sw := &scenarios.Sweep{Name: "interval", Scenario: scs[0], Seeds: 1, Baseline: true,
		Set:       []scenarios.Param{{Key: "orders.records", Values: []string{"2000"}}},
		Params:    []scenarios.Param{{Key: "execution.checkpointing.interval", Values: []string{"200 ms", "500 ms"}}},
		Protocols: []string{"aligned", "unaligned"}}
	rows, _, err := runSweep(sw, sw.Scenario.Name, 2, 100, io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	names, err := reports.SweepFigures(filepath.Join(dir, "figures"), sw.Name, rows)
	if err != nil {
		t.Fatal(err)
	}
	sweeps := []reports.IndexSweep{{Name: sw.Name, Description: "a small sweep", Command: sw.Command(), Rows: rows,
		Figures: names, Headline: "interval--recovery"}}
	if err := reports.WriteIndex(dir, filepath.Join(dir, "figures"), results, sweeps); err != nil {
		t.Fatal(err)
	}
}

// files lists every file under dir, relative, in order.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		out = append(out, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// TestSuiteOutputIsReproducible: two runs of the same suite write the same
// files, byte for byte, but for wall-clock.json; no file carries the U+00A0
// that go-cmp puts into its diffs in half of the processes; every page stays
// small and every link of every page leads to a file of the report.
func TestSuiteOutputIsReproducible(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	writeSmallReport(t, a)
	writeSmallReport(t, b)
	fa, fb := files(t, a), files(t, b)
	if strings.Join(fa, "\n") != strings.Join(fb, "\n") {
		t.Fatalf("the two runs wrote different files:\n%v\n%v", fa, fb)
	}
	sawDiff := false
	for _, f := range fa {
		x, err := os.ReadFile(filepath.Join(a, f))
		if err != nil {
			t.Fatal(err)
		}
		y, err := os.ReadFile(filepath.Join(b, f))
		if err != nil {
			t.Fatal(err)
		}
		if f == wallClockFile {
			continue
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs of the same suite", f)
		}
		if !strings.HasSuffix(f, ".png") && bytes.Contains(x, []byte("\u00a0")) {
			t.Errorf("%s contains U+00A0 (an unnormalized go-cmp diff)", f)
		}
		sawDiff = sawDiff || (f == "results.json" && bytes.Contains(x, []byte("entries differ")))
		if strings.HasSuffix(f, ".html") {
			if len(x) > 200<<10 {
				t.Errorf("%s is %d KiB: pages must stay small", f, len(x)>>10)
			}
			checkLinks(t, a, f, string(x))
		}
	}
	if !sawDiff {
		t.Error("no state diff in results.json: the test no longer covers the state oracle's diff")
	}
	for _, want := range []string{"index.html", "scenarios/fifo-violation.html", "sweeps/interval.html", "results.json",
		"summary.txt", wallClockFile, "figures/interval--recovery.svg", "figures/crash-during-alignment--aligned--timeline.svg"} {
		if _, err := os.Stat(filepath.Join(a, want)); err != nil {
			t.Errorf("the report lacks %s", want)
		}
	}
	for _, f := range []string{"results.json", "summary.txt"} {
		data, _ := os.ReadFile(filepath.Join(a, f))
		if bytes.Contains(data, []byte("wall")) {
			t.Errorf("%s mentions wall-clock time", f)
		}
	}
}

var linkAttr = regexp.MustCompile(`(?:href|src)="([^"]*)"`)

// checkLinks checks that every relative link of page (a file of dir) names a
// file that exists, and that the page loads nothing from the network.
func checkLinks(t *testing.T, dir, page, html string) {
	t.Helper()
	for _, m := range linkAttr.FindAllStringSubmatch(html, -1) {
		link := m[1]
		switch {
		case strings.HasPrefix(link, "https://ui.perfetto.dev"):
			continue // a link for the reader to follow, loaded by nothing
		case strings.Contains(link, "://"):
			t.Errorf("%s links %s: the report must open offline", page, link)
			continue
		case strings.HasPrefix(link, "#"):
			if !strings.Contains(html, `id="`+link[1:]+`"`) {
				t.Errorf("%s links %s, which is not on the page", page, link)
			}
			continue
		}
		target, _, _ := strings.Cut(link, "#")
		path := filepath.Join(dir, filepath.Dir(page), filepath.FromSlash(target))
		if _, err := os.Stat(path); err != nil {
			t.Errorf("%s links %s, which does not exist", page, link)
		}
	}
}

// TestReportRendersHeadless opens every page of a small report in headless
// Chromium and fails on any console error, uncaught exception, failed load or
// broken image. Without Chromium it is skipped (Debian: apt-get install chromium).
func TestReportRendersHeadless(t *testing.T) {
	chromium := headless.Find()
	if chromium == "" {
		t.Skip("no Chromium on this machine (Debian: apt-get install chromium; or set $CHROMIUM): the report is not rendered")
	}
	dir := t.TempDir()
	writeSmallReport(t, dir)
	b, err := headless.Start(chromium)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var pages []string
	for _, f := range files(t, dir) {
		if strings.HasSuffix(f, ".html") {
			pages = append(pages, f)
		}
	}
	for _, f := range pages {
		p, err := b.Open("file://"+filepath.Join(dir, filepath.FromSlash(f)), 1280, 900)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		broken, err := p.BrokenImages()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, img := range broken {
			t.Errorf("%s: image %s does not load", f, img)
		}
		for _, c := range p.Console {
			t.Errorf("%s: %s", f, c)
		}
		if f == "index.html" {
			v, err := p.Eval(`document.querySelectorAll("table.grid td a").length`)
			if err != nil {
				t.Fatal(err)
			}
			if want := len(reportScenarios) * 2; string(v) != strconv.Itoa(want) {
				t.Errorf("the overview has %s linked cells, want %d", v, want)
			}
		}
		p.Close()
	}
}
