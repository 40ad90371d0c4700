package scenarios

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/faults"
	"github.com/ckptsim/ckptsim/sim"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const examplePath = "testdata/crash-during-alignment.yaml"

func TestExampleLoads(t *testing.T) {
	sc, err := Load(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Name != "crash-during-alignment" || sc.Seed != 42 || len(sc.Job.Operators) != 3 || len(sc.Faults) != 2 {
		t.Fatalf("loaded %+v", sc)
	}
	st, err := sc.Setup("")
	if err != nil {
		t.Fatal(err)
	}
	cfg := st.Config
	want := engine.Config{
		Workers: 3, SlotsPerWorker: 4,
		Net: sim.NetConfig{
			Remote:      sim.LinkConfig{Latency: sim.Millisecond, Jitter: 200 * sim.Microsecond, Bandwidth: 125_000_000},
			SegmentSize: 32 << 10, ExclusivePerChannel: 2, FloatingPerGate: 8,
			Debloat: sim.DebloatConfig{Target: sim.Second},
		},
		BufferTimeout: 100 * sim.Millisecond,
		StateBackend:  "heap",
		Checkpoint: engine.CheckpointConfig{Interval: sim.Second, Timeout: 10 * sim.Minute, MaxConcurrent: 1,
			TolerableFailures: 3},
		Restart: engine.RestartConfig{Strategy: "fixed-delay", Attempts: 10, Delay: sim.Second},
		Store:   sim.StoreConfig{Latency: 20 * sim.Millisecond, Bandwidth: 200_000_000},
	}
	if d := cmp.Diff(want, cfg, cmpopts.IgnoreFields(engine.Config{}, "Protocol")); d != "" {
		t.Errorf("config (-want +got):\n%s", d)
	}
	if st.Protocol != "aligned" || st.Limit != 2*sim.Minute || st.Expect != OutcomePass || !st.Bounded {
		t.Errorf("setup: protocol %q, limit %v, expect %q, bounded %v", st.Protocol, st.Limit, st.Expect, st.Bounded)
	}
	wantFaults := faults.Schedule{
		{Kind: faults.CrashWorker, When: &faults.When{Checkpoint: 3, Phase: faults.PhaseAlignment, Task: "totals[1]"}, RestartAfter: 2 * sim.Second},
		{Kind: faults.Partition, At: 40 * sim.Second, Between: [2]string{"worker-0", "worker-1"}, For: 3 * sim.Second},
	}
	if d := cmp.Diff(wantFaults, st.Faults); d != "" {
		t.Errorf("faults (-want +got):\n%s", d)
	}
	j := st.NewJob()
	type vert struct {
		Name string
		Kind engine.OpKind
		Par  int
		Cost sim.Duration
		In   []string
	}
	var got []vert
	for _, v := range j.Vertices {
		var in []string
		for _, e := range v.Inputs {
			in = append(in, e.From.Name+":"+e.Part.String())
		}
		got = append(got, vert{v.Name, v.Kind, v.Parallelism, v.Cost, in})
	}
	wantV := []vert{
		{"orders", engine.KindSource, 4, 0, nil},
		{"enrich", engine.KindMap, 4, 20 * sim.Microsecond, []string{"orders:forward"}},
		{"totals", engine.KindAggregate, 4, 50 * sim.Microsecond, []string{"enrich:key-by"}},
		{"out", engine.KindSink, 2, 100 * sim.Microsecond, []string{"totals:rebalance"}},
	}
	if d := cmp.Diff(wantV, got); d != "" {
		t.Errorf("job graph (-want +got):\n%s", d)
	}
	src := j.Vertices[0].Source
	wantSrc := engine.SourceSpec{Splits: 4, Rate: 2000, Records: 50000, Keys: engine.KeySpec{Dist: engine.Zipf, Count: 1000, Exponent: 1.1},
		Disorder: 200 * sim.Millisecond, RecordSize: 64}
	if d := cmp.Diff(wantSrc, *src); d != "" {
		t.Errorf("source (-want +got):\n%s", d)
	}
	if j.Vertices[3].Sink.Kind != engine.SinkTwoPhaseCommit {
		t.Errorf("sink kind %v", j.Vertices[3].Sink.Kind)
	}
	// The example round-trips too.
	data, _ := sc.YAML()
	back, err := Parse(data, "printed.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if d := cmp.Diff(sc, back, cmpopts.EquateEmpty()); d != "" {
		t.Errorf("round trip (-loaded +reloaded):\n%s", d)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/no-such-file.yaml")
	if err == nil || !strings.Contains(err.Error(), "no-such-file.yaml") {
		t.Errorf("want an error naming the file, got %v", err)
	}
}

// minimal is a small valid scenario the bad-input cases break.
const minimal = `name: tiny
job:
  sources:
    - {name: src, splits: 2, records: 100}
  operators:
    - {name: agg, type: sum, input: src, parallelism: 2}
    - {name: out, type: sink, input: agg}
config:
  execution.checkpointing.interval: 100 ms
faults:
  - {at: 1 s, kind: crash-task, task: "agg[1]"}
`

func TestMinimalParses(t *testing.T) {
	sc, err := Parse([]byte(minimal), "tiny.yaml")
	if err != nil {
		t.Fatal(err)
	}
	st, err := sc.Setup("")
	if err != nil {
		t.Fatal(err)
	}
	if st.Config.Workers != 1 || st.Config.SlotsPerWorker != 4 || st.Limit != DefaultLimit || st.Protocol != "aligned" {
		t.Errorf("defaults: %+v", st)
	}
}

func TestBadInput(t *testing.T) {
	rep := func(old, new string) string {
		if !strings.Contains(minimal, old) {
			panic("test case does not apply: " + old)
		}
		return strings.Replace(minimal, old, new, 1)
	}
	cases := []struct {
		name, src string
		pos       string // line:column
		msg       string // a part of the message
	}{
		{"unknown key", rep("name: tiny\n", "name: tiny\nowner: me\n"), "2:1", `unknown key "owner" in the scenario (it takes name, description, seed`},
		{"unknown nested key", rep("{name: src, splits: 2", "{name: src, partitions: 2"), "4:19", `unknown key "partitions" in job.sources[0] (it takes name, splits,`},
		{"unknown config key", rep("  execution.checkpointing.interval: 100 ms\n", "  execution.checkpointing.interval: 100 ms\n  execution.checkpointing.intervall: 1 s\n"), "10:3", `did you mean "execution.checkpointing.interval"`},
		{"malformed YAML", rep("{name: out, type: sink, input: agg}", "{name: out, type: sink, input: agg"), "8:1", "must be specified"},
		{"truncated file", minimal[:strings.Index(minimal, "type: sum")+8], "6:", ""},
		{"tab indentation", rep("  sources:", "\tsources:"), "3:", ""},
		{"negative interval", rep("interval: 100 ms", "interval: -100 ms"), "9:37", "negative"},
		{"bad duration", rep("interval: 100 ms", "interval: 100 parsecs"), "9:37", `unknown unit "parsecs"`},
		{"bad bool", rep("  execution.checkpointing.interval: 100 ms\n", "  execution.checkpointing.interval: 100 ms\n  execution.checkpointing.unaligned.enabled: maybe\n"), "10:46", "true or false"},
		{"parallelism 0", rep("input: src, parallelism: 2}", "input: src, parallelism: 0}"), "6:55", "parallelism must be at least 1"},
		{"parallelism negative", rep("input: src, parallelism: 2}", "input: src, parallelism: -3}"), "6:55", "parallelism must be at least 1"},
		{"parallelism fraction", rep("input: src, parallelism: 2}", "input: src, parallelism: 1.5}"), "6:55", "whole number"},
		{"parallelism string", rep("input: src, parallelism: 2}", "input: src, parallelism: two}"), "6:55", ""},
		{"splits 0", rep("splits: 2", "splits: 0"), "4:27", "splits must be at least 1"},
		{"records 0", rep("records: 100", "records: 0"), "4:39", "records must be at least 1"},
		{"unknown operator type", rep("type: sum", "type: summ"), "6:25", `unknown type "summ"`},
		{"missing operator type", rep("{name: out, type: sink, input: agg}", "{name: out, input: agg}"), "7:7", "needs a type"},
		{"unknown input", rep("input: agg}", "input: aggr}"), "7:38", `unknown input "aggr" (did you mean "agg"?)`},
		{"input declared later", rep("input: src, parallelism: 2}", "input: out, parallelism: 2}"), "6:37", "declared after"},
		{"keyed without key-by partitioning", rep("type: sum, input: src", "type: sum, partitioning: rebalance, input: src"), "6:30", "does not take partitioning"},
		{"forward with unequal parallelism", rep("{name: out, type: sink, input: agg}", "{name: out, type: sink, input: agg, partitioning: forward, parallelism: 1}"), "7:57", "forward edge needs equal parallelism"},
		{"unknown fault kind", rep("kind: crash-task", "kind: crash-tsk"), "11:21", `unknown fault kind "crash-tsk"`},
		{"unknown fault task", rep(`task: "agg[1]"`, `task: "agg[2]"`), "11:39", `"agg" has 2 subtasks`},
		{"unknown fault operator", rep(`task: "agg[1]"`, `task: "ag[1]"`), "11:39", `no source or operator named "ag"`},
		{"fault field of another kind", rep(`task: "agg[1]"}`, `task: "agg[1]", factor: 2}`), "11:49", "does not take factor"},
		{"bad fault time", rep("at: 1 s", "at: soon"), "11:10", "no number"},
		{"unknown phase", rep(`at: 1 s, kind: crash-task`, `when: {phase: alignmnt}, kind: crash-task`), "11:20", `unknown phase "alignmnt"`},
		{"worker out of range", rep(`kind: crash-task, task: "agg[1]"`, `kind: crash-worker, worker: worker-7`), "11:43", "workers 0 to 0"},
		{"duplicate key", rep("name: tiny\n", "name: tiny\nname: other\n"), "2:1", "already defined"},
		{"negative seed", rep("name: tiny\n", "name: tiny\nseed: -1\n"), "2:7", "seed must be a whole number from 0 to"},
		{"job not a mapping", rep("job:\n", "job: x\nj:\n"), "2:6", `job must be a mapping (max-parallelism, sources, operators), got the string "x"`},
		{"sources not a list", rep("  sources:\n    - {name: src, splits: 2, records: 100}", "  sources: {name: src}"), "3:12", "sources must be a list, got a mapping"},
		{"name a list", rep("name: tiny", "name: [a, b]"), "1:7", "name must be a single value, got a list"},
		{"seed a string", rep("name: tiny\n", "name: tiny\nseed: lucky\n"), "2:7", `seed must be a whole number, got the string "lucky"`},
		{"binary", "name: x\n\x00\x01\x02ELF", "2:1", "not a scenario file: it holds the control character U+0000"},
		{"bad outcome", minimal + "expect: {outcome: fine}\n", "12:19", `unknown outcome "fine"`},
		{"unknown rescale operator", minimal + "rescale: {agr: 1}\n", "12:11", `unknown operator "agr"`},
		{"rescale 0", minimal + "rescale: {agg: 0}\n", "12:16", "within [1, 128]"},
		{"too many slots needed", minimal + "cluster: {workers: 1, slots-per-worker: 1}\n", "12:20", "needs 2 slots"},
		{"two documents", minimal + "---\nname: again\n", "12:1", "one YAML document"},
		{"anchor", rep("name: tiny", "name: &n tiny"), "1:7", "anchors"},
		{"empty file", "", "1:1", "empty scenario"},
		{"comments only", "# nothing here\n", "1:1", "empty scenario"},
		{"not a mapping", "- a\n- b\n", "1:1", "mapping"},
		{"not UTF-8", "name: t\xffiny\n", "1:8", "not valid UTF-8"},
		{"infinite factor", rep(`kind: crash-task, task: "agg[1]"`, `kind: straggler, task: "agg[1]", factor: .inf`), "11:56", "finite number"},
		{"bad size", rep("records: 100}", "records: 100, record-size: 64 parsecs}"), "4:57", "unknown unit"},
		{"bad rate", rep("records: 100}", "records: 100, rate: fast}"), "4:50", "write records per time"},
		{"bad bandwidth", minimal + "cluster: {network: {bandwidth: 1 Gbit}}\n", "12:32", "per second"},
		{"unknown protocol key value", rep("  execution.checkpointing.interval: 100 ms\n", "  execution.checkpointing.interval: 100 ms\n  execution.checkpointing.mode: SOMETIMES\n"), "10:33", "EXACTLY_ONCE or AT_LEAST_ONCE"},
		{"not modelled key", rep("  execution.checkpointing.interval: 100 ms\n", "  execution.checkpointing.interval: 100 ms\n  restart-strategy.failure-rate.delay: 1 s\n"), "10:3", "not modelled"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sc, err := Parse([]byte(c.src), "bad.yaml")
			if err == nil {
				t.Fatalf("parsed %+v; want an error", sc)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v is not an *Error", err, err)
			}
			first := strings.SplitN(err.Error(), "\n", 2)[0]
			prefix := "bad.yaml:" + c.pos
			if !strings.HasPrefix(first, prefix) {
				t.Errorf("error %q, want it at %s", first, prefix)
			}
			if !strings.Contains(first, c.msg) {
				t.Errorf("error %q, want it to say %q", first, c.msg)
			}
			if e.File != "bad.yaml" || e.Line < 1 || e.Column < 1 {
				t.Errorf("error position %s:%d:%d", e.File, e.Line, e.Column)
			}
		})
	}
}

// TestTruncations parses every prefix of the example file: no panic, and every
// error names the file, a line and a column.
func TestTruncations(t *testing.T) {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(data); n++ {
		_, err := Parse(data[:n], "cut.yaml")
		if err == nil {
			continue
		}
		var e *Error
		if !errors.As(err, &e) || !strings.HasPrefix(err.Error(), fmt.Sprintf("cut.yaml:%d:%d: ", e.Line, e.Column)) || e.Line < 1 || e.Column < 1 {
			t.Fatalf("prefix of %d bytes: error without a position: %v", n, err)
		}
	}
}

// TestSetupErrorsNamePaths checks that a scenario written in Go gets errors that
// name the offending field.
func TestSetupErrorsNamePaths(t *testing.T) {
	sc, _ := Lookup("steady")
	sc.Job.Operators[1].Parallelism = -1
	_, err := sc.Setup("")
	if err == nil || !strings.Contains(err.Error(), `scenario "steady": job.operators[1].parallelism must be at least 1, got -1`) {
		t.Errorf("got %v", err)
	}
	sc, _ = Lookup("steady")
	_, err = sc.Setup("optimistic")
	if err == nil || !strings.Contains(err.Error(), `unknown protocol "optimistic"`) {
		t.Errorf("unknown protocol override: got %v", err)
	}
	sc, _ = Lookup("steady")
	sc.Config["execution.checkpointing.interval"] = "-1 s"
	if _, err = sc.Setup(""); err == nil || !strings.Contains(err.Error(), "config.execution.checkpointing.interval") {
		t.Errorf("negative interval: got %v", err)
	}
}

func TestErrorShowsSource(t *testing.T) {
	src := strings.Replace(minimal, "parallelism: 2}", "parallelism: 0}", 1)
	_, err := Parse([]byte(src), "bad.yaml")
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 3 || !strings.Contains(lines[1], "parallelism: 0") || !strings.HasSuffix(lines[2], "^") {
		t.Fatalf("want the message, the line and a caret, got:\n%s", err)
	}
	if col := strings.Index(lines[2], "^") - strings.Index(lines[1], "    - {"); col != 54 {
		t.Errorf("caret at column %d, want 55:\n%s", col+1, err)
	}
}

func whenTask(w *faults.When) string {
	if w == nil {
		return ""
	}
	return w.Task
}

// TestUnknownKeysAllAtOnce: every unknown key of a file is reported in one error,
// in file order, the first with its line; the same every time; on a file of
// 60,000 of them too (its speed: BenchmarkLoadManyUnknownKeys).
func TestUnknownKeysAllAtOnce(t *testing.T) {
	src := strings.Replace(minimal, "job:\n", "owner: me\njob:\n", 1) +
		"colour: blue\ncluster: {workerz: 2}\n"
	src = strings.Replace(src, "  execution.checkpointing.interval: 100 ms\n", "  execution.checkpointing.interval: 100 ms\n  execution.checkpointing.intervall: 1 s\n", 1)
	_, err := Parse([]byte(src), "many.yaml")
	var e *Error
	if !errors.As(err, &e) || e.Line != 2 || e.Column != 1 || !strings.Contains(e.Msg, `unknown key "owner"`) {
		t.Fatalf("got %v", err)
	}
	want := []string{"and 3 more problems:",
		`many.yaml:11:3: unknown configuration key "execution.checkpointing.intervall" (did you mean "execution.checkpointing.interval"`,
		`many.yaml:14:1: unknown key "colour" in the scenario`,
		`many.yaml:15:11: unknown key "workerz" in cluster (it takes workers, slots-per-worker, network, checkpoint-storage) (did you mean "workers"?)`}
	if len(e.More) != len(want) {
		t.Fatalf("more: %q", e.More)
	}
	for i, w := range want {
		if !strings.HasPrefix(e.More[i], w) {
			t.Errorf("line %d: %q, want %q", i, e.More[i], w)
		}
	}
	for range 5 {
		if _, again := Parse([]byte(src), "many.yaml"); again.Error() != err.Error() {
			t.Fatalf("another parse said\n%v\nthen\n%v", err, again)
		}
	}

	_, err = Parse(manyUnknownKeys(60000), "big.yaml")
	if !errors.As(err, &e) || e.Line != 12 || !strings.Contains(e.Msg, `unknown key "unknown0"`) ||
		e.More[0] != "and 59999 more problems:" || !strings.HasPrefix(e.More[1], `big.yaml:13:1: unknown key "unknown1"`) ||
		e.More[len(e.More)-1] != "... and 59979 more" {
		t.Fatalf("got %v", err)
	}
}

// manyUnknownKeys is the minimal scenario followed by n unknown top-level keys.
func manyUnknownKeys(n int) []byte {
	var b strings.Builder
	b.WriteString(minimal)
	for i := range n {
		fmt.Fprintf(&b, "unknown%d: 1\n", i)
	}
	return []byte(b.String())
}

// BenchmarkLoadManyUnknownKeys: refusing a file of many unknown keys takes time
// linear in the keys (ns/key stays flat from 15,000 to 60,000 keys; goccy/go-yaml's
// parser alone is quadratic there: a minute for 60,000).
func BenchmarkLoadManyUnknownKeys(b *testing.B) {
	for _, n := range []int{15000, 60000} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			data := manyUnknownKeys(n)
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := Parse(data, "big.yaml"); err == nil {
					b.Fatal("no error")
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/key")
		})
	}
}

// TestByteOrderMark: a UTF-8 byte order mark is not part of the first key.
func TestByteOrderMark(t *testing.T) {
	sc, err := Parse([]byte("\ufeff"+minimal), "bom.yaml")
	if err != nil || sc.Name != "tiny" {
		t.Fatalf("got %v", err)
	}
	_, err = Parse([]byte("\ufeff"+minimal+"owner: me\n"), "bom.yaml")
	if err == nil || !strings.HasPrefix(err.Error(), "bom.yaml:12:1: unknown key \"owner\"") {
		t.Fatalf("got %v", err)
	}
}

// TestBinaryNotEchoed: a binary file is refused without its bytes in the error.
func TestBinaryNotEchoed(t *testing.T) {
	_, err := Parse([]byte("\x7fELF\x02\x01\x01\x00\x00name: x"), "a.out")
	if err == nil || !strings.HasPrefix(err.Error(), "a.out:1:1: not a scenario file") || strings.ContainsAny(err.Error(), "\x00\x01\x02\x7f") {
		t.Fatalf("got %q", err)
	}
}
