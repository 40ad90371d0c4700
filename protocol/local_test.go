package protocol

import (
	"fmt"
	"github.com/ckptsim/ckptsim/checkpoint"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/ckptsim/ckptsim/protocol/localcheck"
	"github.com/ckptsim/ckptsim/sim"
)

// localDriver feeds one local handler for the step-by-step scripts in
// testdata/local/. Commands:
//
//	new protocol=uncoordinated|cic task=I tasks=N [outputs=a,b] [inputs=c] interval=D [seed=S]
//	start now=T | timer now=T | finish now=T
//	send ch=C                       the stamp of a message on output channel C
//	recv ch=C now=T [lc=L ckpt=a,b,c taken=011 greater=010]   a message arrives
//	state | save
type localDriver struct {
	h checkpoint.LocalHandler
	n int
}

func TestLocalHandlers(t *testing.T) {
	datadriven.Walk(t, "testdata/local", func(t *testing.T, path string) {
		d := &localDriver{}
		datadriven.RunTest(t, path, func(t *testing.T, td *datadriven.TestData) string {
			out, err := d.run(t, td)
			if err != nil {
				return "error: " + err.Error() + "\n"
			}
			return out
		})
	})
}

func ints(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f == "" {
			continue
		}
		n, _ := strconv.Atoi(f)
		out = append(out, n)
	}
	return out
}

func (d *localDriver) run(t *testing.T, td *datadriven.TestData) (string, error) {
	now := func() sim.Time {
		var s string
		td.ScanArgs(t, "now", &s)
		v, err := sim.ParseDuration(s)
		if err != nil {
			t.Fatalf("now=%s: %v", s, err)
		}
		return sim.Time(v)
	}
	switch td.Cmd {
	case "new":
		var proto, interval, outs, ins string
		var task, tasks int
		seed := uint64(1)
		td.ScanArgs(t, "protocol", &proto)
		td.ScanArgs(t, "task", &task)
		td.ScanArgs(t, "tasks", &tasks)
		td.ScanArgs(t, "interval", &interval)
		td.MaybeScanArgs(t, "outputs", &outs)
		td.MaybeScanArgs(t, "inputs", &ins)
		td.MaybeScanArgs(t, "seed", &seed)
		iv, err := sim.ParseDuration(interval)
		if err != nil {
			return "", err
		}
		cfg := checkpoint.LocalConfig{Task: task, Tasks: tasks, Outputs: ints(outs), Inputs: ints(ins), Interval: iv, Seed: seed}
		switch proto {
		case "uncoordinated":
			d.h = Uncoordinated{}.NewLocal(cfg)
		case "cic":
			d.h = CIC{}.NewLocal(cfg)
		default:
			return "", fmt.Errorf("unknown local protocol %q", proto)
		}
		d.n = tasks
		return "ok\n", nil
	case "start":
		return actions(d.h.Start(now(), nil)), nil
	case "timer":
		return actions(d.h.Timer(now(), nil)), nil
	case "finish":
		return actions(d.h.Finished(now(), nil)), nil
	case "send":
		var ch int
		td.ScanArgs(t, "ch", &ch)
		return describeStamp(d.h.Stamp(ch, nil), d.n), nil
	case "recv":
		var ch int
		td.ScanArgs(t, "ch", &ch)
		var words []uint64
		if td.HasArg("lc") {
			var lc int64
			var ckpt, taken, greater string
			td.ScanArgs(t, "lc", &lc)
			td.ScanArgs(t, "ckpt", &ckpt)
			td.ScanArgs(t, "taken", &taken)
			td.ScanArgs(t, "greater", &greater)
			c := make([]int64, 0, d.n)
			for _, v := range ints(ckpt) {
				c = append(c, int64(v))
			}
			if len(c) != d.n || len(taken) != d.n || len(greater) != d.n {
				return "", fmt.Errorf("recv: vectors need %d entries", d.n)
			}
			words = encode(nil, lc, c, bitsOf(taken), bitsOf(greater))
		}
		return actions(d.h.Receive(ch, words, now(), nil)), nil
	case "state":
		if s, ok := d.h.(fmt.Stringer); ok {
			return s.String() + "\n", nil
		}
		return "no state\n", nil
	case "save":
		return describeStamp(d.h.Save(nil), d.n), nil
	}
	return "", fmt.Errorf("unknown command %q", td.Cmd)
}

func bitsOf(s string) []bool {
	b := make([]bool, len(s))
	for i := range s {
		b[i] = s[i] == '1'
	}
	return b
}

func actions(acts []checkpoint.LocalAction) string {
	if len(acts) == 0 {
		return "nothing\n"
	}
	var b strings.Builder
	for _, a := range acts {
		b.WriteString(a.String() + "\n")
	}
	return b.String()
}

func describeStamp(words []uint64, n int) string {
	if len(words) == 0 {
		return "no stamp\n"
	}
	s := stamp{ckpt: make([]int64, n), taken: make([]bool, n), greater: make([]bool, n)}
	if !decode(words, &s, n) {
		return fmt.Sprintf("bad stamp %v\n", words)
	}
	bits := func(b []bool) string {
		out := make([]byte, len(b))
		for i, v := range b {
			out[i] = '0'
			if v {
				out[i] = '1'
			}
		}
		return string(out)
	}
	return fmt.Sprintf("stamp lc=%d ckpt=%v taken=%s greater=%s (%d bytes)\n", s.lc, s.ckpt, bits(s.taken), bits(s.greater), 8*len(words))
}

// TestCICNoUselessCheckpoints runs HMNR on random topologies, cycles included, and
// random schedules: no checkpoint may lie on a Z-cycle. Uncoordinated
// checkpointing, run on the same schedules, must take useless ones (the test would
// prove nothing otherwise).
func TestCICNoUselessCheckpoints(t *testing.T) {
	cic := func(cfg checkpoint.LocalConfig) checkpoint.LocalHandler { return CIC{}.NewLocal(cfg) }
	unc := func(cfg checkpoint.LocalConfig) checkpoint.LocalHandler { return Uncoordinated{}.NewLocal(cfg) }
	uncUseless := 0
	for seed := uint64(1); seed <= 3000; seed++ {
		c := localcheck.Random(seed)
		if ns := localcheck.Useless(c, cic); len(ns) > 0 {
			small := localcheck.Shrink(c, func(c localcheck.Case) bool { return len(localcheck.Useless(c, cic)) > 0 })
			t.Fatalf("seed %d: cic took useless checkpoints %v; shrunk: %v", seed, ns, small)
		}
		if len(localcheck.Useless(c, unc)) > 0 {
			uncUseless++
		}
	}
	if uncUseless == 0 {
		t.Fatal("uncoordinated took no useless checkpoint in 3000 runs: the schedules cannot tell")
	}
	t.Logf("uncoordinated took useless checkpoints in %d of 3000 runs", uncUseless)
}

// TestCICSkippingForcedCheckpointIsCaught checks that HMNR without its second
// forcing condition (mutant/cic-skip-forced) takes useless checkpoints, found and
// shrunk to a short schedule.
func TestCICSkippingForcedCheckpointIsCaught(t *testing.T) {
	c, ok := localcheck.FirstUseless(3000, func(cfg checkpoint.LocalConfig) checkpoint.LocalHandler { return NewHMNR(cfg, false) })
	if !ok {
		t.Fatal("no useless checkpoint in 3000 runs of HMNR without its taken[] condition")
	}
	t.Logf("caught: %v", c)
	if len(c.Events) > 12 {
		t.Fatalf("shrunk schedule still has %d events", len(c.Events))
	}
}
