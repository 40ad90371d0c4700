package simrun

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/reports"
	"github.com/ckptsim/ckptsim/scenarios"
)

// small is the scenario the tests run: the smallest and fastest.
const small = "steady"

// simrun runs the command line in process and returns its exit code and output.
func simrun(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = execute(args, &out, &errb)
	return code, out.String(), errb.String()
}

// noCrash fails the test when output looks like a panic or a Go stack trace.
func noCrash(t *testing.T, out string) {
	t.Helper()
	if strings.Contains(out, "panic") || regexp.MustCompile(`goroutine \d+ \[`).MatchString(out) {
		t.Errorf("output looks like a crash:\n%s", out)
	}
}

// runJSON runs args (which must include --json) and decodes the one JSON object
// on stdout.
func runJSON(t *testing.T, wantCode int, args ...string) *scenarios.Result {
	t.Helper()
	code, out, errOut := simrun(t, args...)
	if code != wantCode {
		t.Fatalf("simrun %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, wantCode, out, errOut)
	}
	dec := json.NewDecoder(strings.NewReader(out))
	var res scenarios.Result
	if err := dec.Decode(&res); err != nil {
		t.Fatalf("simrun %s: stdout is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("simrun %s: stdout has more than one JSON object:\n%s", strings.Join(args, " "), out)
	}
	return &res
}

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func showYAML(t *testing.T, name string) string {
	t.Helper()
	code, out, errOut := simrun(t, "show", name)
	if code != 0 || out == "" {
		t.Fatalf("simrun show %s: exit %d, stdout %q, stderr %q", name, code, out, errOut)
	}
	return out
}

func TestList(t *testing.T) {
	code, out, errOut := simrun(t, "list")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != len(scenarios.Registry()) {
		t.Fatalf("list printed %d lines for %d scenarios:\n%s", len(lines), len(scenarios.Registry()), out)
	}
	for _, l := range lines {
		name := strings.Fields(l)[0]
		if _, err := scenarios.Lookup(name); err != nil {
			t.Errorf("line %q does not start with a scenario name: %v", l, err)
		}
	}
	if !regexp.MustCompile(`(?m)^` + small + `\s`).MatchString(out) {
		t.Errorf("list does not show %s:\n%s", small, out)
	}
}

func TestProtocols(t *testing.T) {
	code, out, errOut := simrun(t, "protocols")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for name, want := range map[string]string{"aligned": "exactly-once coordinated", "unaligned": "exactly-once coordinated",
		"hybrid": "exactly-once coordinated", "atleastonce": "at-least-once coordinated",
		"uncoordinated": "exactly-once uncoordinated", "cic": "exactly-once communication-induced"} {
		f := strings.Fields(want)
		if !regexp.MustCompile(`(?m)^` + name + `\s+` + f[0] + `\s+` + f[1] + `\b`).MatchString(out) {
			t.Errorf("protocols does not list %s with %s:\n%s", name, want, out)
		}
	}
}

// TestShowRoundTrip: the YAML show prints runs, from a file, to the trace hash of
// the named scenario with the same seed and protocol.
func TestShowRoundTrip(t *testing.T) {
	file := writeTemp(t, "scenario.yaml", showYAML(t, small))
	fromFile := runJSON(t, 0, "run", "--file", file, "--json", "--seed", "7", "--protocol", "unaligned")
	named := runJSON(t, 0, "run", small, "--json", "--seed", "7", "--protocol", "unaligned")
	if fromFile.TraceHash != named.TraceHash {
		t.Errorf("trace hash from the shown YAML %s, from the named scenario %s", fromFile.TraceHash, named.TraceHash)
	}
	if named.Seed != 7 || named.Protocol != "unaligned" {
		t.Errorf("run used seed %d, protocol %s; want 7, unaligned", named.Seed, named.Protocol)
	}
	if !strings.Contains(fromFile.Replay, "--file "+file) {
		t.Errorf("replay command of a file run does not name the file: %s", fromFile.Replay)
	}
}

func TestRunSummaryAndOut(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := simrun(t, "run", small, "--out", dir)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"✓", "checkpoints", "trace hash", "replay         simrun replay " + small} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	var res scenarios.Result
	if err := json.Unmarshal(data, &res); err != nil || res.Scenario != small || !res.OK || len(res.Checks) == 0 {
		t.Errorf("result.json: %v, %+v", err, res)
	}
}

// TestRunFails: a scenario whose expected outcome does not happen exits 1 and
// names the check and the replay command.
func TestRunFails(t *testing.T) {
	y := showYAML(t, small)
	y = regexp.MustCompile(`(?m)^expect:.*\n([ \t]+.*\n)*`).ReplaceAllString(y, "")
	file := writeTemp(t, "fails.yaml", y+"expect:\n  outcome: job-fails\n")
	code, out, errOut := simrun(t, "run", "--file", file)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, out, errOut)
	}
	noCrash(t, out+errOut)
	if !strings.Contains(out, "✗") || !strings.Contains(errOut, "failed") || !strings.Contains(errOut, "replay: simrun replay --file "+file) {
		t.Errorf("failure output lacks the failed check or the replay command:\nstdout:\n%s\nstderr:\n%s", out, errOut)
	}
}

func TestReplayHash(t *testing.T) {
	res := runJSON(t, 0, "run", small, "--json")
	if code, out, errOut := simrun(t, "replay", small, "--expect-hash", res.TraceHash); code != 0 {
		t.Errorf("replay with the right hash: exit %d\n%s\n%s", code, out, errOut)
	}
	code, _, errOut := simrun(t, "replay", small, "--expect-hash", "0000000000000bad")
	if code != 1 || !strings.Contains(errOut, res.TraceHash) || !strings.Contains(errOut, "0000000000000bad") {
		t.Errorf("replay with a wrong hash: exit %d (want 1), stderr should name both hashes:\n%s", code, errOut)
	}
	// The replay command a run prints is itself a passing command line.
	args := strings.Fields(strings.TrimPrefix(res.Replay, "simrun "))
	if code, out, errOut := simrun(t, args...); code != 0 {
		t.Errorf("%s: exit %d\n%s\n%s", res.Replay, code, out, errOut)
	}
}

// excerpt matches the source excerpt under an error in a scenario file.
var excerpt = regexp.MustCompile(`^(\s+(\d+ )?\|.*\n?)+$`)

// TestBadInput: every usage or input error exits 2 with one line on stderr and no
// stack trace.
func TestBadInput(t *testing.T) {
	y := showYAML(t, small)
	interval := regexp.MustCompile(`(?m)^(\s*execution\.checkpointing\.interval:).*$`)
	var negative string
	if interval.MatchString(y) {
		negative = interval.ReplaceAllString(y, "$1 -1 s")
	} else if strings.Contains(y, "\nconfig:\n") {
		negative = strings.Replace(y, "\nconfig:\n", "\nconfig:\n  execution.checkpointing.interval: -1 s\n", 1)
	} else {
		negative = y + "config:\n  execution.checkpointing.interval: -1 s\n"
	}
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	malformed := file("malformed.yaml", "not: [valid\n")
	// Cut inside a flow mapping. (A cut at a line boundary can leave a valid,
	// smaller scenario.)
	cut := strings.Index(y, "{name: ")
	if cut < 0 {
		t.Fatalf("the YAML of %s has no flow mapping to cut:\n%s", small, y)
	}
	truncated := file("truncated.yaml", y[:cut+10])
	unknownKey := file("unknown-key.yaml", y+"no-such-key: 1\n")
	negInterval := file("negative-interval.yaml", negative)
	for _, args := range [][]string{
		{"run", "no-such-scenario"},
		{"run", small, "--protocol", "no-such-protocol"},
		{"run", small, "--no-such-flag"},
		{"run", small, "--seed", "-1"},
		{"run", "--file", malformed},
		{"run", "--file", truncated},
		{"run", "--file", unknownKey},
		{"run", "--file", negInterval},
		{"run", "--file", filepath.Join(dir, "missing.yaml")},
		{"run", small, "--file", negInterval},
		{"run"},
		{"run", small, "extra"},
		{"show", "no-such-scenario"},
		{"show"},
		{"replay", small, "--expect-hash", "not-a-hash"},
		{"replay", "no-such-scenario"},
		{"suite", "--parallel", "0"},
		{"suite", "--parallel", "-3"},
		{"suite", "--protocols", "aligned,no-such-protocol"},
		{"no-such-command"},
	} {
		code, out, errOut := simrun(t, args...)
		if code != 2 {
			t.Errorf("simrun %s: exit %d, want 2\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
			continue
		}
		noCrash(t, out+errOut)
		// One line says what is wrong; an error in a file may add the source line
		// and a caret under the column.
		lines := strings.Split(strings.TrimRight(errOut, "\n"), "\n")
		if !strings.HasPrefix(lines[0], "simrun: ") || len(lines) > 1 && !excerpt.MatchString(strings.Join(lines[1:], "\n")) {
			t.Errorf("simrun %s: want one line on stderr (and maybe a source excerpt), got:\n%s", strings.Join(args, " "), errOut)
		}
	}
}

// TestSuite runs a small suite in process: results come back in order, one for
// every scenario and protocol, and the summary names every run.
func TestSuite(t *testing.T) {
	sc, err := scenarios.Lookup(small)
	if err != nil {
		t.Fatal(err)
	}
	protos := []string{"aligned", "unaligned", "hybrid", "atleastonce"}
	results, _ := runSuite([]*scenarios.Scenario{sc, sc}, protos, 3, false, "", io.Discard, nil)
	if len(results) != 2*len(protos) {
		t.Fatalf("%d results, want %d", len(results), 2*len(protos))
	}
	for i, r := range results {
		if r.Scenario != small || r.Protocol != protos[i%len(protos)] || !r.OK {
			t.Errorf("result %d: %s under %s, ok %v: %+v", i, r.Scenario, r.Protocol, r.OK, r.Checks)
		}
		if r.TraceHash != results[i%len(protos)].TraceHash {
			t.Errorf("result %d: the same run gave trace hashes %s and %s", i, r.TraceHash, results[i%len(protos)].TraceHash)
		}
	}
	// With a trace directory every run also leaves its Chrome trace, and the runs
	// are the same runs.
	dir := t.TempDir()
	traced, tables := runSuite([]*scenarios.Scenario{sc}, protos, 2, false, dir, io.Discard, nil)
	for i, r := range traced {
		if r.TraceHash != results[i].TraceHash {
			t.Errorf("%s: tracing changed the trace hash", r.Protocol)
		}
		if _, err := os.Stat(filepath.Join(dir, reports.FigureName(small, r.Protocol, "trace")+".json")); err != nil {
			t.Error(err)
		}
	}
	if len(tables.Timeline) == 0 {
		t.Error("the suite sampled no timeline")
	}
	var b bytes.Buffer
	if failed := writeSummary(&b, results, 3, 0); failed != 0 {
		t.Errorf("%d failed:\n%s", failed, b.String())
	}
	for _, p := range protos {
		if !regexp.MustCompile(`(?m)^` + small + `\s+` + p + `\s+ok\s`).MatchString(b.String()) {
			t.Errorf("summary lacks %s/%s:\n%s", small, p, b.String())
		}
	}
}

// TestRunTrace: --trace writes a Chrome trace of the run (for ui.perfetto.dev)
// without changing the run; a path that cannot be written is a usage error.
func TestRunTrace(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "trace.json")
	withTrace := runJSON(t, 0, "run", "crash-during-alignment", "--protocol", "unaligned", "--json", "--trace", path)
	plain := runJSON(t, 0, "run", "crash-during-alignment", "--protocol", "unaligned", "--json")
	if withTrace.TraceHash != plain.TraceHash {
		t.Errorf("trace hash %s with --trace, %s without", withTrace.TraceHash, plain.TraceHash)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var trace struct {
		TraceEvents []struct {
			Ph   string `json:"ph"`
			Name string `json:"name"`
		} `json:"traceEvents"`
		DisplayTimeUnit string         `json:"displayTimeUnit"`
		Metadata        map[string]any `json:"metadata"`
	}
	if err := json.Unmarshal(data, &trace); err != nil {
		t.Fatalf("the trace is not JSON: %v", err)
	}
	phases := map[string]bool{}
	for _, e := range trace.TraceEvents {
		phases[e.Ph] = true
		phases[e.Ph+" "+e.Name] = true
	}
	for _, want := range []string{"M process_name", "M thread_name", "X sync", "X async", "b", "e", "s", "f", "C", "i crash-worker"} {
		if !phases[want] {
			t.Errorf("the trace has no %q event", want)
		}
	}
	if trace.DisplayTimeUnit != "ms" || trace.Metadata["trace_hash"] != plain.TraceHash {
		t.Errorf("displayTimeUnit %q, metadata %v", trace.DisplayTimeUnit, trace.Metadata)
	}

	// replay writes the same bytes
	again := filepath.Join(dir, "again.json")
	if code, out, errOut := simrun(t, "replay", "crash-during-alignment", "--protocol", "unaligned", "--expect-hash", plain.TraceHash, "--trace", again); code != 0 {
		t.Fatalf("replay --trace: exit %d\n%s\n%s", code, out, errOut)
	} else if !strings.Contains(out, "chrome trace   "+again) {
		t.Errorf("the summary does not name the trace file:\n%s", out)
	}
	if data2, err := os.ReadFile(again); err != nil || !bytes.Equal(data, data2) {
		t.Errorf("the trace of the replay differs from the run's (%v)", err)
	}

	for _, bad := range []string{filepath.Join(dir, "no-such-dir", "t.json"), dir, filepath.Join(path, "t.json")} {
		code, out, errOut := simrun(t, "run", small, "--trace", bad)
		if code != 2 || !strings.Contains(errOut, "--trace") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("--trace %s: exit %d (want 2), stderr %q", bad, code, errOut)
		}
		noCrash(t, out+errOut)
	}
}

// TestSweep runs a two-point sweep under two protocols: one row per run, the data
// and figures written, and each row's replay command (with its --set overrides)
// reproduces its run's trace hash.
func TestSweep(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := simrun(t, "sweep", small, "--set", "orders.records=1500", "--param",
		"execution.checkpointing.interval=200 ms,1 s", "--protocols", "aligned,unaligned", "--seeds", "2", "--out", dir, "--name", "s", "--json")
	if code != 0 {
		t.Fatalf("sweep: exit %d\n%s\n%s", code, out, errOut)
	}
	var rows []reports.SweepRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("sweep --json: %v\n%s", err, out)
	}
	if len(rows) != 8 {
		t.Fatalf("%d rows, want 2 values × 2 protocols × 2 seeds", len(rows))
	}
	if rows[0].Seed == rows[1].Seed || rows[0].Seed != rows[2].Seed {
		t.Fatalf("seeds %d %d %d: want each point under two seeds", rows[0].Seed, rows[1].Seed, rows[2].Seed)
	}
	for _, f := range []string{"s.csv", "s.json", "s--duration.png", "s--duration.svg", "s--size.svg"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	r := rows[7]
	if r.Value != "1 s" || r.Protocol != "unaligned" || !r.OK || r.Completed == 0 {
		t.Fatalf("last row %+v, want the 1 s unaligned run with checkpoints", r)
	}
	args := splitShell(t, strings.TrimPrefix(r.Replay, "simrun "))
	if code, out, errOut := simrun(t, args...); code != 0 {
		t.Fatalf("%s: exit %d\n%s\n%s", r.Replay, code, out, errOut)
	}
}

func TestSweepBadInput(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"sweep", small}, "--param"},
		{[]string{"sweep", small, "--param", "nope.cost=1 ms"}, `"nope"`},
		{[]string{"sweep", small, "--param", "execution.checkpointing.interval"}, "KEY=V1,V2"},
		{[]string{"sweep", small, "--param", "execution.checkpointing.interval=-1 s"}, "execution.checkpointing.interval"},
		{[]string{"sweep", small, "--param", "totals.parallelism=-1,2"}, "parallelism"},
		{[]string{"sweep", small, "--param", "execution.checkpointing.interval=1 s", "--seeds", "0"}, "--seeds"},
		{[]string{"sweep", small, "--param", "execution.checkpointing.interval=1 s", "--protocols", "nope"}, "nope"},
		{[]string{"sweep", "--builtin", "nope"}, "no such sweep"},
		{[]string{"run", small, "--set", "orders.nope=1"}, "no field"},
	} {
		code, out, errOut := simrun(t, c.args...)
		noCrash(t, out+errOut)
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("simrun %s: exit %d, stderr %q; want exit 2 naming %q", strings.Join(c.args, " "), code, errOut, c.want)
		}
	}
}

// splitShell splits a command line the way a POSIX shell would for the single
// quotes simrun prints.
func splitShell(t *testing.T, s string) []string {
	t.Helper()
	var args []string
	var cur strings.Builder
	inQuote, started := false, false
	for _, r := range s {
		switch {
		case r == '\'':
			inQuote, started = !inQuote, true
		case r == ' ' && !inQuote:
			if started {
				args = append(args, cur.String())
				cur.Reset()
				started = false
			}
		default:
			cur.WriteRune(r)
			started = true
		}
	}
	if inQuote {
		t.Fatalf("unbalanced quotes in %q", s)
	}
	if started {
		args = append(args, cur.String())
	}
	return args
}

// TestFlinkBenchmarkDocIsCurrent: docs/flink-benchmark.md is what its command
// produces now (regenerate it with the command it names when the engine changes).
func TestFlinkBenchmarkDocIsCurrent(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("..", "docs", "flink-benchmark.md"))
	if err != nil {
		t.Fatal(err)
	}
	runs, err := runBenchmark(2, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	writeBenchmark(&got, runs)
	if got.String() != string(want) {
		t.Fatalf("docs/flink-benchmark.md is stale: run `%s` (first difference at byte %d)", benchmarkCommand, firstDiff(got.String(), string(want)))
	}
	if !strings.Contains(string(want), benchmarkCommand) {
		t.Fatalf("docs/flink-benchmark.md does not name the command that produces it")
	}
}

func firstDiff(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// renamed is a built-in protocol under another name: a protocol from outside the
// repository, as a user's main passes it to Main.
type renamed struct {
	checkpoint.Protocol
	name string
}

func (r renamed) Name() string { return r.name }

// TestRunWithExtraProtocol: a protocol passed to Run is listed and runs like a
// built-in one; another protocol under a taken name is refused with exit 2.
func TestRunWithExtraProtocol(t *testing.T) {
	aligned, err := checkpoint.Lookup("aligned")
	if err != nil {
		t.Fatal(err)
	}
	extra := renamed{aligned, "users/aligned-copy"}
	var out, errb bytes.Buffer
	if code := Run([]string{"protocols"}, &out, &errb, extra); code != 0 || !strings.Contains(out.String(), "users/aligned-copy") {
		t.Fatalf("protocols with an extra one: exit %d\n%s%s", code, out.String(), errb.String())
	}
	out.Reset()
	if code := Run([]string{"run", small, "--protocol", "users/aligned-copy"}, &out, &errb, extra); code != 0 {
		t.Fatalf("run under the extra protocol: exit %d\n%s%s", code, out.String(), errb.String())
	}
	errb.Reset()
	if code := Run([]string{"list"}, io.Discard, &errb, renamed{aligned, "unaligned"}); code != 2 || !strings.Contains(errb.String(), `"unaligned" is already registered`) {
		t.Fatalf("a taken name: exit %d, stderr %q; want 2 naming it", code, errb.String())
	}
}

// interruptAfterFirstRun sends this process SIGINT once the first run of a pool
// finished, as a user's Ctrl-C, and undoes itself when the test ends.
func interruptAfterFirstRun(t *testing.T) {
	var once sync.Once
	afterRun = func() { once.Do(func() { syscall.Kill(os.Getpid(), syscall.SIGINT) }) }
	t.Cleanup(func() { afterRun = nil })
}

// TestInterruptedSuiteAndSweep: a suite or a sweep interrupted by SIGINT lets the
// runs in progress finish, says INTERRUPTED in its summary, writes no report and
// exits 130.
func TestInterruptedSuiteAndSweep(t *testing.T) {
	dir := t.TempDir()
	interruptAfterFirstRun(t)
	code, out, errOut := simrun(t, "suite", "--out", dir, "--parallel", "1", "--protocols", "aligned")
	if code != 130 || !strings.Contains(errOut, "interrupted") {
		t.Fatalf("suite: exit %d, want 130\n%s\n%s", code, out, errOut)
	}
	summary, err := os.ReadFile(filepath.Join(dir, "summary.txt"))
	if err != nil || !strings.HasPrefix(string(summary), "INTERRUPTED after ") {
		t.Fatalf("summary.txt does not start with INTERRUPTED (%v):\n%s", err, summary)
	}
	var results []scenarios.Result
	data, _ := os.ReadFile(filepath.Join(dir, "results.json"))
	if err := json.Unmarshal(data, &results); err != nil || len(results) == 0 || len(results) >= len(scenarios.Registry()) {
		t.Errorf("results.json holds %d results of %d runs (%v)", len(results), len(scenarios.Registry()), err)
	}
	if _, err := os.Stat(filepath.Join(dir, "index.html")); err == nil {
		t.Error("an interrupted suite wrote index.html")
	}

	interruptAfterFirstRun(t)
	sweepDir := t.TempDir()
	code, out, errOut = simrun(t, "sweep", small, "--param", "execution.checkpointing.interval=200 ms,500 ms,1 s,2 s",
		"--parallel", "1", "--out", sweepDir)
	if code != 130 || !strings.Contains(out, "INTERRUPTED after ") {
		t.Fatalf("sweep: exit %d, want 130 and INTERRUPTED\n%s\n%s", code, out, errOut)
	}
	if ents, _ := os.ReadDir(sweepDir); len(ents) != 0 {
		t.Errorf("an interrupted sweep wrote %d files to --out", len(ents))
	}
}
