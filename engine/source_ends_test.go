package engine

import (
	"testing"

	"github.com/ckptsim/ckptsim/sim"
)

// TestSourceEnds: Config.SourceEnds cuts split logs short, bounded and unbounded
// ones, rate-limited or not: the sink sees exactly offsets [0, end) of each split
// and the job finishes.
func TestSourceEnds(t *testing.T) {
	for _, c := range []struct {
		name    string
		records int64
		rate    float64
	}{{"bounded", 400, 0}, {"unbounded", 0, 0}, {"rate-limited", 400, 5000}} {
		t.Run(c.name, func(t *testing.T) {
			j := NewJob("ends")
			j.Source("src", SourceSpec{Splits: 4, Records: c.records, Rate: c.rate}).Parallelism(2).
				Rebalance().Sink("out", SinkSpec{})
			ends := map[int32]int64{0: 10, 1: 0, 2: 250, 3: 1000} // split 3 ends at its records first
			want := map[int32]int64{0: 10, 1: 0, 2: 250, 3: c.records}
			if c.records == 0 {
				ends[3] = 30
				want[3] = 30
			}
			rt := mustRun(t, 3, j, Config{SourceEnds: ends}, sim.Time(10*sim.Minute))
			if !rt.Finished() {
				t.Fatalf("job did not finish; failures: %v", rt.Failures())
			}
			v := rt.Sink("out").Verifier()
			var total int64
			for sp, n := range want {
				total += n
				if v.Lost([]int32{sp}, n) != 0 || v.Seen(sp, n) {
					t.Errorf("split %d: want offsets [0, %d) exactly", sp, n)
				}
			}
			if v.Total != total || v.Duplicates != 0 {
				t.Errorf("sink saw %d records (%d duplicates), want %d", v.Total, v.Duplicates, total)
			}
		})
	}
}
