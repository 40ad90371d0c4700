package engine_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/engine"
	_ "github.com/ckptsim/ckptsim/protocol" // registers the built-in protocols
	"github.com/ckptsim/ckptsim/sim"
)

// TestEngineScripts runs the engine-level scripts of testdata/: a small real job
// (two sources, rebalanced into one map chained with its sink, on tiny network
// buffers) under a real barrier handler, stepped one condition at a time, with
// what a checkpoint does to the in-flight data printed after each step: channel
// queues, barriers, the channel state captured at the sender (output state) and
// the receiver (input state), the hybrid handler's switch to unaligned, and the
// channel state a restore replays. Regenerate with
//
//	go test ./engine/ -run TestEngineScripts -rewrite
func TestEngineScripts(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		s := &script{}
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			out, err := s.run(d)
			if err != nil {
				return "error: " + err.Error() + "\n"
			}
			return out
		})
		if s.rt != nil {
			s.rt.Close()
		}
	})
}

// kinds are the moments `run until=` can wait for: those the hooks report, and
// those the step-by-step watch sees (scripts_watch_test.go).
var kinds = []string{"trigger", "barrier-sent", "barrier-received", "alignment", "snapshot", "ack", "completed",
	"deployed", "restored", "block", "resume", "switch", "arrived", "overtake"}

// entry is one observed moment of the run (a hook), for the log and for the
// conditions `run until=` waits for.
type entry struct {
	kind string // one of kinds
	task string
	ch   string
	id   int64
	line string
}

// script is the state of one script: the runtime, the log of moments not yet
// printed, and the names of the channels.
type script struct {
	w       *sim.World
	rt      *engine.Runtime
	log     []entry
	printed int
	names   map[*sim.Channel]string
	seen    watched               // what the last step left (scripts_watch_test.go)
	taken   map[string]bool       // checkpoints taken in this step, by task and id
	records int64                 // records per source split
	first   map[*engine.Task]bool // the tasks of the first deployment
}

func (s *script) run(d *datadriven.TestData) (string, error) {
	if d.Cmd != "job" && s.rt == nil {
		return "", fmt.Errorf("%s before job", d.Cmd)
	}
	switch d.Cmd {
	case "job":
		return s.job(d)
	case "trigger":
		s.rt.TriggerCheckpoint()
		return s.flush(), nil
	case "run":
		return s.runUntil(d)
	case "channels":
		return s.channels(), nil
	case "task":
		t, err := s.rt.Task(arg(d, "name", ""))
		if err != nil {
			return "", err
		}
		return s.task(t), nil
	case "checkpoint":
		a := &args{d: d}
		id := a.int("id", 0)
		if a.err != nil {
			return "", a.err
		}
		return s.checkpoint(id)
	case "fail":
		t, err := s.rt.Task(arg(d, "task", ""))
		if err != nil {
			return "", err
		}
		s.rt.FailTask(t, "failed by the script")
		return s.flush(), nil
	case "crash":
		n, err := s.rt.Node(arg(d, "node", ""))
		if err != nil {
			return "", err
		}
		n.Crash()
		return s.flush(), nil
	case "tasks":
		return s.tasks(), nil
	case "recoveries":
		return s.recoveries(), nil
	case "verify":
		return s.verify(), nil
	}
	return "", fmt.Errorf("unknown command %q", d.Cmd)
}

func arg(d *datadriven.TestData, key, def string) string {
	for _, a := range d.CmdArgs {
		if a.Key == key && len(a.Vals) > 0 {
			return a.Vals[0]
		}
	}
	return def
}

// args parses a command's integer and duration arguments, keeping the first
// error.
type args struct {
	d   *datadriven.TestData
	err error
}

func (a *args) int(key string, def int64) int64 {
	v := arg(a.d, key, "")
	if v == "" || a.err != nil {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		a.err = fmt.Errorf("%s: %w", key, err)
	}
	return n
}

func (a *args) duration(key string, def sim.Duration) sim.Duration {
	v := arg(a.d, key, "")
	if v == "" || a.err != nil {
		return def
	}
	dur, err := sim.ParseDuration(v)
	if err != nil {
		a.err = fmt.Errorf("%s: %w", key, err)
	}
	return dur
}

// job builds and starts the script's job (scriptJob, scriptConfig) and prints
// its tasks and channels.
func (s *script) job(d *datadriven.TestData) (string, error) {
	cfg, err := scriptConfig(d)
	if err != nil {
		return "", err
	}
	a := &args{d: d}
	s.records = a.int("records", 200)
	seed := a.int("seed", 1)
	if a.err != nil {
		return "", a.err
	}
	j, err := scriptJob(d, s.records)
	if err != nil {
		return "", err
	}
	if s.rt != nil {
		s.rt.Close() // the script's job before this one
	}
	s.w, s.log, s.printed, s.seen = sim.NewWorld(uint64(seed)), nil, 0, watched{}
	if s.rt, err = engine.NewRuntime(s.w, j, cfg); err != nil {
		return "", err
	}
	s.subscribe()
	s.rt.Start()
	s.nameChannels()
	s.first = map[*engine.Task]bool{}
	for _, t := range s.rt.Tasks() {
		s.first[t] = true
	}
	return s.tasks() + s.channels(), nil
}

// scriptJob is sources src (two splits, one per subtask, records each, rate=
// records/s each or as fast as possible) rebalanced into map (one subtask,
// cost= per record) chained with the two-phase-commit sink out; regions=2 adds
// a second pipelined region, other -> b, that a region failover of the first
// leaves running.
func scriptJob(d *datadriven.TestData, records int64) (*engine.Job, error) {
	a := &args{d: d}
	cost := a.duration("cost", sim.Millisecond)
	j := engine.NewJob("script")
	j.Source("src", engine.SourceSpec{Splits: 2, Records: records, Rate: float64(a.int("rate", 0)), RecordSize: 256,
		Keys: engine.KeySpec{Count: 4}}).Parallelism(2).
		Rebalance().Map("map", nil).Parallelism(1).Cost(cost).
		Sink("out", engine.SinkSpec{Kind: engine.SinkTwoPhaseCommit})
	if a.int("regions", 1) == 2 {
		j.Source("other", engine.SourceSpec{Splits: 1, Records: records, Rate: 1000, RecordSize: 256, Keys: engine.KeySpec{Count: 4}}).
			Sink("b", engine.SinkSpec{Kind: engine.SinkTwoPhaseCommit})
	}
	return j, a.err
}

// scriptConfig is two workers with tiny network buffers (1 KiB, credits=
// exclusive per channel, no floating ones), latency= between nodes, protocol=
// with timeout= (aligned-checkpoint-timeout), checkpoints every interval= (0:
// only when the script triggers one) and failover= (region or full).
func scriptConfig(d *datadriven.TestData) (engine.Config, error) {
	p, err := checkpoint.Lookup(arg(d, "protocol", "aligned"))
	if err != nil {
		return engine.Config{}, err
	}
	a := &args{d: d}
	cfg := engine.Config{
		Workers:       2,
		BufferTimeout: sim.Millisecond,
		Net: sim.NetConfig{SegmentSize: 1024, ExclusivePerChannel: int(a.int("credits", 2)), FloatingPerGate: -1,
			Remote: sim.LinkConfig{Latency: a.duration("latency", 500*sim.Microsecond)}},
		Protocol:   p,
		Checkpoint: engine.CheckpointConfig{Interval: a.duration("interval", 0), AlignedTimeout: a.duration("timeout", 0)},
		Restart:    engine.RestartConfig{Failover: arg(d, "failover", "region")},
		Store:      sim.StoreConfig{Latency: sim.Millisecond, Bandwidth: 1 << 30},
	}
	return cfg, a.err
}

// nameChannels names every channel of the current attempt after its sender and
// its receiver's input channel number ("src[1]->map->out[0].in1").
func (s *script) nameChannels() {
	s.names = map[*sim.Channel]string{}
	for _, r := range s.rt.Tasks() {
		for i, ch := range r.InputChannelsForTest() {
			s.names[ch] = fmt.Sprintf("%s.in%d", r.Name(), i)
		}
	}
	for _, t := range s.rt.Tasks() {
		for _, ch := range t.OutputChannels() {
			if n, ok := s.names[ch]; ok {
				s.names[ch] = t.Name() + "->" + n
			}
		}
	}
}

func (s *script) chName(ch *sim.Channel) string {
	if n, ok := s.names[ch]; ok {
		return n
	}
	return fmt.Sprintf("channel %d", ch.ID())
}

func (s *script) note(e entry) {
	e.line = fmt.Sprintf("%s: %s", s.w.Now().Short(), e.line)
	s.log = append(s.log, e)
}

// flush returns the log lines not printed yet.
func (s *script) flush() string {
	var b strings.Builder
	for _, e := range s.log[s.printed:] {
		b.WriteString(e.line)
		b.WriteByte('\n')
	}
	s.printed = len(s.log)
	if b.Len() == 0 {
		return "ok\n"
	}
	return b.String()
}

// runUntil steps the world until a moment of the given kind (and task, channel
// receiver, checkpoint, when given) happened, or for a duration (for=10ms).
func (s *script) runUntil(d *datadriven.TestData) (string, error) {
	if arg(d, "for", "") != "" {
		a := &args{d: d}
		dur := a.duration("for", 0)
		if a.err != nil {
			return "", a.err
		}
		for until := s.w.Now().Add(dur); s.w.NextAt() <= until && !s.rt.Ended(); {
			s.step()
		}
		if d.HasArg("quiet") {
			return s.summary(), nil
		}
		return s.flush(), nil
	}
	a := &args{d: d}
	kind, task, ch, id := arg(d, "until", ""), arg(d, "task", ""), arg(d, "ch", ""), a.int("id", 0)
	if a.err != nil {
		return "", a.err
	}
	if !slices.Contains(kinds, kind) {
		return "", fmt.Errorf("run needs for=DURATION or until= one of %v", kinds)
	}
	limit := s.w.Now().Add(10 * sim.Second)
	from := len(s.log)
	for s.w.NextAt() <= limit && !s.rt.Ended() {
		s.step()
		for _, e := range s.log[from:] {
			if e.kind == kind && (task == "" || e.task == task) && (ch == "" || strings.HasSuffix(e.ch, "."+ch)) && (id == 0 || e.id == id) {
				return s.flush(), nil
			}
		}
		from = len(s.log)
	}
	return s.flush() + fmt.Sprintf("not reached by %s: %s\n", limit.Short(), kind), nil
}

// summary skips the log lines not printed yet and says where the run is: the
// checkpoints completed, the restarts, whether the job finished.
func (s *script) summary() string {
	n := 0
	for _, e := range s.log[s.printed:] {
		if e.kind == "completed" {
			n++
		}
	}
	s.printed = len(s.log)
	state := "running"
	if s.rt.Finished() {
		state = "finished"
	}
	latest := int64(0)
	if cp := s.rt.Coordinator().Latest(); cp != nil {
		latest = cp.ID
	}
	return fmt.Sprintf("%s: job %s, %d more checkpoints completed (latest %d), %d restarts\n", s.w.Now().Short(), state, n, latest, s.rt.Restarts())
}

// subscribe logs the moments of the run: a checkpoint's barriers, alignment and
// snapshots, its acknowledgements and completion, deployments and restores.
func (s *script) subscribe() {
	s.barrierHooks()
	s.completionHooks()
	s.restoreHooks()
}

func (s *script) barrierHooks() {
	h := &s.rt.Hooks
	h.OnCheckpointTriggered(func(id int64) {
		s.note(entry{kind: "trigger", id: id, line: fmt.Sprintf("coordinator triggers checkpoint %d", id)})
	})
	h.OnBarrierSent(func(t *engine.Task, ch *sim.Channel, id int64) {
		s.note(entry{kind: "barrier-sent", task: t.Name(), ch: s.chName(ch), id: id,
			line: fmt.Sprintf("%s sends barrier %d on %s", t.Name(), id, s.chName(ch))})
	})
	h.OnBarrierReceived(func(t *engine.Task, ch *sim.Channel, id int64) {
		s.note(entry{kind: "barrier-received", task: t.Name(), ch: s.chName(ch), id: id,
			line: fmt.Sprintf("%s takes barrier %d from %s", t.Name(), id, s.chName(ch))})
	})
	h.OnPhaseEnded(func(p engine.PhaseSpan) {
		if p.Phase != engine.PhaseAlignment {
			return
		}
		mode := "aligned"
		if p.Unaligned {
			mode = "unaligned"
		}
		s.note(entry{kind: "alignment", task: p.Task.Name(), id: p.Checkpoint,
			line: fmt.Sprintf("%s ends the alignment of checkpoint %d begun at %s: %s, %d B processed meanwhile",
				p.Task.Name(), p.Checkpoint, p.Start.Short(), mode, p.ProcessedBytes)})
	})
	h.OnSnapshotTaken(func(t *engine.Task, id int64) {
		mode := "aligned"
		for _, f := range t.InFlightForTest() {
			if f.Checkpoint == id && f.Unaligned {
				mode = "unaligned"
			}
		}
		if s.taken == nil {
			s.taken = map[string]bool{}
		}
		s.taken[fmt.Sprintf("%s %d", t.Name(), id)] = true
		s.note(entry{kind: "snapshot", task: t.Name(), id: id, line: fmt.Sprintf("%s snapshots checkpoint %d (%s)", t.Name(), id, mode)})
	})
}

func (s *script) completionHooks() {
	h := &s.rt.Hooks
	h.OnAckReceived(func(t *engine.Task, id int64) {
		s.note(entry{kind: "ack", task: t.Name(), id: id, line: fmt.Sprintf("coordinator has %s's acknowledgement of checkpoint %d", t.Name(), id)})
	})
	h.OnCheckpointCompleted(func(cp *engine.CompletedCheckpoint) bool {
		s.note(entry{kind: "completed", id: cp.ID, line: fmt.Sprintf("checkpoint %d completed", cp.ID)})
		return false
	})
}

// restoreHooks log each deployment and what each restored task replays.
func (s *script) restoreHooks() {
	h := &s.rt.Hooks
	h.OnDeployed(func(attempt int) {
		s.nameChannels()
		s.note(entry{kind: "deployed", line: fmt.Sprintf("attempt %d deployed", attempt)})
	})
	h.OnRestored(func(t *engine.Task, id int64, n int) {
		var b strings.Builder
		fmt.Fprintf(&b, "%s restores checkpoint %d, %d in-flight records to replay first", t.Name(), id, n)
		for _, r := range t.ReplayForTest() {
			if r.Output >= 0 {
				fmt.Fprintf(&b, "\n  output %d channel %d: %s", r.Output, r.Channel, records(r.Records))
			} else {
				fmt.Fprintf(&b, "\n  input channel %d: %s", r.Channel, records(r.Records))
			}
		}
		s.note(entry{kind: "restored", task: t.Name(), id: id, line: b.String()})
	})
}

// records prints records by source split and offset, runs of consecutive offsets
// of one split as a range: "s0:4-7 s1:0-3".
func records(recs []engine.Record) string {
	if len(recs) == 0 {
		return "-"
	}
	var parts []string
	for i := 0; i < len(recs); {
		j := i
		for j+1 < len(recs) && recs[j+1].Split == recs[i].Split && recs[j+1].Offset == recs[j].Offset+1 {
			j++
		}
		if j == i {
			parts = append(parts, fmt.Sprintf("s%d:%d", recs[i].Split, recs[i].Offset))
		} else {
			parts = append(parts, fmt.Sprintf("s%d:%d-%d", recs[i].Split, recs[i].Offset, recs[j].Offset))
		}
		i = j + 1
	}
	return strings.Join(parts, " ")
}
