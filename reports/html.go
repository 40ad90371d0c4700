package reports

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ckptsim/ckptsim/scenarios"
)

// IndexScenario is one scenario of the HTML report: its runs and its figures.
type IndexScenario struct {
	Name    string
	Runs    []IndexRun
	Figures []template.HTML // inline SVG
}

// IndexRun is one run of the HTML report with its timeline (figure 1) inline.
type IndexRun struct {
	*scenarios.Result
	Timeline template.HTML
	// Trace is the run's Chrome trace, relative to the page ("" when none).
	Trace string
}

// IndexSweep is one sweep of the HTML report: what it varies, the command that
// reproduces it, its rows and its figures.
type IndexSweep struct {
	Name        string
	Description string
	Command     string
	Rows        []SweepRow
	Figures     []string // figure names in the figure directory
	inline      []template.HTML
}

var indexTemplate = template.Must(template.New("index").Funcs(template.FuncMap{
	"ms":  func(v float64) string { return fmt.Sprintf("%.1f", v) },
	"kib": func(v float64) string { return fmt.Sprintf("%.0f", v/1024) },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ckptsim report</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}
table{border-collapse:collapse;margin:.5em 0 1em}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:right;font-size:90%}
th{background:#f3f3f3}td.l{text-align:left}
.ok{color:#1a7f37;font-weight:bold}.fail{color:#cf222e;font-weight:bold}
details{margin:.2em 0}code{font-size:85%}
.figs svg{width:48%;height:auto;display:inline-block}
.wide svg{width:100%;height:auto}
</style></head><body>
<h1>ckptsim report</h1>
<p>{{.Total}} runs, <span class="ok">{{.OK}} ok</span>{{if .Failed}}, <span class="fail">{{.Failed}} failed</span>{{end}}. Every scenario under every protocol; each run is checked by every oracle its protocol promises and can be replayed exactly with the command shown.</p>
<ul>{{range .Scenarios}}<li><a href="#{{.Name}}">{{.Name}}</a></li>{{end}}</ul>
{{if .Sweeps}}<p>Sweeps: {{range .Sweeps}}<a href="#sweep-{{.Name}}">{{.Name}}</a> {{end}}</p>{{end}}
{{range .Scenarios}}
<h2 id="{{.Name}}">{{.Name}}</h2>
<table><tr><th class="l">protocol</th><th>result</th><th>outcome</th><th>checkpoints</th><th>p50 ms</th><th>max ms</th><th>alignment p50 ms</th><th>persisted in-flight p50 B</th><th>restarts</th><th>recovery p50 ms</th><th>throughput rec/s</th><th>latency p99 ms</th></tr>
{{range .Runs}}<tr><td class="l">{{.Protocol}}</td><td>{{if .OK}}<span class="ok">ok</span>{{else}}<span class="fail">FAIL</span>{{end}}</td><td>{{.Outcome}}</td><td>{{.Checkpoints.Completed}}/{{.Checkpoints.Triggered}}</td><td>{{ms .Checkpoints.DurationMS.P50}}</td><td>{{ms .Checkpoints.DurationMS.Max}}</td><td>{{ms .Checkpoints.AlignmentMS.P50}}</td><td>{{printf "%.0f" .Checkpoints.PersistedInflightBytes.P50}}</td><td>{{.Restarts}}</td><td>{{ms .RecoveryMS.P50}}</td><td>{{printf "%.0f" .ThroughputRPS}}</td><td>{{ms .LatencyMS.P99}}</td></tr>
{{end}}</table>
{{range .Runs}}<details><summary>{{.Protocol}}: checks, replay and timeline</summary><ul>
{{range .Checks}}<li>{{if .OK}}<span class="ok">✓</span>{{else}}<span class="fail">✗</span>{{end}} {{.Name}}{{if .Detail}}: <code>{{.Detail}}</code>{{end}}</li>{{end}}
</ul>{{if .Faults}}<p>faults: {{range .Faults}}<code>{{.}}</code>; {{end}}</p>{{end}}<p>replay: <code>{{.Replay}}</code></p>
{{if .Trace}}<p>timeline of every subtask: <a href="{{.Trace}}">{{.Trace}}</a> (a Chrome trace: open it in ui.perfetto.dev or chrome://tracing)</p>{{end}}
{{if .Timeline}}<div class="wide">{{.Timeline}}</div>{{end}}</details>
{{end}}
<div class="figs">{{range .Figures}}{{.}}{{end}}</div>
{{end}}
{{range .Sweeps}}
<h2 id="sweep-{{.Name}}">Sweep: {{.Name}}</h2>
<p>{{.Description}}</p>
<p>reproduce: <code>{{.Command}}</code></p>
<div class="figs">{{range .Inline}}{{.}}{{end}}</div>
<details><summary>runs</summary><table><tr><th class="l">values</th><th class="l">protocol</th><th>result</th><th>checkpoints</th><th>p50 ms</th><th>model ms</th><th>size KiB</th><th>restarts</th><th>downtime ms</th><th>caught up ms</th><th>reprocessed</th><th>records/s</th><th>overhead %</th></tr>
{{range .Rows}}<tr><td class="l">{{.Values}}</td><td class="l">{{.Protocol}}</td><td>{{if .OK}}<span class="ok">ok</span>{{else}}<span class="fail">FAIL</span>{{end}}</td><td>{{.Completed}}</td><td>{{ms .DurationP50MS}}</td><td>{{ms .ModelAlignedMS}}</td><td>{{kib .CheckpointBytes}}</td><td>{{.Restarts}}</td><td>{{ms .RecoveryP50MS}}</td><td>{{ms .CatchUpP50MS}}</td><td>{{.Reprocessed}}</td><td>{{printf "%.0f" .ProcessedRPS}}</td><td>{{ms .OverheadPct}}</td></tr>
{{end}}</table></details>
{{end}}
</body></html>
`))

// Inline is the sweep's figures as inline SVG.
func (s IndexSweep) Inline() []template.HTML { return s.inline }

// WriteIndex writes DIR/index.html: every scenario with its runs (checks, key
// metrics, replay commands, timeline), its figures, and every sweep with its
// figures and rows; figures come from figDir and are inlined as SVG, so the page
// opens from the file system with no server.
func WriteIndex(dir, figDir string, results []*scenarios.Result, sweeps []IndexSweep) error {
	byScenario := map[string]*IndexScenario{}
	var order []string
	ok := 0
	for _, r := range results {
		s := byScenario[r.Scenario]
		if s == nil {
			s = &IndexScenario{Name: r.Scenario}
			byScenario[r.Scenario] = s
			order = append(order, r.Scenario)
		}
		run := IndexRun{Result: r}
		svg, err := inlineSVG(figDir, FigureName(r.Scenario, r.Protocol, "timeline"))
		if err != nil {
			return err
		}
		run.Timeline = svg
		trace := filepath.Join("traces", FigureName(r.Scenario, r.Protocol, "trace")+".json")
		if _, err := os.Stat(filepath.Join(dir, trace)); err == nil {
			run.Trace = filepath.ToSlash(trace)
		}
		s.Runs = append(s.Runs, run)
		if r.OK {
			ok++
		}
	}
	var list []*IndexScenario
	for _, name := range order {
		s := byScenario[name]
		for _, fig := range ScenarioFigures {
			svg, err := inlineSVG(figDir, FigureName(name, "", fig))
			if err != nil {
				return err
			}
			if svg != "" {
				s.Figures = append(s.Figures, svg)
			}
		}
		list = append(list, s)
	}
	for i := range sweeps {
		for _, fig := range sweeps[i].Figures {
			svg, err := inlineSVG(figDir, fig)
			if err != nil {
				return err
			}
			if svg != "" {
				sweeps[i].inline = append(sweeps[i].inline, svg)
			}
		}
	}
	var b bytes.Buffer
	err := indexTemplate.Execute(&b, map[string]any{"Scenarios": list, "Sweeps": sweeps, "Total": len(results),
		"OK": ok, "Failed": len(results) - ok})
	if err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(dir, "index.html"), b.Bytes())
}

// ScenarioFigures are the figures drawn per scenario, protocols together.
var ScenarioFigures = []string{"checkpoint-durations", "alignment"}

// inlineSVG reads figDir/NAME.svg for inlining ("" when there is none).
func inlineSVG(figDir, name string) (template.HTML, error) {
	svg, err := os.ReadFile(filepath.Join(figDir, name+".svg"))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if i := bytes.Index(svg, []byte("<svg")); i >= 0 {
		svg = svg[i:] // drop the XML prolog: the SVG is inlined
	}
	return template.HTML(svg), nil // our own renderer's output
}
