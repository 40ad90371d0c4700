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
	"github.com/ckptsim/ckptsim/state"
)

// RunOptions tune one scenario run.
type RunOptions struct {
	// Seed overrides the scenario's seed when not 0.
	Seed uint64
	// CheckDeterminism runs the faulty run twice and checks the trace hashes agree.
	CheckDeterminism bool
	// CheckRestorePoints forks a fault-free run from completed checkpoints of the
	// faulty run (up to MaxRestorePoints of them, default 3, a sample chosen from
	// the seed) and checks each
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
	// References, when set, keeps fault-free reference runs for reuse by other
	// runs of the same job (under other protocols, or other fault schedules).
	References *ReferenceCache
	// verdictOnly skips what only explains a failure (replaying the runs to name
	// the records an output digest found lost or duplicated): for shrinking,
	// which only asks whether a check still fails.
	verdictOnly bool
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
// per vertex, each sink's committed output as a digest (and as a multiset of
// normalised records when the run kept them), the verifying sinks' counts, and
// the run's statistics.
type Observation struct {
	Runtime  *engine.Runtime
	Injector *faults.Injector
	Actions  *actions.Driver // nil without actions
	State    map[string][]state.Entry
	// Output is each sink's committed records, normalised, with their
	// multiplicities: only in a run that kept its records (a replay that names
	// what an oracle found lost or duplicated), nil otherwise.
	Output   map[string]map[engine.Record]int
	Verify   map[string]engine.Verifier
	Finished bool
	Failed   bool
	Reason   string
	Hash     uint64
	Records  int64
	// digests is each sink's committed output folded as it was committed, when
	// the run was observed for the output oracles.
	digests map[string]*outputDigest
	// restore is the sample of restore points the restore-points oracle forks
	// from, when the run was observed for it.
	restore *restoreSample
	// invariants is what engine.Runtime.CheckInvariants found during the run with
	// faults (checked at each checkpoint completion and each deployment), nil when
	// it was not checked.
	invariants *invariantLog
}

// observe says what a run collects for the oracles. A run without a reference
// (an unbounded job) needs none of it, and its memory stays flat however long it
// runs.
type observe struct {
	state   bool // final keyed state of every vertex
	outputs bool // each sink's output digest
	keep    bool // each sink's committed records (Observation.Output)
	// restorePoints > 0 samples that many completed checkpoints as they
	// complete, for the restore-points oracle (Observation.restore)
	restorePoints int
}

// Execute runs a setup once, with or without its faults, collecting keyed state
// and output digests.
func Execute(setup *Setup, seed uint64, withFaults bool) (*Observation, error) {
	return execute(setup, seed, withFaults, nil, observe{state: true, outputs: true})
}

// execute is Execute with an observer attached before the run starts and a
// choice of what to collect.
func execute(setup *Setup, seed uint64, withFaults bool, attach func(*engine.Runtime), obs observe) (*Observation, error) {
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
	defer rt.Close() // after the final state is read: pebble backends stop their goroutines
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
	if obs.outputs {
		o.digests = map[string]*outputDigest{}
		for _, name := range rt.Sinks() {
			d := &outputDigest{}
			o.digests[name] = d
			rt.Sink(name).ObserveCommits(d)
		}
	}
	if obs.keep {
		rt.KeepCommitted()
	}
	if obs.restorePoints > 0 {
		o.restore = newRestoreSample(seed, obs.restorePoints)
		o.restore.attach(rt)
	}
	if withFaults && checkpoint.FamilyOf(p) == checkpoint.Coordinated {
		o.invariants = watchInvariants(rt) // the invariants are coordinated checkpointing's
	}
	if attach != nil {
		attach(rt)
	}
	runJob(rt, o.Actions, sim.Time(setup.Limit))
	if o.invariants != nil {
		o.invariants.check(rt) // and once more at the end
	}
	o.Finished = rt.Finished()
	o.Failed, o.Reason = rt.Failed()
	o.Hash = w.TraceHash()
	if obs.state {
		if o.State, err = finalState(rt); err != nil {
			return nil, err
		}
	}
	o.Verify = map[string]engine.Verifier{}
	for _, name := range rt.Sinks() {
		s := rt.Sink(name)
		o.Verify[name] = *s.Verifier()
		if obs.keep {
			if o.Output == nil {
				o.Output = map[string]map[engine.Record]int{}
			}
			m := map[engine.Record]int{}
			for _, r := range s.Committed() {
				m[normalize(r)]++
			}
			o.Output[name] = m
		}
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

// finalState collects every vertex's keyed state, sorted, from the subtasks the
// vertex heads; a job stopped with a savepoint has its savepoint's (its tasks
// are gone), a cancelled one none.
func finalState(rt *engine.Runtime) (map[string][]state.Entry, error) {
	if st, err := stoppedState(rt); err != nil || st != nil {
		return st, err
	}
	all := map[string][]state.Entry{}
	if rt.Status() == engine.JobCancelled {
		return all, nil
	}
	for _, v := range rt.Job().Vertices {
		var entries []state.Entry
		for _, t := range rt.TasksOf(v.Name) {
			if st := t.State(); st != nil && t.Chain[0] == v {
				entries = append(entries, st.Entries()...)
			}
		}
		if entries != nil {
			state.SortEntries(entries)
			all[v.Name] = entries
		}
	}
	return all, nil
}

// Run runs a scenario under its protocol: the run with faults, then a fault-free
// reference run (of a bounded job only: an unbounded one has no end state to
// compare), and checks every oracle the protocol promises against the reference.
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
	bounded := setup.Bounded
	restorePoints := 0 // checkpoints to sample for the restore-points oracle
	if opts.CheckRestorePoints && bounded && p.Guarantee() == checkpoint.ExactlyOnce && checkpoint.FamilyOf(p) == checkpoint.Coordinated {
		restorePoints = opts.MaxRestorePoints
		if restorePoints <= 0 {
			restorePoints = defaultRestorePoints
		}
	}
	// a run its actions may end before its input does keeps its committed
	// records: what it committed so far is compared record by record
	// (stoppedChecks)
	got, err := execute(setup, seed, true, opts.Attach,
		observe{state: bounded, outputs: bounded, keep: bounded && endsEarly(setup.Actions), restorePoints: restorePoints})
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
	var refSetup *Setup
	if bounded {
		refSetup = referenceSetup(setup, got)
		if ref, err = reference(refSetup, seed, opts.References); err != nil {
			return nil, err
		}
		full = ref // what a restore point must reach: the whole input's end state
		if refSetup != setup {
			if full, err = reference(setup, seed, opts.References); err != nil {
				return nil, err
			}
		}
	}
	res := &Result{Scenario: setup.Name, Protocol: setup.Protocol, Seed: seed, Expected: setup.Expect,
		TraceHash: fmt.Sprintf("%016x", got.Hash)}
	fill(res, got)
	g, why := checkedGuarantee(setup, p.Guarantee())
	res.Guarantee, res.GuaranteeNote = g.String(), why
	o := &oracles{setup: setup, refSetup: refSetup, seed: seed, g: guarantees{state: p.Guarantee(), output: g}, got: got, ref: ref,
		verdictOnly: opts.verdictOnly}
	res.Checks = o.checks()
	fc, scheduled, notApplicable := faultsFiredCheck(setup, checkpoint.FamilyOf(p), got)
	if scheduled && (fc.OK || !opts.FaultsMayNotFire) {
		res.Checks = append(res.Checks, fc)
	} else if scheduled {
		res.Coverage = dedupe(append(res.Coverage, "fault-not-fired"))
	}
	res.Checks = append(res.Checks, got.invariants.result())
	if opts.CheckDeterminism {
		again, err := execute(setup, seed, true, nil, observe{})
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
	if got.restore != nil && ref != nil {
		res.Checks = append(res.Checks, restorePointsCheck(setup, seed, got, full))
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
	if res.WallMS > 0 {
		res.SimSecondsPerWallSecond = res.SimTimeMS / res.WallMS
	}
	return res, nil
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
	older := rt.Coordinator().OlderSubtasks() // a long run's older checkpoints, folded
	c.DurationMS = summarize(dur)
	c.AlignmentMS, c.StartDelayMS = summarizeWith(align, &older.Alignment), summarizeWith(delay, &older.StartDelay)
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
// summarizeWith summarises durations in milliseconds, xs, together with the
// durations folded into older: exactly when nothing was folded, else from a
// histogram of both (within about 6%, engine.Histogram).
func summarizeWith(xs []float64, older *engine.Histogram) Summary {
	if older.Count() == 0 {
		return summarize(xs)
	}
	h := *older
	for _, x := range xs {
		h.Record(sim.Duration(x * float64(sim.Millisecond)))
	}
	ms := func(d sim.Duration) float64 { return d.Milliseconds() }
	return Summary{P50: ms(h.Quantile(0.5)), P99: ms(h.Quantile(0.99)), Max: ms(h.Max())}
}

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
