package engine

import (
	"runtime"
	"testing"
	"time"

	"github.com/ckptsim/ckptsim/sim"
	"github.com/google/go-cmp/cmp"
)

// pipelineA is job (a): source → map → keyBy → sum → sink, parallelism 4.
func pipelineA(records int64, keys int) *Job { return pipelineSum(records, keys) }

func pipelineSum(records int64, keys int) *Job {
	j := NewJob("a")
	j.Source("src", SourceSpec{Splits: 4, Records: records, Keys: KeySpec{Count: keys}}).Parallelism(4).
		Map("double", func(r *Record) { r.Value *= 2 }).
		KeyBy().Sum("sum").
		Sink("out", SinkSpec{})
	return j
}

func mustRun(t testing.TB, seed uint64, j *Job, cfg Config, limit sim.Time) *Runtime {
	t.Helper()
	w := sim.NewWorld(seed)
	rt, err := NewRuntime(w, j, cfg)
	if err != nil {
		t.Fatal(err)
	}
	rt.KeepCommitted()
	if !rt.RunToCompletion(limit) && limit != sim.Never {
		return rt
	}
	return rt
}

// keyedState collects the values of one namespace over every subtask of a vertex.
func keyedState(rt *Runtime, vertex string) map[uint64]int64 {
	out := map[uint64]int64{}
	for _, t := range rt.TasksOf(vertex) {
		for _, e := range t.State().Entries() {
			out[e.Key] = e.Value
		}
	}
	return out
}

// lastPerKey is the last committed value per key of a sink.
func lastPerKey(s *SinkStore) map[uint64]int64 {
	out := map[uint64]int64{}
	for _, r := range s.Committed() {
		out[r.Key] = r.Value
	}
	return out
}

func TestPipelineSumMatchesPlainGo(t *testing.T) {
	for _, backend := range stateBackends(t) {
		t.Run(backend, func(t *testing.T) {
			j := pipelineA(5000, 100)
			rt := mustRun(t, 7, j, Config{Workers: 2, StateBackend: backend}, sim.Never)
			if !rt.Finished() {
				t.Fatalf("job did not finish; failures: %v", rt.Failures())
			}
			gen := rt.Generator("src")
			want := map[uint64]int64{}
			for s := int32(0); s < 4; s++ {
				for off := int64(0); off < 5000; off++ {
					r := gen.Record(s, off)
					want[r.Key] += 2 * r.Value
				}
			}
			if d := cmp.Diff(want, keyedState(rt, "sum")); d != "" {
				t.Fatalf("keyed state differs from plain Go (-want +got):\n%s", d)
			}
			if d := cmp.Diff(want, lastPerKey(rt.Sink("out"))); d != "" {
				t.Fatalf("sink output differs from plain Go (-want +got):\n%s", d)
			}
			v := rt.Sink("out").Verifier()
			if v.Duplicates != 0 || v.Total != 20000 || v.Lost([]int32{0, 1, 2, 3}, 5000) != 0 {
				t.Fatalf("verifier: total %d, duplicates %d, lost %d", v.Total, v.Duplicates, v.Lost([]int32{0, 1, 2, 3}, 5000))
			}
		})
	}
}

func TestHotKeySkew(t *testing.T) {
	j := NewJob("e")
	j.Source("src", SourceSpec{Splits: 4, Records: 4000, Keys: KeySpec{Dist: Hot, Count: 50, HotRatio: 0.9}}).Parallelism(4).
		KeyBy().Count("count").Parallelism(4).
		Sink("out", SinkSpec{})
	rt := mustRun(t, 3, j, Config{Workers: 2}, sim.Never)
	if !rt.Finished() {
		t.Fatal("job did not finish")
	}
	gen := rt.Generator("src")
	want := map[uint64]int64{}
	for s := int32(0); s < 4; s++ {
		for off := int64(0); off < 4000; off++ {
			want[gen.Record(s, off).Key]++
		}
	}
	if share := float64(want[0]) / 16000; share < 0.88 || share > 0.92 {
		t.Fatalf("hot key share %.3f, want about 0.9", share)
	}
	if d := cmp.Diff(want, keyedState(rt, "count")); d != "" {
		t.Fatalf("counts differ (-want +got):\n%s", d)
	}
	// the subtask owning the hot key did most of the work
	var max, total int64
	for _, task := range rt.TasksOf("count") {
		n := task.Metrics().RecordsIn
		total += n
		if n > max {
			max = n
		}
	}
	if float64(max) < 0.85*float64(total) {
		t.Fatalf("hot subtask processed %d of %d records", max, total)
	}
}

// benchmarkShape is job (b), the shape of Flink's CheckpointingTimeBenchmark:
// source → rebalance → map → rebalance → sink costing sinkCost per record.
func benchmarkShape(sinkCost sim.Duration) *Job {
	j := NewJob("b")
	j.Source("src", SourceSpec{Splits: 4, Keys: KeySpec{Count: 1000}}).Parallelism(4).
		Rebalance().Map("map", nil).Parallelism(4).
		Rebalance().Sink("sink", SinkSpec{}).Parallelism(4).Cost(sinkCost)
	return j
}

func TestBackpressureEmerges(t *testing.T) {
	w := sim.NewWorld(11)
	rt, err := NewRuntime(w, benchmarkShape(sim.Millisecond), Config{Workers: 2,
		Net: sim.NetConfig{Remote: sim.LinkConfig{Latency: 100 * sim.Microsecond, Bandwidth: 1 << 30}}})
	if err != nil {
		t.Fatal(err)
	}
	rt.Start()
	emitted := func() int64 {
		var n int64
		for _, task := range rt.TasksOf("src") {
			n += task.Metrics().RecordsIn
		}
		return n
	}
	// About 100k records fit in the pipeline's buffers (512 records per 32 KiB
	// buffer); at 4000 records/s they take about 26 s to fill.
	w.Run(sim.Time(40 * sim.Second))
	n0 := emitted()
	w.Run(sim.Time(70 * sim.Second))
	rate := float64(emitted()-n0) / 30
	capacity := 4 * 1000.0 // four sinks at 1 ms per record
	if rate < 0.95*capacity || rate > 1.05*capacity {
		t.Fatalf("sources emit %.0f records/s once steady; the sinks take %.0f", rate, capacity)
	}
	for _, name := range []string{"src", "map"} {
		for _, task := range rt.TasksOf(name) {
			m := task.Metrics()
			share := m.Backpressured.Seconds() / w.Now().Seconds()
			if share < 0.5 {
				t.Errorf("%s backpressured %.0f%% of the time, want > 50%%", task.Name(), 100*share)
			}
		}
	}
	for _, task := range rt.TasksOf("sink") {
		if busy := task.Metrics().Busy.Seconds() / w.Now().Seconds(); busy < 0.95 {
			t.Errorf("%s busy only %.0f%% of the time", task.Name(), 100*busy)
		}
	}
}

func traceHashOf(seed uint64, backend string) uint64 {
	w := sim.NewWorld(seed)
	rt, err := NewRuntime(w, pipelineA(2000, 50), Config{Workers: 2, StateBackend: backend,
		Net: sim.NetConfig{Remote: sim.LinkConfig{Latency: sim.Millisecond, Jitter: 300 * sim.Microsecond}}})
	if err != nil {
		panic(err)
	}
	rt.RunToCompletion(sim.Never)
	return w.TraceHash()
}

func TestSameSeedSameTraceHash(t *testing.T) {
	for _, backend := range stateBackends(t) {
		prev := runtime.GOMAXPROCS(1)
		a := traceHashOf(5, backend)
		runtime.GOMAXPROCS(2)
		b := traceHashOf(5, backend)
		runtime.GOMAXPROCS(prev)
		if a != b {
			t.Fatalf("%s: trace hash %016x under GOMAXPROCS=1, %016x under 2", backend, a, b)
		}
		if c := traceHashOf(6, backend); c == a {
			t.Fatalf("%s: seeds 5 and 6 gave the same hash %016x", backend, a)
		}
	}
}

// BenchmarkPipeline runs job (a) with no CPU cost per record. A step is one record
// processed by one operator: source emit, map, sum and sink count one each. One
// untimed run comes first: the first run of a process also grows the Go heap.
func BenchmarkPipeline(b *testing.B) {
	const perSplit = 250_000
	run := func() {
		w := sim.NewWorld(1)
		rt, err := NewRuntime(w, pipelineSum(perSplit, 1000), Config{Workers: 2})
		if err != nil {
			b.Fatal(err)
		}
		if !rt.RunToCompletion(sim.Never) {
			b.Fatal("did not finish")
		}
	}
	run()
	b.ReportAllocs()
	b.ResetTimer()
	var steps int64
	for i := 0; i < b.N; i++ {
		run()
		steps += 4 * 4 * perSplit
	}
	perStep := float64(b.Elapsed().Nanoseconds()) / float64(steps)
	b.ReportMetric(perStep, "ns/step")
	b.ReportMetric(float64(steps)/b.Elapsed().Seconds(), "steps/s")
	// The yardstick, measured right after on the same machine: a bare loop
	// updating a Go map per record. x-bare-loop is ns/step over its ns/record.
	b.StopTimer()
	const bareRecords = 1 << 24
	keys, m := bareLoopInput()
	start := time.Now()
	bareLoop(keys, m, bareRecords)
	bare := float64(time.Since(start).Nanoseconds()) / bareRecords
	b.ReportMetric(perStep/bare, "x-bare-loop")
}

// bareLoopInput is the keys of the generated input of job (a) and an empty map.
func bareLoopInput() ([]uint64, map[uint64]int64) {
	gen := NewGenerator(SourceSpec{Splits: 4, Keys: KeySpec{Count: 1000}}, 1)
	keys := make([]uint64, 1<<16)
	for i := range keys {
		keys[i] = gen.Record(int32(i&3), int64(i)).Key
	}
	return keys, map[uint64]int64{}
}

// bareLoop adds n records' values into m by key.
func bareLoop(keys []uint64, m map[uint64]int64, n int) {
	for i := 0; i < n; i++ {
		m[keys[i&(1<<16-1)]] += int64(i)
	}
}

// BenchmarkBareMapLoop is BenchmarkPipeline's baseline: a plain loop that updates a
// Go map per record over the same generated input; ns/record is its cost.
func BenchmarkBareMapLoop(b *testing.B) {
	keys, m := bareLoopInput()
	b.ResetTimer()
	bareLoop(keys, m, b.N)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/record")
}

type windowKey struct {
	Key uint64
	End int64
}

func TestTumblingWindowCountOutOfOrder(t *testing.T) {
	const size = sim.Second
	j := NewJob("c")
	j.Source("src", SourceSpec{Splits: 4, Rate: 1000, Records: 3000, Disorder: 300 * sim.Millisecond,
		Keys: KeySpec{Count: 20}}).Parallelism(2).
		KeyBy().Window("win", WindowSpec{Size: size}).Parallelism(4).
		Sink("out", SinkSpec{})
	rt := mustRun(t, 9, j, Config{Workers: 2}, sim.Never)
	if !rt.Finished() {
		t.Fatalf("job did not finish: %v", rt.Failures())
	}
	gen := rt.Generator("src")
	want := map[windowKey]int64{}
	disordered := 0
	for s := int32(0); s < 4; s++ {
		var prev sim.Time
		for off := int64(0); off < 3000; off++ {
			r := gen.Record(s, off)
			if r.Time < prev {
				disordered++
			}
			prev = r.Time
			end := (int64(r.Time)/int64(size) + 1) * int64(size)
			want[windowKey{r.Key, end}]++
		}
	}
	if disordered < 1000 {
		t.Fatalf("only %d records out of order: the input is not disordered enough to test", disordered)
	}
	got := map[windowKey]int64{}
	for _, r := range rt.Sink("out").Committed() {
		k := windowKey{r.Key, r.Offset}
		if _, dup := got[k]; dup {
			t.Fatalf("window %v fired twice", k)
		}
		got[k] = r.Value
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("window counts differ from plain Go (-want +got):\n%s", d)
	}
	for _, task := range rt.TasksOf("win") {
		if late := task.Operators()[0].(LateCounter).Late(); late != 0 {
			t.Fatalf("%s dropped %d late records; the watermark lags by the disorder bound", task.Name(), late)
		}
	}
}

type joined struct {
	Key   uint64
	Value int64
	Time  sim.Time
}

func TestIntervalJoin(t *testing.T) {
	lower, upper := -50*sim.Millisecond, 80*sim.Millisecond
	j := NewJob("d")
	left := j.Source("orders", SourceSpec{Splits: 2, Rate: 500, Records: 1500, Disorder: 100 * sim.Millisecond,
		Keys: KeySpec{Count: 30}, Seed: 101}).Parallelism(2)
	right := j.Source("payments", SourceSpec{Splits: 3, Rate: 300, Records: 900, Disorder: 50 * sim.Millisecond,
		Keys: KeySpec{Count: 30}, Seed: 202}).Parallelism(3)
	left.KeyBy().Join("join", right.KeyBy(), JoinSpec{Lower: lower, Upper: upper}).Parallelism(4).
		Sink("out", SinkSpec{})
	rt := mustRun(t, 4, j, Config{Workers: 3}, sim.Never)
	if !rt.Finished() {
		t.Fatalf("job did not finish: %v", rt.Failures())
	}
	var ls, rs []Record
	lg, rg := rt.Generator("orders"), rt.Generator("payments")
	for s := int32(0); s < 2; s++ {
		for off := int64(0); off < 1500; off++ {
			ls = append(ls, lg.Record(s, off))
		}
	}
	for _, s := range rg.Splits() {
		for off := int64(0); off < 900; off++ {
			rs = append(rs, rg.Record(s, off))
		}
	}
	want := map[joined]int{}
	for _, l := range ls {
		for _, r := range rs {
			if l.Key == r.Key && r.Time >= l.Time.Add(lower) && r.Time <= l.Time.Add(upper) {
				tm := l.Time
				if r.Time > tm {
					tm = r.Time
				}
				want[joined{l.Key, l.Value*JoinValueFactor + r.Value, tm}]++
			}
		}
	}
	if len(want) < 100 {
		t.Fatalf("only %d joined pairs: the test input is too sparse", len(want))
	}
	got := map[joined]int{}
	for _, r := range rt.Sink("out").Committed() {
		got[joined{r.Key, r.Value, r.Time}]++
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("join output differs from a nested loop (-want +got):\n%s", d)
	}
}

// TestHeapAndPebbleAgree runs the same job on both state backends: keyed state,
// sink output and trace hash must be identical (pebble is a logical store).
func TestHeapAndPebbleAgree(t *testing.T) {
	type result struct {
		state map[uint64]int64
		out   []Record
		hash  uint64
	}
	runWith := func(backend string) result {
		w := sim.NewWorld(21)
		rt, err := NewRuntime(w, pipelineA(3000, 200), Config{Workers: 2, StateBackend: backend})
		if err != nil {
			t.Fatal(err)
		}
		rt.KeepCommitted()
		if !rt.RunToCompletion(sim.Never) {
			t.Fatalf("%s: job did not finish", backend)
		}
		return result{keyedState(rt, "sum"), rt.Sink("out").Committed(), w.TraceHash()}
	}
	h, p := runWith("heap"), runWith("pebble")
	if d := cmp.Diff(h.state, p.state); d != "" {
		t.Fatalf("keyed state differs between heap and pebble (-heap +pebble):\n%s", d)
	}
	if d := cmp.Diff(h.out, p.out); d != "" {
		t.Fatalf("sink output differs between heap and pebble (-heap +pebble):\n%s", d)
	}
	if h.hash != p.hash {
		t.Fatalf("trace hash differs: heap %016x, pebble %016x", h.hash, p.hash)
	}
}
