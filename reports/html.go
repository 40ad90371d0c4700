package reports

import (
	"bytes"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"sort"

	"github.com/ckptsim/ckptsim/scenarios"
)

// IndexScenario is one scenario of the HTML report: its runs and its figures.
type IndexScenario struct {
	Name    string
	Runs    []*scenarios.Result
	Figures []template.HTML // inline SVG
}

var indexTemplate = template.Must(template.New("index").Funcs(template.FuncMap{
	"ms": func(v float64) string { return fmt.Sprintf("%.1f", v) },
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
</style></head><body>
<h1>ckptsim report</h1>
<p>{{.Total}} runs, <span class="ok">{{.OK}} ok</span>{{if .Failed}}, <span class="fail">{{.Failed}} failed</span>{{end}}. Every scenario under every protocol; each run is checked by every oracle its protocol promises and can be replayed exactly with the command shown.</p>
<ul>{{range .Scenarios}}<li><a href="#{{.Name}}">{{.Name}}</a></li>{{end}}</ul>
{{range .Scenarios}}
<h2 id="{{.Name}}">{{.Name}}</h2>
<table><tr><th class="l">protocol</th><th>result</th><th>outcome</th><th>checkpoints</th><th>p50 ms</th><th>max ms</th><th>alignment p50 ms</th><th>persisted in-flight p50 B</th><th>restarts</th><th>recovery p50 ms</th><th>throughput rec/s</th><th>latency p99 ms</th></tr>
{{range .Runs}}<tr><td class="l">{{.Protocol}}</td><td>{{if .OK}}<span class="ok">ok</span>{{else}}<span class="fail">FAIL</span>{{end}}</td><td>{{.Outcome}}</td><td>{{.Checkpoints.Completed}}/{{.Checkpoints.Triggered}}</td><td>{{ms .Checkpoints.DurationMS.P50}}</td><td>{{ms .Checkpoints.DurationMS.Max}}</td><td>{{ms .Checkpoints.AlignmentMS.P50}}</td><td>{{printf "%.0f" .Checkpoints.PersistedInflightBytes.P50}}</td><td>{{.Restarts}}</td><td>{{ms .RecoveryMS.P50}}</td><td>{{printf "%.0f" .ThroughputRPS}}</td><td>{{ms .LatencyMS.P99}}</td></tr>
{{end}}</table>
{{range .Runs}}<details><summary>{{.Protocol}}: checks and replay</summary><ul>
{{range .Checks}}<li>{{if .OK}}<span class="ok">✓</span>{{else}}<span class="fail">✗</span>{{end}} {{.Name}}{{if .Detail}}: <code>{{.Detail}}</code>{{end}}</li>{{end}}
</ul>{{if .Faults}}<p>faults: {{range .Faults}}<code>{{.}}</code>; {{end}}</p>{{end}}<p>replay: <code>{{.Replay}}</code></p></details>
{{end}}
<div class="figs">{{range .Figures}}{{.}}{{end}}</div>
{{end}}
</body></html>
`))

// WriteIndex writes DIR/index.html: every scenario with its runs (checks, key
// metrics, replay commands) and its figures from figDir inlined as SVG, so the
// page opens from the file system with no server.
func WriteIndex(dir, figDir string, results []*scenarios.Result) error {
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
		s.Runs = append(s.Runs, r)
		if r.OK {
			ok++
		}
	}
	var list []*IndexScenario
	for _, name := range order {
		s := byScenario[name]
		matches, _ := filepath.Glob(filepath.Join(figDir, name+"-*.svg"))
		sort.Strings(matches)
		for _, m := range matches {
			svg, err := os.ReadFile(m)
			if err != nil {
				return err
			}
			if i := bytes.Index(svg, []byte("<svg")); i >= 0 {
				svg = svg[i:] // drop the XML prolog: the SVG is inlined
			}
			s.Figures = append(s.Figures, template.HTML(svg)) // our own renderer's output
		}
		list = append(list, s)
	}
	var b bytes.Buffer
	err := indexTemplate.Execute(&b, map[string]any{"Scenarios": list, "Total": len(results), "OK": ok, "Failed": len(results) - ok})
	if err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(dir, "index.html"), b.Bytes())
}
