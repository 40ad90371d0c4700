package engine

import (
	"reflect"
	"testing"
)

// TestSplitOrderedSinks: a split keeps its order along keyed and round-robin
// edges out of the one task that holds it, and along forward edges; it loses it
// once a keyed edge has spread it over several tasks and another non-forward edge
// merges them again.
func TestSplitOrderedSinks(t *testing.T) {
	src := func(j *Job, name string, par int) *Stream {
		return j.Source(name, SourceSpec{Splits: 4, Records: 10, Rate: 100, Keys: KeySpec{Count: 10}}).Parallelism(par)
	}
	sink := SinkSpec{Kind: SinkTwoPhaseCommit}
	for _, c := range []struct {
		name string
		job  func() *Job
		want map[string]bool
	}{
		{"fan-out, one sum task", func() *Job {
			j := NewJob("a")
			s := src(j, "src", 1).KeyBy().Sum("sum").Parallelism(1)
			s.Sink("out", sink)
			s.Rebalance().Sink("audit", sink).Parallelism(4)
			return j
		}, map[string]bool{"out": true, "audit": true}},
		{"fan-out, three sum tasks", func() *Job {
			j := NewJob("b")
			s := src(j, "src", 2).KeyBy().Sum("sum").Parallelism(3)
			s.Sink("out", sink)
			s.Rebalance().Sink("audit", sink).Parallelism(4)
			return j
		}, map[string]bool{"out": true, "audit": false}},
		{"union of two sources", func() *Job {
			j := NewJob("c")
			a, b := src(j, "a", 2), src(j, "b", 1)
			a.KeyBy().Union(b.KeyBy()).Count("count").Parallelism(2).Sink("out", sink)
			return j
		}, map[string]bool{"out": true}},
		{"keyed twice", func() *Job {
			j := NewJob("d")
			src(j, "src", 2).KeyBy().Sum("sum").Parallelism(2).KeyBy().Count("count").Parallelism(2).Sink("out", sink)
			return j
		}, map[string]bool{"out": false}},
	} {
		if got := c.job().SplitOrderedSinks(); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
