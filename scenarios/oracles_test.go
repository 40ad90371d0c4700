package scenarios

import (
	"strings"
	"testing"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/protocol"
	"github.com/ckptsim/ckptsim/sim"
)

// sinkBugMutant is aligned checkpointing over an external store with a bug: it
// loses or duplicates the first derived record it commits. Registered for these
// tests only.
type sinkBugMutant struct {
	protocol.Aligned
	name string
	mut  checkpoint.Mutation
}

func (m sinkBugMutant) Name() string                  { return m.name }
func (m sinkBugMutant) Mutation() checkpoint.Mutation { return m.mut }

func init() {
	checkpoint.Register(sinkBugMutant{name: "test/sink-loses-derived", mut: checkpoint.Mutation{SinkLosesDerived: true}})
	checkpoint.Register(sinkBugMutant{name: "test/sink-duplicates-derived", mut: checkpoint.Mutation{SinkDuplicatesDerived: true}})
}

// windowCase is the first explore case of the window shape, without faults.
func windowCase(t *testing.T, protocol string) *Setup {
	t.Helper()
	for i := 0; i < 100; i++ {
		c, err := NewRandomCase(CaseSeed(1, i), protocol)
		if err != nil {
			t.Fatal(err)
		}
		if c.Shape == "window" {
			c.Setup.Faults, c.Setup.Rescale = nil, nil
			return c.Setup
		}
	}
	t.Fatal("no window case in 100 seeds")
	return nil
}

// firstDerived is the first derived record the reference commits to sink out.
func firstDerived(t *testing.T, setup *Setup) engine.Record {
	t.Helper()
	o, err := runReference(setup, setup.Seed, observe{keep: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range o.Runtime.Sink("out").Committed() {
		if r.Split < 0 {
			return r
		}
	}
	t.Fatal("the reference committed no derived record")
	return engine.Record{}
}

// TestStreamingOracleNamesLostAndDuplicatedRecord: a sink that loses one derived
// record, or commits it twice, fails exactly-once-output, and the failure names
// that record (the digests differ; the replay keeping records names it).
func TestStreamingOracleNamesLostAndDuplicatedRecord(t *testing.T) {
	for _, tc := range []struct{ protocol, want string }{
		{"test/sink-loses-derived", "1 records lost, e.g. out: "},
		{"test/sink-duplicates-derived", "1 records duplicated or unexpected, e.g. out: "},
	} {
		t.Run(tc.protocol, func(t *testing.T) {
			setup := windowCase(t, tc.protocol)
			rec := firstDerived(t, setup)
			res, err := Run(setup, RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			c := findCheck(t, res, "exactly-once-output")
			if c.OK {
				t.Fatalf("the bug was not caught: %+v", res.Checks)
			}
			want := tc.want + describeRecord(normalize(rec)) + " ×1"
			if c.Detail != want {
				t.Fatalf("detail\n  %s\nwant\n  %s", c.Detail, want)
			}
			// shrinking asks only for the verdict: the digests give it, with the key groups
			res, err = Run(setup, RunOptions{verdictOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			c = findCheck(t, res, "exactly-once-output")
			bucket := "key groups " + bucketRange(keyBucket(rec.Key))
			if c.OK || !strings.Contains(c.Detail, "derived records of "+bucket) {
				t.Fatalf("verdict-only detail %q does not name %s", c.Detail, bucket)
			}
		})
	}
}

func findCheck(t *testing.T, res *Result, name string) Check {
	t.Helper()
	for _, c := range res.Checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no check %s in %+v", name, res.Checks)
	return Check{}
}

// TestOutputDigest: the digest ignores commit order and normalised values, and
// tells a lost, a duplicated and a changed record apart from the reference.
func TestOutputDigest(t *testing.T) {
	recs := []engine.Record{
		{Key: 1, Value: 10, Time: 5, Split: 0, Offset: 0, Size: 8},
		{Key: 2, Value: 11, Time: 6, Split: 0, Offset: 1, Size: 8},
		{Key: 1, Value: 99, Time: 9, Split: -1, Offset: 100, Size: 16},
	}
	digest := func(rs ...engine.Record) *outputDigest {
		d := &outputDigest{}
		var v engine.Verifier
		for i := range rs {
			d.ObserveCommit(&rs[i], v.Observe(&rs[i]))
		}
		return d
	}
	want := digest(recs...)
	running := recs[1]
	running.Value = 12 // a running aggregate's value is not compared
	if got := digest(recs[2], running, recs[0]); *got != *want {
		t.Fatal("the digest depends on commit order or on a per-split record's value")
	}
	changed := recs[2]
	changed.Value = 98 // a window result's value is
	for name, got := range map[string]*outputDigest{
		"lost":       digest(recs[0], recs[2]),
		"duplicated": digest(recs[0], recs[1], recs[1], recs[2]),
		"changed":    digest(recs[0], recs[1], changed),
	} {
		if *got == *want {
			t.Errorf("%s: the digest did not change", name)
		}
	}
	if dup := digest(recs[0], recs[1], recs[1], recs[2]); total(&dup.perSplit).minus(dup.repeats) != total(&want.perSplit) {
		t.Error("without its repeats, a duplicated source record's digest is not the reference's")
	}
}

// TestAtLeastOnceDigestDecides: an at-least-once run whose only difference from
// the reference is repeated source records passes on the digests; a lost record
// leaves them undecided (the records are then compared one by one).
func TestAtLeastOnceDigestDecides(t *testing.T) {
	r0 := engine.Record{Key: 3, Split: 1, Offset: 0}
	r1 := engine.Record{Key: 4, Split: 1, Offset: 1}
	obs := func(rs ...engine.Record) *Observation {
		d := &outputDigest{}
		var v engine.Verifier
		for i := range rs {
			d.ObserveCommit(&rs[i], v.Observe(&rs[i]))
		}
		return &Observation{digests: map[string]*outputDigest{"out": d}}
	}
	ref := obs(r0, r1)
	c, decided := digestOutputCheck(ref, obs(r0, r1, r0, r1, r1), true)
	if !decided || !c.OK || c.Detail != "3 duplicates (allowed at least once)" {
		t.Fatalf("repeats only: decided %v, %+v", decided, c)
	}
	if _, decided := digestOutputCheck(ref, obs(r0, r0), true); decided {
		t.Fatal("a lost record was decided on the digests")
	}
}

// TestReferenceCache: the protocols of one scenario share one reference, runs
// from the cache give the same results as without it, and a different
// configuration is a different reference.
func TestReferenceCache(t *testing.T) {
	sc, err := Lookup("crash-during-alignment")
	if err != nil {
		t.Fatal(err)
	}
	refs := NewReferenceCache(8)
	for _, p := range []string{"aligned", "unaligned"} {
		setup, err := sc.Setup(p)
		if err != nil {
			t.Fatal(err)
		}
		cached, err := Run(setup, RunOptions{References: refs})
		if err != nil {
			t.Fatal(err)
		}
		plain, err := Run(setup, RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cached.WallMS, plain.WallMS = 0, 0
		if a, b := resultText(cached), resultText(plain); a != b {
			t.Fatalf("%s: the cached reference changed the result:\n%s\n%s", p, a, b)
		}
	}
	if n := len(refs.entries); n != 1 {
		t.Fatalf("aligned and unaligned of one scenario keep %d references, want 1", n)
	}
	setup, _ := sc.Setup("aligned")
	other := *setup
	other.Config.Checkpoint.Interval += sim.Millisecond
	k1, _ := referenceKey(setup, 1)
	k2, _ := referenceKey(&other, 1)
	k3, _ := referenceKey(setup, 2)
	if k1 == k2 || k1 == k3 {
		t.Fatal("a different interval or seed has the same reference key")
	}
	if _, ok := referenceKey(&Setup{NewJob: setup.NewJob}, 1); ok {
		t.Fatal("a setup built by hand is cached")
	}
}

func resultText(r *Result) string {
	var b strings.Builder
	for _, c := range r.Checks {
		b.WriteString(c.Name + " " + c.Detail + "\n")
	}
	return r.TraceHash + "\n" + b.String()
}
