package scenarios

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/ckptsim/ckptsim/actions"
	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/faults"
	_ "github.com/ckptsim/ckptsim/protocol"        // registers the built-in protocols
	_ "github.com/ckptsim/ckptsim/protocol/mutant" // and the mutants (mutant/NAME)
	"github.com/ckptsim/ckptsim/sim"
)

// RunOptions tune one scenario run.
type RunOptions struct {
	// Seed overrides the scenario's seed when not 0.
	Seed uint64
	// CheckDeterminism runs the faulty run twice and checks the trace hashes agree.
	CheckDeterminism bool
	// CheckRestorePoints forks a fault-free run from completed checkpoints of the
	// faulty run (up to MaxRestorePoints of them, evenly spread) and checks each
	// reaches the reference's keyed state.
	CheckRestorePoints bool
	MaxRestorePoints   int
	// Observe, when set, receives the runtime of the run with faults once it ended
	// (for reports).
	Observe func(rt *engine.Runtime)
	// Attach, when set, receives the runtime of the run with faults before it
	// starts, to observe it while it runs (hooks, a sampler). What it attaches must
	// only observe: the run's trace hash stays the same.
	Attach func(rt *engine.Runtime)
	// FaultsMayNotFire counts a scheduled fault that never fired (coverage
	// "fault-not-fired") instead of failing the run's faults-fired check: for
	// generated schedules (explore, shrinking), where a fault after the job's end
	// is no mistake of the scenario.
	FaultsMayNotFire bool
	// ObserveFaults, when set, receives the faults injected into the run with
	// faults, in order, once it ended.
	ObserveFaults func(log []faults.Injected)
}

// ReplayCommand is the one-line command that reproduces a run exactly.
func ReplayCommand(scenario, protocol string, seed uint64, hash string) string {
	cmd := fmt.Sprintf("simrun replay %s --protocol %s --seed %d", scenario, protocol, seed)
	if hash != "" {
		cmd += " --expect-hash " + hash
	}
	return cmd
}

// Observation is what one run of a job leaves for the oracles: final keyed state
// per vertex, committed output per sink, the verifying sinks' counts, and the run's
// statistics.
type Observation struct {
	Runtime  *engine.Runtime
	Injector *faults.Injector
	Actions  *actions.Driver // nil without actions
	State    map[string][]engine.StateEntry
	Output   map[string]map[engine.Record]int
	Verify   map[string]engine.Verifier
	Finished bool
	Failed   bool
	Reason   string
	Hash     uint64
	Records  int64
}

// Execute runs a setup once, with or without its faults.
func Execute(setup *Setup, seed uint64, withFaults bool) (*Observation, error) {
	return execute(setup, seed, withFaults, nil)
}

// execute is Execute with an observer attached before the run starts.
func execute(setup *Setup, seed uint64, withFaults bool, attach func(*engine.Runtime)) (*Observation, error) {
	cfg := setup.Config
	p, err := setup.protocol()
	if err != nil {
		return nil, err
	}
	cfg.Protocol = p
	w := sim.NewWorld(seed)
	rt, err := engine.NewRuntime(w, setup.NewJob(), cfg)
	if err != nil {
		return nil, err
	}
	o := &Observation{Runtime: rt}
	if withFaults {
		if len(setup.Faults) > 0 {
			if o.Injector, err = faults.Install(rt, setup.Faults); err != nil {
				return nil, err
			}
		}
		for v, par := range setup.Rescale {
			rt.Rescale(v, par)
		}
		if len(setup.Actions) > 0 {
			if o.Actions, err = actions.Install(rt, setup.Actions); err != nil {
				return nil, err
			}
		}
	}
	if attach != nil {
		attach(rt)
	}
	runJob(rt, o.Actions, sim.Time(setup.Limit))
	o.Finished = rt.Finished()
	o.Failed, o.Reason = rt.Failed()
	o.Hash = w.TraceHash()
	o.State = map[string][]engine.StateEntry{}
	if st, err := stoppedState(rt); err != nil {
		return nil, err
	} else if st != nil {
		o.State = st
	}
	for _, v := range rt.Job().Vertices {
		if rt.StoppedWith() != nil || rt.Status() == engine.JobCancelled {
			break // the tasks are gone: a stopped job's state is its savepoint's
		}
		var entries []engine.StateEntry
		for _, t := range rt.TasksOf(v.Name) {
			if st := t.State(); st != nil && t.Chain[0] == v {
				entries = append(entries, st.Entries()...)
			}
		}
		if entries != nil {
			engine.SortEntries(entries)
			o.State[v.Name] = entries
		}
	}
	o.Output = map[string]map[engine.Record]int{}
	o.Verify = map[string]engine.Verifier{}
	for _, name := range rt.Sinks() {
		s := rt.Sink(name)
		m := map[engine.Record]int{}
		for _, r := range s.Committed() {
			m[normalize(r)]++
		}
		o.Output[name] = m
		o.Verify[name] = *s.Verifier()
	}
	for _, v := range rt.Job().Vertices {
		if v.Kind == engine.KindSource {
			for _, t := range rt.TasksOf(v.Name) {
				o.Records += t.Metrics().RecordsIn
			}
		}
	}
	return o, nil
}

// protocol is the protocol a setup runs: Config.Protocol when set, else the
// registered protocol named Protocol.
func (s *Setup) protocol() (checkpoint.Protocol, error) {
	if p := s.Config.Protocol; p != nil {
		if p.Name() != s.Protocol {
			return nil, fmt.Errorf("setup %q: protocol %q but Config.Protocol is %q", s.Name, s.Protocol, p.Name())
		}
		return p, nil
	}
	return checkpoint.Lookup(s.Protocol)
}

// WithProtocol returns a copy of the setup that runs protocol p (a value: it need
// not be registered).
func (s *Setup) WithProtocol(p checkpoint.Protocol) *Setup {
	c := *s
	c.Config.Protocol = p
	c.Protocol = p.Name()
	return &c
}

// Run runs a scenario under its protocol: a fault-free reference run, then the run
// with faults, and checks every oracle the protocol promises against the reference.
func Run(setup *Setup, opts RunOptions) (*Result, error) {
	start := time.Now() // wall time of the run, reported only: never part of the trace
	seed := setup.Seed
	if opts.Seed != 0 {
		seed = opts.Seed
	}
	p, err := setup.protocol()
	if err != nil {
		return nil, err
	}
	got, err := execute(setup, seed, true, opts.Attach)
	if err != nil {
		return nil, err
	}
	if opts.Observe != nil {
		opts.Observe(got.Runtime)
	}
	if opts.ObserveFaults != nil && got.Injector != nil {
		opts.ObserveFaults(got.Injector.Log())
	}
	var ref, full *Observation
	if setup.Bounded {
		if ref, err = reference(setup, seed, got); err != nil {
			return nil, err
		}
		full = ref
		if stopKind(got) == "drained" {
			if full, err = Execute(setup, seed, false); err != nil {
				return nil, err
			}
		}
	}
	res := &Result{Scenario: setup.Name, Protocol: setup.Protocol, Seed: seed, Expected: setup.Expect,
		TraceHash: fmt.Sprintf("%016x", got.Hash)}
	fill(res, got)
	g, why := checkedGuarantee(setup, p.Guarantee())
	res.Guarantee, res.GuaranteeNote = g.String(), why
	res.Checks = checks(setup, seed, guarantees{state: p.Guarantee(), output: g}, got, ref)
	fc, scheduled, notApplicable := faultsFiredCheck(setup, checkpoint.FamilyOf(p), got)
	if scheduled && (fc.OK || !opts.FaultsMayNotFire) {
		res.Checks = append(res.Checks, fc)
	} else if scheduled {
		res.Coverage = dedupe(append(res.Coverage, "fault-not-fired"))
	}
	if opts.CheckDeterminism {
		again, err := Execute(setup, seed, true)
		if err != nil {
			return nil, err
		}
		c := Check{Name: "determinism", OK: again.Hash == got.Hash}
		if !c.OK {
			c.Detail = fmt.Sprintf("same seed, trace hash %016x then %016x", got.Hash, again.Hash)
		}
		res.Checks = append(res.Checks, c)
	}
	if checkpoint.FamilyOf(p) == checkpoint.CommunicationInduced {
		res.Checks = append(res.Checks, uselessCheck(got))
	}
	if opts.CheckRestorePoints && ref != nil && p.Guarantee() == checkpoint.ExactlyOnce && checkpoint.FamilyOf(p) == checkpoint.Coordinated {
		res.Checks = append(res.Checks, restorePointsCheck(setup, seed, got, full, opts.MaxRestorePoints))
	}
	markNotChecked(setup, ref, res.Checks)
	res.Outcome = outcome(setup, got, res.Checks)
	res.OK = res.Outcome == setup.Expect
	if notApplicable && res.Outcome == OutcomePass {
		res.Outcome, res.OK = OutcomeNotApplicable, true
	}
	if setup.Expect == OutcomeJobFails || setup.Expect == OutcomeDetected {
		res.Checks = append(res.Checks, Check{Name: "expected-outcome", OK: res.OK,
			Detail: fmt.Sprintf("expected %s, got %s", setup.Expect, res.Outcome)})
	}
	res.Replay = ReplayCommand(setup.Name, setup.Protocol, seed, res.TraceHash)
	res.WallMS = float64(time.Since(start).Microseconds()) / 1000 // reported only, never traced
	return res, nil
}

// restorePointsCheck: every completed checkpoint is a valid restore point — a
// fault-free run started from it reaches the reference's keyed state.
func restorePointsCheck(setup *Setup, seed uint64, got, ref *Observation, max int) Check {
	c := Check{Name: "restore-points", OK: true}
	cps := restoreCandidates(got.Runtime)
	if max <= 0 {
		max = 3
	}
	step := 1
	if len(cps) > max {
		step = (len(cps) + max - 1) / max
	}
	n := 0
	for i := len(cps) - 1; i >= 0; i -= step {
		cp := got.Runtime.DurableCheckpoint(cps[i])
		// at the parallelism it was taken at: a checkpoint of a rescaled job
		o, err := Execute(forkWith(setup, cp, parallelismOf(setup, cp)), seed, false)
		n++
		if err != nil {
			c.OK, c.Detail = false, fmt.Sprintf("restore from checkpoint %d: %v", cp.ID, err)
			return c
		}
		if !o.Finished {
			c.OK, c.Detail = false, fmt.Sprintf("the run forked from checkpoint %d did not finish", cp.ID)
			return c
		}
		if d, full := stateDiff(ref.State, o.State); d != "" {
			c.OK, c.Diff = false, full
			c.Detail = fmt.Sprintf("the run forked from checkpoint %d ends with keyed state that differs from the reference: %s", cp.ID, d)
			return c
		}
	}
	c.Detail = fmt.Sprintf("%d of %d completed checkpoints and savepoints restored and reached the reference", n, len(cps))
	return c
}

// outcome classifies a run: the job failed for good, a check flagged a violation,
// or everything passed.
func outcome(setup *Setup, got *Observation, cs []Check) string {
	if faultsFiredFailed(cs) {
		return "check-failed" // neither survived nor detected: the fault never happened
	}
	if contractBroken(cs) {
		return "check-failed" // a broken protocol: neither the job's failure nor a detection
	}
	if got.Failed {
		return OutcomeJobFails
	}
	for _, c := range cs {
		if !c.OK {
			if setup.Expect == OutcomeDetected {
				return OutcomeDetected
			}
			return "check-failed"
		}
	}
	return OutcomePass
}

// checks evaluates the oracles. Exactly-once protocols: keyed state and committed
// output equal the reference, no duplicate, loss or reordering beyond the
// reference's. At-least-once: output is a superset of the reference. Always:
// liveness (a bounded job finishes; a checkpoint completes after the faults heal).
func checks(setup *Setup, seed uint64, g guarantees, got, ref *Observation) []Check {
	var cs []Check
	if c, broken := contractCheck(got, ref); broken {
		// the cause, alone: the other oracles would compare runs of a broken
		// protocol, and a job expected to fail did not fail for its reason
		return append(cs, c)
	}
	if setup.Expect == OutcomeJobFails {
		c := Check{Name: "job-fails", OK: got.Failed, Detail: got.Reason}
		if !got.Failed {
			c.Detail = "the job did not fail"
		}
		return append(cs, c)
	}
	ended := stopKind(got) // the job ended as its actions said
	live := Check{Name: "liveness", OK: !got.Failed && (!setup.Bounded || got.Finished || ended != "")}
	switch {
	case got.Failed:
		live.Detail = "job failed: " + got.Reason
	case ended != "":
		live.Detail = "the job ended " + ended + " by its actions"
	case setup.Bounded && !got.Finished:
		live.Detail = fmt.Sprintf("bounded job did not finish within %v", setup.Limit)
	}
	cs = append(cs, live)
	if got.Actions != nil {
		cs = append(cs, actionsCheck(got))
	}
	if c, ok := checkpointAfterHeal(setup, got); ok {
		cs = append(cs, c)
	}
	if ref == nil {
		return cs
	}
	if ended == "stopped" || ended == "cancelled" {
		return append(cs, stoppedChecks(setup, seed, g, got, ref)...)
	}
	if g.state == checkpoint.ExactlyOnce {
		cs = append(cs, stateCheck(ref, got))
	}
	cs = append(cs, outputCheck(ref, got, g.output != checkpoint.ExactlyOnce))
	cs = append(cs, verifierCheck(g.output, ref, got, len(setup.Rescale) == 0 && len(got.Runtime.Resubmissions()) == 0))
	return cs
}

func checkpointAfterHeal(setup *Setup, got *Observation) (Check, bool) {
	if setup.Config.Checkpoint.Interval <= 0 || got.Injector == nil {
		return Check{}, false
	}
	if got.Finished {
		// a finished job completed its final checkpoint after its last fault
		return Check{Name: "checkpoint-after-heal", OK: true, Detail: "the job finished"}, true
	}
	if k := stopKind(got); k != "" {
		return Check{Name: "checkpoint-after-heal", OK: true, Detail: "the job ended " + k + " by its actions"}, true
	}
	healed := got.Injector.HealedAt()
	for _, st := range got.Runtime.Coordinator().Stats() {
		if st.Status == engine.StatusCompleted && st.CompletedAt >= healed {
			return Check{Name: "checkpoint-after-heal", OK: true}, true
		}
	}
	return Check{Name: "checkpoint-after-heal", OK: false,
		Detail: fmt.Sprintf("no checkpoint completed after the faults healed at %s", healed.Short())}, true
}

func stateCheck(ref, got *Observation) Check {
	c := Check{Name: "exactly-once-state", OK: true}
	if d, full := stateDiff(ref.State, got.State); d != "" {
		c.OK, c.Diff = false, full
		c.Detail = "keyed state differs from the fault-free run: " + d
	}
	return c
}

// outputCheck compares committed outputs as multisets; with superset, records may
// appear more often than in the reference (at-least-once) but none may be missing.
func outputCheck(ref, got *Observation, superset bool) Check {
	name := "exactly-once-output"
	if superset {
		name = "at-least-once-output"
	}
	var missing, extra []string
	var dups int
	for _, sink := range sortedMapKeys(ref.Output) {
		want, have := ref.Output[sink], got.Output[sink]
		if superset {
			// replayed records inflate window counts and aggregates: at least once
			// promises every result is there, not its value
			want, have = withoutValues(want), withoutValues(have)
		}
		for _, r := range sortedRecords(want) {
			if have[r] < want[r] {
				missing = append(missing, fmt.Sprintf("%s: %s ×%d", sink, describeRecord(r), want[r]-have[r]))
			}
		}
		for _, r := range sortedRecords(have) {
			if have[r] > want[r] {
				if superset {
					dups += have[r] - want[r]
					continue
				}
				extra = append(extra, fmt.Sprintf("%s: %s ×%d", sink, describeRecord(r), have[r]-want[r]))
			}
		}
	}
	c := Check{Name: name, OK: len(missing) == 0 && len(extra) == 0}
	var b strings.Builder
	if len(missing) > 0 {
		fmt.Fprintf(&b, "%d records lost, e.g. %s", len(missing), strings.Join(first(missing, 5), "; "))
	}
	if len(extra) > 0 {
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%d records duplicated or unexpected, e.g. %s", len(extra), strings.Join(first(extra, 5), "; "))
	}
	if superset && c.OK {
		fmt.Fprintf(&b, "%d duplicates (allowed at least once)", dups)
	}
	c.Detail = b.String()
	return c
}

// verifierCheck compares the verifying sinks' counts with the reference's. Order is
// compared only when the run keeps the reference's topology (no rescale).
func verifierCheck(guarantee checkpoint.Guarantee, ref, got *Observation, order bool) Check {
	c := Check{Name: "verifying-sink", OK: true}
	var parts []string
	for _, sink := range sortedMapKeys(ref.Verify) {
		r, g := ref.Verify[sink], got.Verify[sink]
		parts = append(parts, fmt.Sprintf("%s: %d duplicates, %d out of order (reference %d, %d)", sink,
			g.Duplicates, g.OutOfOrder, r.Duplicates, r.OutOfOrder))
		// reordering is checked where the topology keeps per-split order (the
		// reference has none); elsewhere parallel channels interleave freely
		if guarantee == checkpoint.ExactlyOnce && (g.Duplicates != r.Duplicates || (order && r.OutOfOrder == 0 && g.OutOfOrder > 0)) {
			c.OK = false
		}
		if g.Unique() < r.Unique() {
			c.OK = false
			parts = append(parts, fmt.Sprintf("%s: %d source records lost", sink, r.Unique()-g.Unique()))
		}
	}
	c.Detail = strings.Join(parts, "; ")
	return c
}

func withoutValues(m map[engine.Record]int) map[engine.Record]int {
	out := make(map[engine.Record]int, len(m))
	for r, n := range m {
		r.Value = 0
		if out[r] < n {
			out[r] = n
		}
	}
	return out
}

// normalize keeps what an exactly-once run must reproduce of a committed record. A
// record derived from one source record is identified by its provenance, key and
// event time; its value may be a running aggregate, which depends on the order in
// which parallel channels interleave, so it is not compared (the keyed-state oracle
// compares the final aggregates). Window and join results are compared whole.
func normalize(r engine.Record) engine.Record {
	if r.Split >= 0 {
		r.Value = 0
	}
	return r
}

func describeRecord(r engine.Record) string {
	if r.Split < 0 {
		return fmt.Sprintf("{key %d value %d time %v}", r.Key, r.Value, r.Time)
	}
	return fmt.Sprintf("{split %d offset %d key %d value %d}", r.Split, r.Offset, r.Key, r.Value)
}

func first(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "\n..."
	}
	return s
}

func sortedMapKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func sortedRecords(m map[engine.Record]int) []engine.Record {
	out := make([]engine.Record, 0, len(m))
	for r := range m {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Split != b.Split {
			return a.Split < b.Split
		}
		if a.Offset != b.Offset {
			return a.Offset < b.Offset
		}
		if a.Key != b.Key {
			return a.Key < b.Key
		}
		if a.Value != b.Value {
			return a.Value < b.Value
		}
		return a.Time < b.Time
	})
	return out
}

// fill copies a run's metrics into the result.
func fill(res *Result, o *Observation) {
	rt := o.Runtime
	w := rt.World()
	res.SimTimeMS = w.Now().Seconds() * 1000
	res.Events = w.Fired()
	res.Records = o.Records
	var dur, align, delay, size, full, persisted []float64
	res.Checkpoints.InProgress = len(rt.Coordinator().InProgress())
	res.Checkpoints.Triggered = res.Checkpoints.InProgress
	for _, st := range rt.Coordinator().Stats() {
		res.Checkpoints.Triggered++
		switch st.Status {
		case engine.StatusLost:
			res.Checkpoints.Lost++
			continue
		case engine.StatusFailed:
			res.Checkpoints.Failed++
			continue
		}
		res.Checkpoints.Completed++
		if st.Savepoint != engine.NoSavepoint {
			continue // savepoints are summarised apart (fillSavepoints)
		}
		dur = append(dur, st.Duration.Milliseconds())
		size = append(size, float64(st.StateSize))
		full = append(full, float64(st.FullSize))
		persisted = append(persisted, float64(st.PersistedData))
		for _, sub := range st.Subtasks {
			align = append(align, sub.Alignment.Milliseconds())
			delay = append(delay, sub.StartDelay.Milliseconds())
		}
	}
	fillSavepoints(res, o)
	c := &res.Checkpoints
	c.DurationMS, c.AlignmentMS, c.StartDelayMS = summarize(dur), summarize(align), summarize(delay)
	c.CheckpointedBytes, c.FullBytes, c.PersistedInflightBytes = summarize(size), summarize(full), summarize(persisted)
	res.Failures = len(rt.Failures())
	res.Restarts = rt.Restarts()
	var rec, catchUp []float64
	for _, r := range rt.Recoveries() {
		if r.RestartedAt > 0 {
			rec = append(rec, r.RestartedAt.Sub(r.FailedAt).Milliseconds())
		}
		if r.CaughtUpAt > 0 {
			catchUp = append(catchUp, r.CaughtUpAt.Sub(r.FailedAt).Milliseconds())
		}
		res.ReprocessedRecords += r.Reprocessed
		if r.FromCheckpoint != 0 {
			res.Coverage = append(res.Coverage, "restore")
		}
		if r.WithChannelState {
			res.Coverage = append(res.Coverage, "restore-with-channel-state")
		}
		if r.Rescaled {
			res.Coverage = append(res.Coverage, "rescale")
		}
	}
	res.RecoveryMS, res.CatchUpMS = summarize(rec), summarize(catchUp)
	var sinkRecords int64
	var lat engine.Histogram
	for _, name := range rt.Sinks() {
		s := rt.Sink(name)
		sinkRecords += s.Verifier().Total
		lat.Merge(s.Latency())
	}
	var processed int64
	for _, v := range rt.Job().Vertices {
		if v.Kind == engine.KindSink {
			for _, t := range rt.TasksOf(v.Name) {
				processed += t.Metrics().RecordsIn
			}
		}
	}
	if secs := w.Now().Seconds(); secs > 0 {
		res.ThroughputRPS = float64(sinkRecords) / secs
		res.ProcessedRPS = float64(processed) / secs
	}
	res.LatencyMS = Summary{P50: lat.Quantile(0.5).Milliseconds(), P99: lat.Quantile(0.99).Milliseconds(), Max: lat.Max().Milliseconds()}
	fillCosts(res, rt)
	if o.Injector != nil {
		for _, f := range o.Injector.Log() {
			res.Faults = append(res.Faults, f.String())
		}
		res.Coverage = append(res.Coverage, sortedMapKeys(o.Injector.Reached)...)
	}
	for _, st := range rt.Coordinator().Stats() {
		if st.Failure == checkpoint.ReasonExpired {
			res.Coverage = append(res.Coverage, "checkpoint-timeout")
		}
		if st.Failure == checkpoint.ReasonSubsumed {
			res.Coverage = append(res.Coverage, "subsumed-checkpoint")
		}
	}
	res.Coverage = dedupe(res.Coverage)
}

func dedupe(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// summarize returns the median, 99th percentile and maximum of xs (zeros when
// empty).
func summarize(xs []float64) Summary {
	if len(xs) == 0 {
		return Summary{}
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	q := func(p float64) float64 { return s[int(p*float64(len(s)-1)+0.5)] }
	return Summary{P50: q(0.5), P99: q(0.99), Max: s[len(s)-1]}
}

// uselessCheck: a communication-induced protocol never takes a useless checkpoint
// (one on a Z-cycle, in no consistent global checkpoint). The runtime keeps every
// checkpoint taken along the execution that survived, checks it at each recovery
// and at the end of the run.
func uselessCheck(got *Observation) Check {
	found, checks := got.Runtime.UselessCheckpoints()
	c := Check{Name: "no-useless-checkpoints", OK: len(found) == 0}
	if c.OK {
		c.Detail = fmt.Sprintf("no checkpoint on a Z-cycle (%d checks)", checks)
		return c
	}
	c.Detail = fmt.Sprintf("%d useless checkpoints, e.g. %s", len(found), strings.Join(first(found, 3), "; "))
	return c
}
