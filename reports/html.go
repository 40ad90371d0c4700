package reports

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ckptsim/ckptsim/scenarios"
)

// The HTML report is a small site that opens from the file system: index.html
// with the scenario × protocol overview and the sweeps, one page per scenario
// (scenarios/NAME.html: its runs, checks, replay commands, timelines and
// figures) and one per sweep (sweeps/NAME.html). Figures are linked, not
// inlined, so every page stays small; nothing in it depends on the wall clock,
// so the same suite writes the same bytes.

// IndexSweep is one sweep of the HTML report: what it varies, the command that
// reproduces it, its rows and its figures.
type IndexSweep struct {
	Name        string
	Description string
	Command     string
	Rows        []SweepRow
	Figures     []string // figure names in the figure directory
	// Headline is the figure the sweep is for, shown first and on the
	// overview (the first figure when empty or not among Figures).
	Headline string
}

// ScenarioFigures are the figures drawn per scenario, protocols together.
var ScenarioFigures = []string{"checkpoint-durations", "alignment"}

// Folders of the report's pages, under the output directory.
const (
	ScenarioPages = "scenarios"
	SweepPages    = "sweeps"
)

// verdict is how the report shows a run's result: a word, a CSS class for its
// colour, and a sentence for the tooltip.
type verdict struct {
	Word, Class, Note string
}

// verdictOf reads a result: a run that failed a check is FAIL; a passing run
// is ok, or says what the scenario expected when that was not a plain pass.
func verdictOf(r *scenarios.Result) verdict {
	switch {
	case !r.OK:
		var failed []string
		for _, c := range r.Checks {
			if !c.OK {
				failed = append(failed, c.Name)
			}
		}
		return verdict{"FAIL", "fail", "failed: " + strings.Join(failed, ", ")}
	case r.Outcome == scenarios.OutcomePass:
		return verdict{"ok", "ok", "every check the protocol promises passed"}
	case r.Outcome == scenarios.OutcomeDetected:
		return verdict{"detected", "detected", "the scenario breaks an assumption of the protocol, and a check caught it, as expected"}
	case r.Outcome == scenarios.OutcomeJobFails:
		return verdict{"job fails", "expected", "the job failed for good, as the scenario expects"}
	}
	return verdict{r.Outcome, "note", "passed with outcome " + r.Outcome}
}

// pageName is the file name of a scenario's or sweep's page.
func pageName(name string) string {
	return strings.NewReplacer("/", "-", string(filepath.Separator), "-", "#", "-", "?", "-").Replace(name) + ".html"
}

// anchor is the id of a protocol's section on a scenario page.
func anchor(protocol string) string {
	return "run-" + strings.NewReplacer("/", "-", " ", "-").Replace(protocol)
}

// WriteIndex writes the report into dir: index.html, a page per scenario under
// dir/scenarios and a page per sweep under dir/sweeps. Figures are read from
// figDir (only those that exist are shown) and traces from dir/traces.
func WriteIndex(dir, figDir string, results []*scenarios.Result, sweeps []IndexSweep) error {
	s, err := newSite(dir, figDir, results, sweeps)
	if err != nil {
		return err
	}
	for _, d := range []string{ScenarioPages, SweepPages} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	if err := render(filepath.Join(dir, "index.html"), "index", s); err != nil {
		return err
	}
	for i := range s.Scenarios {
		page := scenarioPage{Site: s, Scenario: s.Scenarios[i]}
		if i > 0 {
			page.Prev = s.Scenarios[i-1]
		}
		if i+1 < len(s.Scenarios) {
			page.Next = s.Scenarios[i+1]
		}
		if err := render(filepath.Join(dir, ScenarioPages, s.Scenarios[i].Page), "scenario", page); err != nil {
			return err
		}
	}
	for _, sw := range s.Sweeps {
		if err := render(filepath.Join(dir, SweepPages, sw.Page), "sweep", sweepPage{Site: s, Sweep: sw}); err != nil {
			return err
		}
	}
	return nil
}

func render(path, name string, data any) error {
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, name, data); err != nil {
		return fmt.Errorf("report page %s: %w", filepath.Base(path), err)
	}
	return WriteFileAtomic(path, b.Bytes())
}

// site is everything the pages show.
type site struct {
	Total, OK, Failed int
	Protocols         []string
	Scenarios         []*scenarioModel
	Sweeps            []*sweepModel
	// Files are the suite's other outputs that exist beside index.html.
	Files []string
}

type scenarioModel struct {
	Name, Description, Page string
	Cells                   []gridCell // one per site protocol
	Table                   htmlTable
	Runs                    []runModel
	Figures                 []figureRef
}

// gridCell is one cell of the overview: a run's verdict, linked to its section.
type gridCell struct {
	Verdict verdict
	Detail  string
	Href    string
	Missing bool
}

type runModel struct {
	*scenarios.Result
	Anchor   string
	Verdict  verdict
	Trace    string
	Timeline *figureRef
}

type sweepModel struct {
	IndexSweep
	Page    string
	Table   htmlTable
	Figures []figureRef
	// Thumb is the first figure, relative to index.html.
	Thumb string
}

// figureRef is a figure as a page links it: the SVG, with the PNG and the data
// beside it (paths relative to the page).
type figureRef struct {
	Name, SVG, PNG, CSV, JSON string
}

type scenarioPage struct {
	Site       *site
	Scenario   *scenarioModel
	Prev, Next *scenarioModel
}

type sweepPage struct {
	Site  *site
	Sweep *sweepModel
}

func newSite(dir, figDir string, results []*scenarios.Result, sweeps []IndexSweep) (*site, error) {
	s := &site{Total: len(results)}
	byName := map[string]*scenarioModel{}
	byRun := map[string]*scenarios.Result{}
	for _, r := range results {
		if r.OK {
			s.OK++
		}
		if !slices.Contains(s.Protocols, r.Protocol) {
			s.Protocols = append(s.Protocols, r.Protocol)
		}
		m := byName[r.Scenario]
		if m == nil {
			m = &scenarioModel{Name: r.Scenario, Page: pageName(r.Scenario)}
			if sc, err := scenarios.Lookup(r.Scenario); err == nil {
				m.Description = sc.Description
			}
			byName[r.Scenario] = m
			s.Scenarios = append(s.Scenarios, m)
		}
		key := r.Scenario + "\x00" + r.Protocol
		if byRun[key] != nil {
			continue // the same run twice: shown once
		}
		byRun[key] = r
		run := runModel{Result: r, Anchor: anchor(r.Protocol), Verdict: verdictOf(r)}
		trace := filepath.Join(dir, "traces", FigureName(r.Scenario, r.Protocol, "trace")+".json")
		if exists(trace) {
			run.Trace = relPath(filepath.Join(dir, ScenarioPages), trace)
		}
		if f, ok := figure(filepath.Join(dir, ScenarioPages), figDir, FigureName(r.Scenario, r.Protocol, "timeline")); ok {
			run.Timeline = &f
		}
		m.Runs = append(m.Runs, run)
	}
	s.Failed = s.Total - s.OK
	for _, m := range s.Scenarios {
		var rs []*scenarios.Result
		for _, run := range m.Runs {
			rs = append(rs, run.Result)
		}
		m.Table = transpose(buildTable(runColumns, rs, func(r *scenarios.Result) string { return "#" + anchor(r.Protocol) }))
		for _, p := range s.Protocols {
			r := byRun[m.Name+"\x00"+p]
			if r == nil {
				m.Cells = append(m.Cells, gridCell{Missing: true})
				continue
			}
			m.Cells = append(m.Cells, gridCell{Verdict: verdictOf(r), Href: ScenarioPages + "/" + m.Page + "#" + anchor(p),
				Detail: fmt.Sprintf("%d/%d", r.Checkpoints.Completed, r.Checkpoints.Triggered)})
		}
		for _, fig := range ScenarioFigures {
			if f, ok := figure(filepath.Join(dir, ScenarioPages), figDir, FigureName(m.Name, "", fig)); ok {
				m.Figures = append(m.Figures, f)
			}
		}
	}
	for _, sw := range sweeps {
		m := &sweepModel{IndexSweep: sw, Page: pageName(sw.Name), Table: buildFoldedTable(sweepColumnsFor(sw.Rows), sw.Rows, nil)}
		names := slices.Clone(sw.Figures)
		if i := slices.Index(names, sw.Headline); i > 0 {
			names = append(append([]string{sw.Headline}, names[:i]...), names[i+1:]...)
		}
		for _, name := range names {
			if f, ok := figure(filepath.Join(dir, SweepPages), figDir, name); ok {
				m.Figures = append(m.Figures, f)
				if m.Thumb == "" {
					m.Thumb = relPath(dir, filepath.Join(figDir, name+".svg"))
				}
			}
		}
		s.Sweeps = append(s.Sweeps, m)
	}
	for _, f := range []string{"summary.txt", "results.json", "data", "figures", "traces", "wall-clock.json"} {
		if exists(filepath.Join(dir, f)) {
			s.Files = append(s.Files, f)
		}
	}
	return s, nil
}

// figure links figDir/NAME.svg from a page in pageDir, when it exists.
func figure(pageDir, figDir, name string) (figureRef, bool) {
	svg := filepath.Join(figDir, name+".svg")
	if !exists(svg) {
		return figureRef{}, false
	}
	f := figureRef{Name: name, SVG: relPath(pageDir, svg)}
	for _, o := range []struct {
		ext string
		dst *string
	}{{".png", &f.PNG}, {".csv", &f.CSV}, {".json", &f.JSON}} {
		if p := filepath.Join(figDir, name+o.ext); exists(p) {
			*o.dst = relPath(pageDir, p)
		}
	}
	return f, true
}

// relPath is target relative to dir, with forward slashes, for a link.
func relPath(dir, target string) string {
	if r, err := filepath.Rel(dir, target); err == nil {
		return filepath.ToSlash(r)
	}
	return filepath.ToSlash(target)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, fs.ErrNotExist)
}

var pages = template.Must(template.New("pages").Funcs(template.FuncMap{
	"multiline": func(s string) bool { return strings.Contains(s, "\n") },
}).Parse(pageTemplates))
