package reports

// pageCSS styles every page of the report (inlined: the pages open from the
// file system and load nothing else but their figures).
const pageCSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em auto;max-width:1280px;padding:0 1.5em;color:#1f2328;line-height:1.4}
h1{font-size:1.6em;margin:.2em 0 .4em}h2{font-size:1.25em;margin:1.6em 0 .4em;border-bottom:1px solid #d0d7de;padding-bottom:.2em}
a{color:#0969da}code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:85%}
code{background:#f6f8fa;padding:.1em .3em;border-radius:4px;word-break:break-all}
pre{background:#f6f8fa;padding:.5em;border-radius:4px;max-height:24em;overflow:auto;margin:.3em 0}
nav{font-size:90%;margin-bottom:.5em}nav a{margin-right:1em}
table{border-collapse:collapse;margin:.5em 0 1em}
th,td{border:1px solid #d0d7de;padding:.25em .5em;text-align:right;font-size:88%;white-space:nowrap}
th{background:#f6f8fa;font-weight:600;white-space:normal;vertical-align:bottom}
.same{font-size:90%;color:#57606a}
td.l,th.l{text-align:left}
.scroll{overflow-x:auto;max-width:100%}
.grid td{padding:0;text-align:center;min-width:7.5em}
.grid th.l{vertical-align:middle;font-weight:500}
.grid td a{display:block;padding:.2em .5em;color:inherit;text-decoration:none}
.grid td a:hover{outline:2px solid #0969da;outline-offset:-2px}
.grid td small{color:#57606a;font-size:80%;margin-left:.4em;font-weight:400}
.grid th.l a{color:#1f2328}
.v-ok{background:#dafbe1;color:#116329}.v-detected{background:#ddf4ff;color:#0a3069}
.v-expected{background:#fff8c5;color:#4d2d00}.v-note{background:#eaeef2;color:#24292f}
.v-fail{background:#ffebe9;color:#a40e26;font-weight:700}.v-missing{background:#fff;color:#8c959f}
.badge{display:inline-block;padding:0 .5em;border-radius:1em;font-size:85%;font-weight:600}
.key span{margin-right:1.2em;white-space:nowrap}.key .badge{margin-right:.3em}
.figs{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:1em;margin:.5em 0}
figure{margin:0}figure img{width:100%;height:auto;border:1px solid #eaeef2}
figcaption{font-size:80%;color:#57606a}
.checks{list-style:none;padding-left:0}.checks li{margin:.2em 0}
.ok{color:#1a7f37;font-weight:700}.fail{color:#cf222e;font-weight:700}
.sweeps{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:1em}
.run{display:grid;grid-template-columns:minmax(280px,1fr) minmax(0,768px);gap:1.5em;align-items:start}
.run>div{min-width:0}
@media (max-width:1100px){.run{grid-template-columns:1fr}}
.sweeps a.card{display:block;border:1px solid #d0d7de;border-radius:6px;padding:.6em;color:inherit;text-decoration:none}
.sweeps a.card:hover{border-color:#0969da}.sweeps img{width:100%;height:auto}
.sweeps p{font-size:88%;margin:.3em 0}
`

const pageTemplates = `
{{define "head"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.}} — ckptsim report</title>
<style>` + pageCSS + `</style></head><body>
{{end}}

{{define "foot"}}</body></html>
{{end}}

{{define "verdictKey"}}<p class="key">
<span><span class="badge v-ok">ok</span>every check the protocol promises passed</span>
<span><span class="badge v-detected">detected</span>the scenario breaks an assumption of the protocol and a check caught it, as expected</span>
<span><span class="badge v-expected">job fails</span>the job failed for good, as the scenario expects</span>
<span><span class="badge v-fail">FAIL</span>a check failed: the run's page names it, with a replay command</span>
</p>{{end}}

{{define "table"}}{{if .Same}}<p class="same">the same in every run: {{range $i, $s := .Same}}{{if $i}}; {{end}}{{$s.Head}} <strong>{{$s.Value}}</strong>{{end}}</p>{{end}}
<div class="scroll"><table>
<tr>{{range .Head}}<th class="{{.Class}}">{{if .Href}}<a href="{{.Href}}">{{.Text}}</a>{{else}}{{.Text}}{{end}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range .}}<td class="{{.Class}}">{{if .Href}}<a href="{{.Href}}">{{.Text}}</a>{{else}}{{.Text}}{{end}}</td>{{end}}</tr>
{{end}}</table></div>{{end}}

{{define "figure"}}<figure><a href="{{.SVG}}"><img src="{{.SVG}}" alt="{{.Name}}"></a>
<figcaption>{{.Name}}:{{if .PNG}} <a href="{{.PNG}}">png</a>{{end}}{{if .CSV}} <a href="{{.CSV}}">csv</a>{{end}}{{if .JSON}} <a href="{{.JSON}}">json</a>{{end}}</figcaption></figure>{{end}}

{{define "index"}}{{template "head" "overview"}}
<h1>ckptsim report</h1>
<p>{{.Total}} runs: <span class="ok">{{.OK}} ok</span>{{if .Failed}}, <span class="fail">{{.Failed}} failed</span>{{end}}.
Every scenario under every protocol, each checked by every oracle its protocol promises; every run replays exactly with the command on its page.
{{if .Sweeps}}{{len .Sweeps}} sweeps below.{{end}}</p>
<h2 id="overview">Scenarios × protocols</h2>
<div class="scroll"><table class="grid">
<tr><th class="l">scenario <small>(checkpoints completed/triggered)</small></th>{{range .Protocols}}<th>{{.}}</th>{{end}}</tr>
{{range .Scenarios}}<tr><th class="l"><a href="scenarios/{{.Page}}" title="{{.Description}}">{{.Name}}</a></th>{{range .Cells}}{{if .Missing}}<td class="v-missing">–</td>{{else}}<td class="v-{{.Verdict.Class}}" title="{{.Verdict.Note}}"><a href="{{.Href}}">{{.Verdict.Word}}<small>{{.Detail}}</small></a></td>{{end}}{{end}}</tr>
{{end}}</table></div>
{{template "verdictKey"}}
{{if .Sweeps}}<h2 id="sweeps">Sweeps</h2>
<div class="sweeps">{{range .Sweeps}}<a class="card" href="sweeps/{{.Page}}"><strong>{{.Name}}</strong>
{{if .Thumb}}<img src="{{.Thumb}}" alt="{{.Name}}">{{end}}
<p>{{.Description}}</p></a>
{{end}}</div>{{end}}
{{if .Files}}<h2 id="files">Files</h2><p>{{range .Files}}<a href="{{.}}">{{.}}</a> &nbsp; {{end}}</p>
<p>The tables behind every figure sit beside it (CSV and JSON); each run's Chrome trace opens in <a href="https://ui.perfetto.dev">ui.perfetto.dev</a>. Everything here but wall-clock.json is the same, byte for byte, when the same suite runs again.</p>{{end}}
{{template "foot"}}{{end}}

{{define "nav"}}<nav><a href="../index.html">↑ overview</a>{{if .Prev}}<a href="{{.Prev.Page}}">← {{.Prev.Name}}</a>{{end}}{{if .Next}}<a href="{{.Next.Page}}">{{.Next.Name}} →</a>{{end}}</nav>{{end}}

{{define "scenario"}}{{template "head" .Scenario.Name}}
{{template "nav" .}}
{{with .Scenario}}<h1>{{.Name}}</h1>
{{if .Description}}<p>{{.Description}}</p>{{end}}
{{template "table" .Table}}
{{if .Figures}}<div class="figs">{{range .Figures}}{{template "figure" .}}{{end}}</div>{{end}}
{{range .Runs}}<h2 id="{{.Anchor}}">{{.Protocol}} <span class="badge v-{{.Verdict.Class}}" title="{{.Verdict.Note}}">{{.Verdict.Word}}</span></h2>
<div class="run"><div>
<ul class="checks">{{range .Checks}}<li>{{if .OK}}<span class="ok">✓</span>{{else}}<span class="fail">✗</span>{{end}} {{.Name}}{{if .Detail}}{{if multiline .Detail}}<pre>{{.Detail}}</pre>{{else}}: {{.Detail}}{{end}}{{end}}</li>{{end}}</ul>
{{if .Faults}}<p>faults injected:</p><ul>{{range .Faults}}<li><code>{{.}}</code></li>{{end}}</ul>{{end}}
<p>replay: <code>{{.Replay}}</code></p>
{{if .Trace}}<p>every subtask over time: <a href="{{.Trace}}">Chrome trace</a> (open it in ui.perfetto.dev or chrome://tracing)</p>{{end}}
</div><div>{{with .Timeline}}<figure><a href="{{.SVG}}"><img src="{{.SVG}}" alt="{{.Name}}" loading="lazy"></a>
<figcaption>{{.Name}}:{{if .PNG}} <a href="{{.PNG}}">png</a>{{end}}{{if .CSV}} <a href="{{.CSV}}">csv</a>{{end}}{{if .JSON}} <a href="{{.JSON}}">json</a>{{end}}</figcaption></figure>{{end}}</div></div>
{{end}}{{end}}
{{template "foot"}}{{end}}

{{define "sweep"}}{{template "head" .Sweep.Name}}
<nav><a href="../index.html">↑ overview</a></nav>
{{with .Sweep}}<h1>Sweep: {{.Name}}</h1>
<p>{{.Description}}</p>
<p>reproduce: <code>{{.Command}}</code></p>
{{if .Figures}}<div class="figs">{{range .Figures}}{{template "figure" .}}{{end}}</div>{{end}}
<h2>Runs</h2>
{{template "table" .Table}}{{end}}
{{template "foot"}}{{end}}
`
