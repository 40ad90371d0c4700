package scenarios

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/engine"
)

// oracles evaluates one run with faults against its fault-free reference.
type oracles struct {
	setup *Setup
	// refSetup is the setup whose fault-free run ref is: setup, or for a run its
	// actions drained, setup with its sources ending where the drain stopped them
	// (referenceSetup).
	refSetup *Setup
	seed     uint64
	g        guarantees   // what the state and the output oracles check
	got, ref *Observation // ref is nil for an unbounded job
	// verdictOnly skips replaying the runs to name records (see
	// RunOptions.verdictOnly).
	verdictOnly bool
}

// checks evaluates the oracles. Exactly-once protocols: keyed state and committed
// output equal the reference, no duplicate, loss or reordering beyond the
// reference's. At-least-once: output is a superset of the reference. Always:
// liveness (a bounded job finishes; a checkpoint completes after the faults heal).
func (o *oracles) checks() []Check {
	setup, got, ref := o.setup, o.got, o.ref
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
		return append(cs, o.stoppedChecks()...)
	}
	if o.g.state == checkpoint.ExactlyOnce {
		cs = append(cs, stateCheck(ref, got))
	}
	cs = append(cs, o.outputCheck(o.g.output != checkpoint.ExactlyOnce))
	var ordered map[string]bool // no sink keeps a split's order across a rescale
	if len(setup.Rescale) == 0 && len(got.Runtime.Resubmissions()) == 0 {
		ordered = got.Runtime.Job().SplitOrderedSinks()
	}
	cs = append(cs, verifierCheck(o.g.output, ref, got, ordered))
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

// outputCheck compares committed outputs with the reference's as multisets;
// with superset, records may appear more often than in the reference (at least
// once) but none may be missing. The digests decide when they can: equal digests
// of an exactly-once run pass, different ones fail; an at-least-once run passes
// when its digests show nothing but repeats of the reference's source records.
// Otherwise — to name the records of a failure, or to decide an at-least-once
// run whose repeats the digests cannot tell apart (replayed window results, say)
// — both runs are replayed keeping their committed records and compared record
// by record. Determinism makes the replays exact; their trace hashes are checked.
func (o *oracles) outputCheck(superset bool) Check {
	c, decided := digestOutputCheck(o.ref, o.got, superset)
	if decided && (c.OK || o.verdictOnly) {
		return c
	}
	got, ref, err := o.replayKeepingRecords()
	if err != nil {
		c.OK = false
		c.Detail += "; " + err.Error()
		return c
	}
	return recordOutputCheck(ref, got, superset)
}

// replayKeepingRecords returns the run with faults and its reference with every
// committed record kept: replayed, unless the run kept them already.
func (o *oracles) replayKeepingRecords() (got, ref *Observation, err error) {
	keep := observe{keep: true}
	if got = o.got; got.Output == nil {
		if got, err = execute(o.setup, o.seed, true, nil, keep); err != nil {
			return nil, nil, err
		}
		if got.Hash != o.got.Hash {
			return nil, nil, fmt.Errorf("the replay that names the records diverged: trace hash %016x, then %016x (a determinism bug)", o.got.Hash, got.Hash)
		}
	}
	if ref, err = runReference(o.refSetup, o.seed, keep); err != nil {
		return nil, nil, err
	}
	if ref.Hash != o.ref.Hash {
		return nil, nil, fmt.Errorf("the replay of the reference diverged: trace hash %016x, then %016x (a determinism bug)", o.ref.Hash, ref.Hash)
	}
	return got, ref, nil
}

// digestOutputCheck is outputCheck on the digests alone; decided is false when
// they cannot settle it.
func digestOutputCheck(ref, got *Observation, superset bool) (c Check, decided bool) {
	if superset {
		var dups int64
		for _, sink := range sortedMapKeys(ref.digests) {
			r, g := ref.digests[sink], got.digests[sink]
			// the first commit of each source record must be the reference's
			// output, with the same derived records: the rest are repeats
			if g == nil || r.repeats.N != 0 || r.derived != g.derived ||
				total(&g.perSplit).minus(g.repeats) != total(&r.perSplit) {
				return Check{Name: "at-least-once-output"}, false
			}
			dups += g.repeats.N
		}
		return Check{Name: "at-least-once-output", OK: true,
			Detail: fmt.Sprintf("%d duplicates (allowed at least once)", dups)}, true
	}
	c = Check{Name: "exactly-once-output", OK: true}
	var parts []string
	for _, sink := range sortedMapKeys(ref.digests) {
		r, g := ref.digests[sink], got.digests[sink]
		if g == nil {
			g = &outputDigest{}
		}
		if *r != *g {
			c.OK = false
			parts = append(parts, sink+": "+differingBuckets(r, g))
		}
	}
	if !c.OK {
		c.Detail = "committed output differs from the fault-free run's: " + strings.Join(parts, "; ")
	}
	return c, true
}

// recordOutputCheck compares committed outputs kept record by record.
func recordOutputCheck(ref, got *Observation, superset bool) Check {
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

// verifierCheck compares the verifying sinks' counts with the reference's. Order
// (per sink subtask) is compared only at the sinks in ordered: those whose
// subtasks receive each split over one path of FIFO channels
// (engine.Job.SplitOrderedSinks), in a run that keeps the reference's topology (no
// rescale).
func verifierCheck(guarantee checkpoint.Guarantee, ref, got *Observation, ordered map[string]bool) Check {
	c := Check{Name: "verifying-sink", OK: true}
	var parts []string
	for _, sink := range sortedMapKeys(ref.Verify) {
		r, g := ref.Verify[sink], got.Verify[sink]
		parts = append(parts, fmt.Sprintf("%s: %d duplicates, %d out of order (reference %d, %d)", sink,
			g.Duplicates, g.OutOfOrder, r.Duplicates, r.OutOfOrder))
		// reordering is checked where the topology keeps per-split order (and the
		// reference has none); elsewhere parallel channels interleave freely
		if guarantee == checkpoint.ExactlyOnce && (g.Duplicates != r.Duplicates || (ordered[sink] && r.OutOfOrder == 0 && g.OutOfOrder > 0)) {
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
