package scenarios

import (
	"strings"
	"testing"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/sim"
)

func TestParseSize(t *testing.T) {
	good := map[string]int64{"64 B": 64, "64b": 64, "32 kb": 32 << 10, "32KiB": 32 << 10, "1 MiB": 1 << 20, "1 mb": 1 << 20,
		"2 g": 2 << 30, "4096": 4096, "1.5 kb": 1536, "0 b": 0, "256 bytes": 256}
	for in, want := range good {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "kb", "-1 kb", "12 parsecs", "1/2 kb", "1e3 b", "99999999999 tb", "1..2 b"} {
		if got, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d; want an error", in, got)
		}
	}
}

func TestParseRate(t *testing.T) {
	good := map[string]float64{"2000/s": 2000, "2000 / s": 2000, "50/100 ms": 500, "120/min": 2, "30": 30, "unlimited": 0, "1.5/ms": 1500}
	for in, want := range good {
		if got, err := ParseRate(in); err != nil || got != want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "fast", "/s", "-5/s", "5/0 s", "5/fortnight", "5 per s", "1e20/s"} {
		if got, err := ParseRate(in); err == nil {
			t.Errorf("ParseRate(%q) = %v; want an error", in, got)
		}
	}
}

func TestParseBandwidth(t *testing.T) {
	good := map[string]int64{"1 Gbit/s": 125_000_000, "200 MB/s": 200_000_000, "100 Mbps": 12_500_000, "64 MiB/s": 64 << 20,
		"10 Gbit/s": 1_250_000_000, "1000/s": 1000, "8 bit/s": 1, "1 KB/s": 1000, "unlimited": 0}
	for in, want := range good {
		if got, err := ParseBandwidth(in); err != nil || got != want {
			t.Errorf("ParseBandwidth(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "1 Gbit", "200 Mb/s", "0 MB/s", "-1 MB/s", "5 parsecs/s", "1 MB/min", "1 bit/s"} {
		if got, err := ParseBandwidth(in); err == nil {
			t.Errorf("ParseBandwidth(%q) = %d; want an error", in, got)
		}
	}
}

func TestProtocolFromConfig(t *testing.T) {
	cases := []struct {
		config   map[string]string
		override string
		want     string
	}{
		{nil, "", "aligned"},
		{map[string]string{"execution.checkpointing.mode": "AT_LEAST_ONCE"}, "", "atleastonce"},
		{map[string]string{"execution.checkpointing.mode": "AT_LEAST_ONCE", "execution.checkpointing.unaligned.enabled": "true"}, "", "atleastonce"},
		{map[string]string{"execution.checkpointing.unaligned.enabled": "true"}, "", "unaligned"},
		{map[string]string{"execution.checkpointing.unaligned.enabled": "true", "execution.checkpointing.aligned-checkpoint-timeout": "0 s"}, "", "unaligned"},
		{map[string]string{"execution.checkpointing.unaligned.enabled": "true", "execution.checkpointing.aligned-checkpoint-timeout": "30 ms"}, "", "hybrid"},
		{map[string]string{"execution.checkpointing.unaligned": "true", "execution.checkpointing.alignment-timeout": "30 ms"}, "", "hybrid"},
		{map[string]string{"execution.checkpointing.aligned-checkpoint-timeout": "30 ms"}, "", "aligned"},
		{map[string]string{"execution.checkpointing.unaligned.enabled": "true"}, "aligned", "aligned"},
		{nil, "hybrid", "hybrid"},
	}
	for _, c := range cases {
		sc, _ := Parse([]byte(minimal), "tiny.yaml")
		sc.Config = c.config
		st, err := sc.Setup(c.override)
		if err != nil {
			t.Fatal(err)
		}
		if st.Protocol != c.want || st.Config.Protocol == nil || st.Config.Protocol.Name() != c.want {
			t.Errorf("config %v, override %q: protocol %q, want %q", c.config, c.override, st.Protocol, c.want)
		}
		sink := st.NewJob().Vertices[2].Sink.Kind
		if wantSink := engine.SinkTwoPhaseCommit; c.want != "atleastonce" && sink != wantSink || c.want == "atleastonce" && sink != engine.SinkCollect {
			t.Errorf("protocol %s: default sink %v", c.want, sink)
		}
	}
}

// TestConfigKeys sets every documented key to its default and checks a few
// translations to the engine's configuration.
func TestConfigKeys(t *testing.T) {
	keys := ConfigKeys()
	if len(keys) < 30 {
		t.Fatalf("only %d keys", len(keys))
	}
	conf := map[string]string{}
	for _, k := range keys {
		if k.Alias == "" {
			if k.Doc == "" || k.Default == "" {
				t.Errorf("key %s lacks a doc or a default", k.Name)
			}
			conf[k.Name] = k.Default
		}
	}
	sc, _ := Parse([]byte(minimal), "tiny.yaml")
	sc.Config = conf
	if _, err := sc.Setup(""); err != nil {
		t.Fatalf("the documented defaults do not parse: %v", err)
	}
	sc.Config = map[string]string{
		"execution.checkpointing.interval":                                "250 ms",
		"execution.checkpointing.timeout":                                 "1 min",
		"execution.checkpointing.min-pause":                               "100 ms",
		"execution.checkpointing.max-concurrent-checkpoints":              "2",
		"execution.checkpointing.tolerable-failed-checkpoints":            "4",
		"state.backend.incremental":                                       "true",
		"execution.buffer-timeout":                                        "0 ms",
		"state.backend.type":                                              "rocksdb",
		"restart-strategy.type":                                           "exponential-delay",
		"restart-strategy.exponential-delay.initial-backoff":              "10 ms",
		"restart-strategy.exponential-delay.max-backoff":                  "1 s",
		"restart-strategy.exponential-delay.backoff-multiplier":           "1.5",
		"restart-strategy.exponential-delay.jitter-factor":                "0.2",
		"taskmanager.network.memory.buffers-per-channel":                  "1",
		"taskmanager.network.memory.floating-buffers-per-gate":            "0",
		"taskmanager.memory.segment-size":                                 "4 kb",
		"taskmanager.network.memory.buffer-debloat.enabled":               "true",
		"taskmanager.network.memory.buffer-debloat.target":                "300 ms",
		"taskmanager.network.memory.buffer-debloat.period":                "10 ms",
		"taskmanager.network.memory.buffer-debloat.samples":               "5",
		"taskmanager.network.memory.buffer-debloat.threshold-percentages": "50",
		"taskmanager.memory.min-segment-size":                             "256 b",
		"heartbeat.timeout":                                               "2 s",
		"pipeline.auto-watermark-interval":                                "50 ms",
		"jobmanager.execution.failover-strategy":                          "full",
		"ckptsim.task.quantum":                                            "50 us",
		"ckptsim.sink.commit-retry-delay":                                 "20 ms",
	}
	st, err := sc.Setup("")
	if err != nil {
		t.Fatal(err)
	}
	c := st.Config
	ms := sim.Millisecond
	checks := []struct {
		name      string
		got, want any
	}{
		{"interval", c.Checkpoint.Interval, 250 * ms},
		{"timeout", c.Checkpoint.Timeout, sim.Minute},
		{"min pause", c.Checkpoint.MinPause, 100 * ms},
		{"max concurrent", c.Checkpoint.MaxConcurrent, 2},
		{"tolerable", c.Checkpoint.TolerableFailures, 4},
		{"incremental", c.Checkpoint.Incremental, true},
		{"buffer timeout", c.BufferTimeout, sim.Duration(-1)},
		{"backend", c.StateBackend, "pebble"},
		{"restart", c.Restart.Strategy, "exponential-delay"},
		{"initial backoff", c.Restart.InitialBackoff, 10 * ms},
		{"max backoff", c.Restart.MaxBackoff, sim.Second},
		{"multiplier", c.Restart.Multiplier, 1.5},
		{"jitter", c.Restart.Jitter, 0.2},
		{"failover", c.Restart.Failover, "full"},
		{"exclusive", c.Net.ExclusivePerChannel, 1},
		{"floating", c.Net.FloatingPerGate, -1},
		{"segment", c.Net.SegmentSize, 4096},
		{"debloat", c.Net.Debloat, sim.DebloatConfig{Enabled: true, Target: 300 * ms, Period: 10 * ms, Samples: 5, MinSize: 256, Threshold: 0.5}},
		{"heartbeat", c.HeartbeatTimeout, 2 * sim.Second},
		{"quantum", c.Quantum, 50 * sim.Microsecond},
		{"commit retry", c.CommitRetry, 20 * ms},
		{"watermarks", st.NewJob().Vertices[0].Source.WatermarkInterval, 50 * ms},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s: got %v, want %v", ch.name, ch.got, ch.want)
		}
	}
	// Fixed-delay with 0 attempts never restarts.
	sc.Config = map[string]string{"restart-strategy.fixed-delay.attempts": "0"}
	if st, err := sc.Setup(""); err != nil || st.Config.Restart.Strategy != "none" {
		t.Errorf("0 attempts: %+v, %v", st.Config.Restart, err)
	}
	// Two spellings of one option.
	sc.Config = map[string]string{"state.backend": "heap", "state.backend.type": "pebble"}
	if _, err := sc.Setup(""); err == nil || !strings.Contains(err.Error(), "same option") {
		t.Errorf("two spellings: got %v", err)
	}
}

// TestJobShapes builds every operator type and checks the graph.
func TestJobShapes(t *testing.T) {
	src := `name: shapes
job:
  max-parallelism: 64
  sources:
    - {name: a, splits: 4, records: 100, keys: {distribution: hot, ratio: 0.5}}
    - {name: b, splits: 2, parallelism: 1, rate: 100/s, records: 10}
  operators:
    - {name: f, type: filter, input: a, modulo: 3}
    - {name: fm, type: flat-map, input: f, fanout: 3, parallelism: 2}
    - {name: u, type: union, inputs: [fm, b], parallelism: 2}
    - {name: mn, type: min, input: u, key-by: split}
    - {name: mx, type: max, input: u, parallelism: 3}
    - {name: c, type: count, input: a, key-by: split, parallelism: 2}
    - {name: w, type: window, input: a, size: 1 s, slide: 250 ms, allowed-lateness: 10 ms, aggregate: sum}
    - {name: j, type: join, inputs: [a, b], lower: -1 s, upper: 2 s, parallelism: 2}
    - {name: m, type: map, input: j, partitioning: broadcast, parallelism: 3}
    - {name: s1, type: sink, input: mn, sink: at-least-once}
    - {name: s2, type: sink, input: mx, parallelism: 3}
rescale: {a: 2, mn: 1}
`
	sc, err := Parse([]byte(src), "shapes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	st, err := sc.Setup("")
	if err != nil {
		t.Fatal(err)
	}
	j := st.NewJob()
	if j.MaxParallelism != 64 {
		t.Errorf("max parallelism %d", j.MaxParallelism)
	}
	byName := map[string]*engine.Vertex{}
	for _, v := range j.Vertices {
		byName[v.Name] = v
	}
	edges := func(name string) string {
		var s []string
		for _, e := range byName[name].Inputs {
			s = append(s, e.From.Name+":"+e.Part.String())
		}
		return strings.Join(s, ",")
	}
	want := map[string]string{
		"f": "a:rebalance" /* a is rescaled */, "fm": "f:rebalance", "u": "fm:forward,b:rebalance",
		"mn-by-split": "u:forward", "mn": "mn-by-split:key-by", "mx": "u:key-by",
		"c-by-split": "a:forward", "c": "c-by-split:key-by", "w": "a:key-by",
		"j": "a:key-by,b:key-by", "m": "j:broadcast", "s1": "mn:rebalance" /* mn is rescaled */, "s2": "mx:forward",
	}
	for name, w := range want {
		if byName[name] == nil {
			t.Errorf("no vertex %q", name)
			continue
		}
		if got := edges(name); got != w {
			t.Errorf("%s inputs %s, want %s", name, got, w)
		}
	}
	if p := byName["mn"].Parallelism; p != 2 {
		t.Errorf("mn parallelism %d, want its input's 2", p)
	}
	if k := byName["mx"].Aggregate.Name; k != "max" {
		t.Errorf("mx aggregate %q", k)
	}
	if w := byName["w"].Window; w.Size != sim.Second || w.Slide != 250*sim.Millisecond || w.AllowedLateness != 10*sim.Millisecond || w.Aggregate != "sum" {
		t.Errorf("window %+v", w)
	}
	if jn := byName["j"].Join; jn.Lower != -sim.Second || jn.Upper != 2*sim.Second {
		t.Errorf("join %+v", jn)
	}
	if s := byName["s1"].Sink.Kind; s != engine.SinkCollect {
		t.Errorf("s1 sink %v", s)
	}
	// The key-by-split maps follow their input's rescale.
	if st.Rescale["c-by-split"] != 2 || st.Rescale["a"] != 2 || st.Rescale["mn"] != 1 || len(st.Rescale) != 3 {
		t.Errorf("rescale %v", st.Rescale)
	}
	// Operator functions.
	r := engine.Record{Key: 7, Value: 9, Split: 3, Offset: 4}
	if byName["f"].FilterFn(&r) {
		t.Error("filter keeps 9 with modulo 3")
	}
	got := r
	if byName["c-by-split"].MapFn(&got); got.Key != 3 {
		t.Errorf("key-by-split map: key %d", got.Key)
	}
	var copies []engine.Record
	byName["fm"].FlatMapFn(r, func(c engine.Record) { copies = append(copies, c) })
	if len(copies) != 3 || copies[0] != r || copies[1].Split != -1 || copies[2].Split != -1 {
		t.Errorf("flat-map copies %+v", copies)
	}
	// Deployable at both parallelisms.
	p, _ := checkpoint.Lookup("aligned")
	cfg := st.Config
	cfg.Protocol = p
	if _, err := engine.NewRuntime(sim.NewWorld(1), j, cfg); err != nil {
		t.Fatal(err)
	}
}
