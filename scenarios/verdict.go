package scenarios

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/faults"
	"github.com/ckptsim/ckptsim/state"
)

// OutcomeNotApplicable: the scenario's fault cannot happen under the protocol
// (it waits for a phase of a coordinated checkpoint the protocol has no such
// thing as); nothing failed and nothing was tested. It counts as OK.
const OutcomeNotApplicable = "not-applicable"

// What makes a verdict true besides the oracles themselves: the guarantee a job
// can promise (its protocol and its sinks together), checks that had nothing to
// check said so rather than passed, scheduled faults that never fired, and state
// differences that read in a line.

// guarantees are what a run's oracles check: keyed state holds the protocol's
// guarantee; the output the protocol's and the sinks' together (checkedGuarantee).
type guarantees struct {
	state, output checkpoint.Guarantee
}

// checkedGuarantee is the guarantee the output oracles check: the protocol's, or
// at least once when a sink of the job writes records as they come (an
// at-least-once sink cannot take back what it wrote before a restore, whatever the
// barriers do). why says so; it is "" when the protocol's guarantee stands.
func checkedGuarantee(setup *Setup, protocol checkpoint.Guarantee) (checkpoint.Guarantee, string) {
	if protocol != checkpoint.ExactlyOnce {
		return protocol, ""
	}
	var sinks []string
	for _, v := range setup.NewJob().Vertices {
		if v.Kind == engine.KindSink && v.Sink.Kind == engine.SinkCollect {
			sinks = append(sinks, v.Name)
		}
	}
	if len(sinks) == 0 {
		return protocol, ""
	}
	sort.Strings(sinks)
	what := "sink " + sinks[0] + " is an at-least-once sink"
	if len(sinks) > 1 {
		what = "sinks " + strings.Join(sinks, ", ") + " are at-least-once sinks"
	}
	return checkpoint.AtLeastOnce, fmt.Sprintf("the protocol is exactly-once, but %s (it writes records as they come and "+
		"cannot take them back after a restore), so the output is checked at least once; keyed state still exactly once", what)
}

// offReason is why the oracles that rest on checkpoints check nothing in a run
// without checkpoints.
const offReason = "not checked: checkpointing is off (execution.checkpointing.interval: 0): " +
	"no checkpoint, so nothing the protocol promises happened"

// notCheckedWithoutCheckpoints are the oracles a run without checkpoints cannot
// satisfy in any meaningful way: they would compare empty outputs.
var notCheckedWithoutCheckpoints = map[string]bool{
	"exactly-once-state": true, "exactly-once-output": true, "verifying-sink": true, "restore-points": true,
}

// markNotChecked turns checks that had nothing to check into "not checked" ones
// (OK, so they fail nothing, but Skipped and saying why): every oracle that rests
// on checkpoints when checkpointing is off, and an output oracle when the
// fault-free run committed nothing to compare.
func markNotChecked(setup *Setup, ref *Observation, cs []Check) {
	off := setup.Config.Checkpoint.Interval <= 0
	nothing := ref != nil
	if ref != nil {
		for _, v := range ref.Verify {
			if v.Total > 0 {
				nothing = false
			}
		}
	}
	for i := range cs {
		c := &cs[i]
		output := c.Name == "exactly-once-output" || c.Name == "at-least-once-output"
		switch {
		case !c.OK:
		case off && notCheckedWithoutCheckpoints[c.Name]:
			c.Skipped, c.Detail = true, offReason
		case nothing && (output || c.Name == "verifying-sink"):
			c.Skipped, c.Detail = true, "not checked: the fault-free run committed no output, so there was nothing to compare"
		}
	}
}

// faultsFiredCheck fails a run one of whose scheduled faults never fired: a
// scenario whose fault never happens tests nothing of it, and passing it would say
// the fault was survived. Faults due after the job failed for good are not
// counted (there was nothing left to fault). A fault waiting for a phase of a
// coordinated checkpoint (checkpoint N's alignment, say) cannot fire under a
// protocol whose tasks checkpoint on their own: the check is then skipped and
// notApplicable set — the scenario does not apply to that protocol. ok is false
// for a run without a schedule.
func faultsFiredCheck(setup *Setup, family checkpoint.Family, got *Observation) (c Check, ok, notApplicable bool) {
	if len(setup.Faults) == 0 || got.Injector == nil {
		return Check{}, false, false
	}
	var unfired, phases []string
	for _, i := range got.Injector.Unfired() {
		f := setup.Faults[i]
		if got.Failed {
			continue
		}
		if f.When != nil && family != checkpoint.Coordinated && f.When.Phase != faults.PhaseRecovery && f.When.Phase != faults.StepRestored {
			phases = append(phases, string(f.When.Phase))
			continue
		}
		unfired = append(unfired, fmt.Sprintf("fault %d (%s)", i+1, f))
	}
	c = Check{Name: "faults-fired", OK: len(unfired) == 0}
	fired := len(setup.Faults) - len(got.Injector.Unfired())
	switch {
	case len(unfired) > 0:
		end := "the run ended at " + got.Runtime.World().Now().Short()
		if got.Finished {
			end = "the job finished at " + got.Runtime.World().Now().Short()
		}
		c.Detail = fmt.Sprintf("%s never fired: %s first; a fault that never happens is not survived, move it earlier or make the job longer",
			strings.Join(unfired, ", "), end)
	case len(phases) > 0:
		c.Skipped, notApplicable = true, true
		c.Detail = fmt.Sprintf("not applicable: the scenario's fault waits for a coordinated checkpoint's %s phase, which protocol %s "+
			"(%s: no barriers) never goes through", strings.Join(phases, ", "), setup.Protocol, family)
	case fired < len(setup.Faults):
		c.Detail = fmt.Sprintf("%d of %d scheduled faults fired; the rest were due after the job failed for good", fired, len(setup.Faults))
	default:
		c.Detail = "the scheduled fault fired"
		if len(setup.Faults) > 1 {
			c.Detail = fmt.Sprintf("all %d scheduled faults fired", len(setup.Faults))
		}
	}
	return c, true, notApplicable
}

// faultsFiredFailed reports whether the faults-fired check failed.
func faultsFiredFailed(cs []Check) bool {
	for _, c := range cs {
		if c.Name == "faults-fired" && !c.OK {
			return true
		}
	}
	return false
}

// maxDiffLines bounds the full state difference kept in a result.
const maxDiffLines = 100_000

// stateDiff compares two final keyed states, vertex by vertex, entry by entry (both
// sorted as state.SortEntries sorts them). detail says in a line how many entries
// differ and shows the first few; full lists every differing entry, one a line,
// for the result file. Both are "" when the states are equal.
func stateDiff(want, got map[string][]state.Entry) (detail, full string) {
	vertices := sortedMapKeys(want)
	for v := range got {
		if _, ok := want[v]; !ok {
			vertices = append(vertices, v)
		}
	}
	sort.Strings(vertices)
	var lines, first, counts []string
	total, entries := 0, 0
	for _, v := range vertices {
		w, g := want[v], got[v]
		entries += len(w)
		var missing, extra, changed int
		note := func(kind string, e state.Entry, text string) {
			line := fmt.Sprintf("%s: key %d (key group %d, namespace %d, sub %d): %s", v, e.Key, e.KeyGroup, e.NS, e.Sub, text)
			if len(first) < 3 {
				first = append(first, line)
			}
			if len(lines) < maxDiffLines {
				lines = append(lines, line)
			}
			switch kind {
			case "missing":
				missing++
			case "extra":
				extra++
			default:
				changed++
			}
		}
		i, j := 0, 0
		for i < len(w) || j < len(g) {
			switch c := compareEntries(w, g, i, j); {
			case c < 0:
				note("missing", w[i], fmt.Sprintf("want %d, missing", w[i].Value))
				i++
			case c > 0:
				note("extra", g[j], fmt.Sprintf("not in the reference, got %d", g[j].Value))
				j++
			default:
				if w[i].Value != g[j].Value {
					note("changed", w[i], fmt.Sprintf("want %d, got %d", w[i].Value, g[j].Value))
				}
				i++
				j++
			}
		}
		if n := missing + extra + changed; n > 0 {
			total += n
			counts = append(counts, fmt.Sprintf("%s: %d different, %d missing, %d extra", v, changed, missing, extra))
		}
	}
	if total == 0 {
		return "", ""
	}
	detail = fmt.Sprintf("%d of %d entries differ (%s); first: %s", total, entries, strings.Join(counts, "; "), strings.Join(first, "; "))
	if total > len(lines) {
		lines = append(lines, fmt.Sprintf("... and %d more", total-len(lines)))
	}
	return detail, strings.Join(lines, "\n")
}

// compareEntries orders entry i of a against entry j of b, an exhausted side last.
func compareEntries(a, b []state.Entry, i, j int) int {
	switch {
	case i >= len(a):
		return 1
	case j >= len(b):
		return -1
	}
	x, y := &a[i], &b[j]
	for _, d := range [...][2]int64{{int64(x.KeyGroup), int64(y.KeyGroup)}, {int64(x.NS), int64(y.NS)}} {
		if d[0] != d[1] {
			return cmpInt(d[0] < d[1])
		}
	}
	if x.Key != y.Key {
		return cmpInt(x.Key < y.Key)
	}
	if x.Sub != y.Sub {
		return cmpInt(x.Sub < y.Sub)
	}
	return 0
}

func cmpInt(less bool) int {
	if less {
		return -1
	}
	return 1
}
