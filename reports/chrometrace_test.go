package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ckptsim/ckptsim/scenarios"
)

// traceRun runs a scenario under a protocol with a Chrome trace attached and
// returns the run's result and the trace.
func traceRun(t *testing.T, name, protocol string, maxFlows int) (*scenarios.Result, []byte) {
	t.Helper()
	setup := traceSetup(t, name, protocol)
	tr := &ChromeTrace{Scenario: setup.Name, Protocol: setup.Protocol, Seed: setup.Seed, MaxBarrierFlows: maxFlows}
	res, err := scenarios.Run(setup, scenarios.RunOptions{Attach: tr.Attach, ObserveFaults: tr.SetFaults})
	if err != nil {
		t.Fatal(err)
	}
	data, err := tr.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return res, data
}

func traceSetup(t *testing.T, name, protocol string) *scenarios.Setup {
	t.Helper()
	sc, err := scenarios.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	setup, err := sc.Setup(protocol)
	if err != nil {
		t.Fatal(err)
	}
	return setup
}

type chromeEvent struct {
	Ph   string         `json:"ph"`
	Name string         `json:"name"`
	Cat  string         `json:"cat"`
	Ts   *float64       `json:"ts"`
	Dur  *float64       `json:"dur"`
	Pid  *int           `json:"pid"`
	Tid  *int           `json:"tid"`
	ID   *int64         `json:"id"`
	S    string         `json:"s"`
	Bp   string         `json:"bp"`
	Args map[string]any `json:"args"`
}

type chromeFile struct {
	TraceEvents     []chromeEvent  `json:"traceEvents"`
	DisplayTimeUnit string         `json:"displayTimeUnit"`
	Metadata        map[string]any `json:"metadata"`
}

func decodeTrace(t *testing.T, data []byte) *chromeFile {
	t.Helper()
	if !json.Valid(data) {
		t.Fatalf("the trace is not valid JSON:\n%.500s", data)
	}
	var f chromeFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("decoding the trace: %v", err)
	}
	if f.DisplayTimeUnit != "ms" {
		t.Errorf("displayTimeUnit %q, want ms", f.DisplayTimeUnit)
	}
	return &f
}

// checkTrace checks the structure of a trace and returns the number of events of
// each phase and name.
func checkTrace(t *testing.T, f *chromeFile) map[string]int {
	t.Helper()
	count := map[string]int{}
	type track struct{ pid, tid int }
	procNamed := map[int]bool{}
	threadNamed := map[track]bool{}
	used := map[track]bool{}
	for i, e := range f.TraceEvents {
		where := fmt.Sprintf("event %d (%s %q)", i, e.Ph, e.Name)
		if e.Ph == "" || e.Name == "" || e.Pid == nil || e.Tid == nil || e.Ts == nil {
			t.Fatalf("%s lacks ph, name, pid, tid or ts: %+v", where, e)
		}
		if *e.Ts < 0 {
			t.Errorf("%s has a negative timestamp %v", where, *e.Ts)
		}
		count[e.Ph]++
		count[e.Ph+" "+e.Name]++
		k := track{*e.Pid, *e.Tid}
		switch e.Ph {
		case "M":
			switch e.Name {
			case "process_name":
				procNamed[*e.Pid] = true
			case "thread_name":
				threadNamed[k] = true
			case "process_sort_index", "thread_sort_index":
			default:
				t.Errorf("%s: unexpected metadata", where)
			}
			if e.Args == nil {
				t.Errorf("%s has no args", where)
			}
			continue
		case "X":
			if e.Dur == nil || *e.Dur < 0 {
				t.Errorf("%s: complete event without a non-negative dur", where)
			}
			if e.Cat == "checkpoint" {
				for _, a := range []string{"checkpoint", "unaligned", "outcome"} {
					if _, ok := e.Args[a]; !ok {
						t.Errorf("%s lacks arg %s: %v", where, a, e.Args)
					}
				}
				if e.Name == "async" {
					if _, ok := e.Args["persisted_bytes"]; !ok {
						t.Errorf("%s lacks persisted_bytes: %v", where, e.Args)
					}
				}
			}
		case "b", "e", "s", "f":
			if e.ID == nil || e.Cat == "" {
				t.Errorf("%s lacks id or cat", where)
			}
		case "i":
			if e.S != "g" && e.S != "p" && e.S != "t" {
				t.Errorf("%s has scope %q", where, e.S)
			}
		case "C":
			if len(e.Args) == 0 {
				t.Errorf("%s: counter without values", where)
			}
		default:
			t.Errorf("%s: unexpected phase", where)
		}
		used[k] = true
	}
	for k := range used {
		if !procNamed[k.pid] {
			t.Errorf("process %d has no process_name", k.pid)
		}
		if !threadNamed[k] {
			t.Errorf("thread %d of process %d has no thread_name", k.tid, k.pid)
		}
	}
	// slices on a thread nest; async checkpoints begin and end once, in order;
	// every flow starts and finishes on a barrier slice of its thread
	// in integer nanoseconds, as Perfetto reads them
	ns := func(us float64) int64 { return int64(math.Round(us * 1000)) }
	type span struct{ start, end int64 }
	stacks := map[track][]span{}
	markers := map[string]bool{}
	begun := map[int64]float64{}
	ended := map[int64]bool{}
	flowStart := map[int64]float64{}
	flowEnd := map[int64]float64{}
	last := -1.0
	for _, e := range f.TraceEvents {
		if e.Ph == "M" {
			continue
		}
		if *e.Ts < last {
			t.Errorf("events are not sorted by time: %v after %v", *e.Ts, last)
		}
		last = *e.Ts
		k := track{*e.Pid, *e.Tid}
		switch e.Ph {
		case "X":
			s := span{ns(*e.Ts), ns(*e.Ts) + ns(*e.Dur)}
			st := stacks[k]
			for len(st) > 0 && st[len(st)-1].end <= s.start {
				st = st[:len(st)-1]
			}
			if len(st) > 0 && st[len(st)-1].end < s.end {
				t.Errorf("%q [%v, %v] on thread %v overlaps [%v, %v] without nesting", e.Name, s.start, s.end, k,
					st[len(st)-1].start, st[len(st)-1].end)
			}
			stacks[k] = append(st, s)
			if e.Cat == "barrier" {
				markers[fmt.Sprintf("%s@%d/%d/%v", e.Name, k.pid, k.tid, *e.Ts)] = true
			}
		case "b":
			if _, ok := begun[*e.ID]; ok {
				t.Errorf("checkpoint %d begins twice", *e.ID)
			}
			begun[*e.ID] = *e.Ts
		case "e":
			b, ok := begun[*e.ID]
			if !ok || ended[*e.ID] {
				t.Errorf("checkpoint %d ends without a begin, or twice", *e.ID)
			}
			if *e.Ts < b {
				t.Errorf("checkpoint %d ends at %v before it begins at %v", *e.ID, *e.Ts, b)
			}
			if e.Args["status"] == nil {
				t.Errorf("checkpoint %d end has no status", *e.ID)
			}
			ended[*e.ID] = true
		case "s":
			flowStart[*e.ID] = *e.Ts
			if !markers[fmt.Sprintf("barrier out@%d/%d/%v", k.pid, k.tid, *e.Ts)] {
				t.Errorf("flow %d starts on no barrier out slice", *e.ID)
			}
		case "f":
			flowEnd[*e.ID] = *e.Ts
			if e.Bp != "e" {
				t.Errorf("flow %d does not bind to its enclosing slice", *e.ID)
			}
			if !markers[fmt.Sprintf("barrier in@%d/%d/%v", k.pid, k.tid, *e.Ts)] {
				t.Errorf("flow %d finishes on no barrier in slice", *e.ID)
			}
		}
	}
	for id := range begun {
		if !ended[id] {
			t.Errorf("checkpoint %d never ends", id)
		}
	}
	for id, s := range flowStart {
		if e, ok := flowEnd[id]; !ok || e < s {
			t.Errorf("flow %d: start %v, finish %v (present %v)", id, s, e, ok)
		}
	}
	if len(flowStart) != len(flowEnd) {
		t.Errorf("%d flow starts, %d flow finishes", len(flowStart), len(flowEnd))
	}
	return count
}

// TestChromeTrace exports a run with a crash during alignment under the aligned
// and the unaligned protocol and checks the file's content.
func TestChromeTrace(t *testing.T) {
	for _, protocol := range []string{"aligned", "unaligned"} {
		t.Run(protocol, func(t *testing.T) {
			res, data := traceRun(t, "crash-during-alignment", protocol, 0)
			f := decodeTrace(t, data)
			count := checkTrace(t, f)
			want := []string{"X sync", "X async", "X restore", "X failover", "X barrier out", "X barrier in",
				"s barrier", "f barrier", "i crash-worker", "i job-restart", "i restart-worker", "C", "b", "e"}
			if protocol == "aligned" {
				want = append(want, "X alignment")
			}
			for _, w := range want {
				if count[w] == 0 {
					t.Errorf("no %q event", w)
				}
			}
			var inflight, load, unaligned, channelState bool
			for _, e := range f.TraceEvents {
				switch {
				case e.Ph == "C" && strings.HasSuffix(e.Name, " in-flight bytes"):
					_, in := e.Args["input"]
					_, out := e.Args["output"]
					inflight = inflight || (in && out)
				case e.Ph == "C" && strings.HasSuffix(e.Name, " load"):
					_, busy := e.Args["busy"]
					_, bp := e.Args["backpressured"]
					load = load || (busy && bp)
				case e.Ph == "X" && e.Cat == "checkpoint" && e.Args["unaligned"] == true:
					unaligned = true
				case e.Ph == "X" && e.Name == "restore":
					channelState = channelState || (e.Args["channel_state_records"].(float64) > 0 && *e.Dur > 0)
				}
			}
			if !inflight || !load {
				t.Errorf("counter series missing: in-flight %v, load %v", inflight, load)
			}
			if protocol == "unaligned" && (!unaligned || !channelState) {
				t.Errorf("unaligned run: unaligned slices %v, restore replaying channel state %v", unaligned, channelState)
			}
			if f.Metadata["trace_hash"] != res.TraceHash || f.Metadata["protocol"] != protocol {
				t.Errorf("metadata %v does not name the run (hash %s)", f.Metadata, res.TraceHash)
			}

			// the same run gives the same bytes; recording does not change the run
			again, data2 := traceRun(t, "crash-during-alignment", protocol, 0)
			if !bytes.Equal(data, data2) {
				t.Errorf("two exports of the same run differ (%d and %d bytes)", len(data), len(data2))
			}
			plain, err := scenarios.Run(traceSetup(t, "crash-during-alignment", protocol), scenarios.RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if plain.TraceHash != res.TraceHash || again.TraceHash != res.TraceHash {
				t.Errorf("trace hash %s with the export, %s without", res.TraceHash, plain.TraceHash)
			}
			if !res.OK {
				t.Errorf("the run failed its checks: %+v", res.Checks)
			}
		})
	}
}

// TestChromeTraceFlowCap: a cap keeps the first barrier flows and the metadata
// says how many there were.
func TestChromeTraceFlowCap(t *testing.T) {
	_, data := traceRun(t, "crash-during-alignment", "aligned", 5)
	f := decodeTrace(t, data)
	count := checkTrace(t, f)
	if count["s barrier"] != 5 || count["f barrier"] != 5 {
		t.Errorf("%d flow starts and %d finishes, want 5 with a cap of 5", count["s barrier"], count["f barrier"])
	}
	total, _ := f.Metadata["barrier_flows_total"].(float64)
	if f.Metadata["barrier_flows_emitted"] != 5.0 || f.Metadata["barrier_flows_cap"] != 5.0 || total <= 5 {
		t.Errorf("metadata does not tell the cap: %v", f.Metadata)
	}
}

func TestChromeTraceWriteFile(t *testing.T) {
	setup := traceSetup(t, "steady", "aligned")
	tr := &ChromeTrace{Scenario: setup.Name, Protocol: setup.Protocol, Seed: setup.Seed}
	if _, err := scenarios.Run(setup, scenarios.RunOptions{Attach: tr.Attach}); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(t.TempDir(), "trace.json")
	if err := tr.WriteFile(name); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	checkTrace(t, decodeTrace(t, data))
	if err := (&ChromeTrace{}).WriteFile(name); err == nil {
		t.Error("a trace that recorded nothing was written")
	}
}

func TestUsec(t *testing.T) {
	for ns, want := range map[int64]string{0: "0", 1: "0.001", 1500: "1.5", 1234567: "1234.567", 2000: "2", 10: "0.01"} {
		if got := usec(ns); got != want {
			t.Errorf("usec(%d) = %s, want %s", ns, got, want)
		}
	}
}
