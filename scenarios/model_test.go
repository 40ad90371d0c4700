package scenarios

import (
	"testing"

	"github.com/ckptsim/ckptsim/sim"
)

// The benchmark's model: two exchanges, each holding a 64-buffer gate and a
// 64-buffer output pool of 4 KiB per consumer, draining at 1000 records/s of 1 KiB.
func TestAlignedModelOfTheBenchmark(t *testing.T) {
	cases := []struct {
		scenario string
		want     sim.Duration
	}{
		{"flink-checkpointing-benchmark-1ms", 1024 * sim.Millisecond},
		{"flink-checkpointing-benchmark-10ms", 10240 * sim.Millisecond},
		// 64 B records at 1000/s: 19.2 kB per gate of 64 buffers, 300 B each; the
		// gate and the producers' pools hold 128 of them per exchange.
		{"flink-checkpointing-benchmark-1ms-debloat", 1200 * sim.Millisecond},
	}
	for _, c := range cases {
		sc, err := Lookup(c.scenario)
		if err != nil {
			t.Fatal(err)
		}
		st, err := sc.Setup("aligned")
		if err != nil {
			t.Fatal(err)
		}
		m, err := st.AlignedModel()
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Exchanges) != 2 || m.Bottleneck != "sink" || !m.Backpressured {
			t.Fatalf("%s: model %+v", c.scenario, m)
		}
		if d := m.Aligned - c.want; d < -5*sim.Millisecond || d > 5*sim.Millisecond {
			t.Fatalf("%s: aligned model %v, want %v (%s)", c.scenario, m.Aligned, c.want, m)
		}
		if m.Debloat != (m.TargetModel == 600*sim.Millisecond) {
			t.Fatalf("%s: Flink's debloat model %v", c.scenario, m.TargetModel)
		}
	}
}

// A job whose source is slower than every operator is not backpressured.
func TestAlignedModelWithoutBackpressure(t *testing.T) {
	sc, err := Lookup("steady")
	if err != nil {
		t.Fatal(err)
	}
	st, err := sc.Setup("aligned")
	if err != nil {
		t.Fatal(err)
	}
	m, err := st.AlignedModel()
	if err != nil {
		t.Fatal(err)
	}
	if m.Backpressured || m.Aligned != 0 || m.Bottleneck != "orders" {
		t.Fatalf("model %+v: want no backpressure at the source", m)
	}
}
