package protocol

import (
	"fmt"
	"github.com/ckptsim/ckptsim/checkpoint"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/ckptsim/ckptsim/checkpoint/recoveryline"
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

// processEvent is one step of a run of a few processes exchanging messages over
// FIFO channels: send on a channel, deliver a channel's oldest message, or fire a
// process's timer.
type processEvent struct {
	kind string // send, deliver, timer
	arg  int    // channel or process
}

func (e processEvent) String() string { return fmt.Sprintf("%s %d", e.kind, e.arg) }

// runProcesses runs events over n processes and channels with the handler newH
// makes, and returns the checkpoints of each process and its final state: the
// history a recovery or the useless-checkpoint check sees.
func runProcesses(n int, chans [][2]int, events []processEvent, newH func(checkpoint.LocalConfig) checkpoint.LocalHandler) *recoveryline.History {
	h := &recoveryline.History{Points: make([][]recoveryline.Point, n), Current: make([]*recoveryline.Point, n)}
	outs, ins := make([][]int, n), make([][]int, n) // peer of each output / input channel
	for _, c := range chans {
		h.Channels = append(h.Channels, recoveryline.Channel{From: c[0], Out: len(outs[c[0]]), To: c[1], In: len(ins[c[1]])})
		outs[c[0]] = append(outs[c[0]], c[1])
		ins[c[1]] = append(ins[c[1]], c[0])
	}
	cur := make([]recoveryline.Point, n)
	hs := make([]checkpoint.LocalHandler, n)
	for i := range hs {
		cur[i] = recoveryline.Point{Sent: make([]int64, len(outs[i])), Processed: make([]int64, len(ins[i]))}
		h.Points[i] = []recoveryline.Point{clonePoint(cur[i], 0)}
		hs[i] = newH(checkpoint.LocalConfig{Task: i, Tasks: n, Outputs: outs[i], Inputs: ins[i], Interval: sim.Second, Seed: uint64(i)})
		hs[i].Start(0, nil)
	}
	queues := make([][][]uint64, len(chans))
	now := sim.Time(0)
	take := func(i int, acts []checkpoint.LocalAction) {
		for _, a := range acts {
			if a.Kind == checkpoint.LocalCheckpoint {
				h.Points[i] = append(h.Points[i], clonePoint(cur[i], int64(len(h.Points[i]))))
			}
		}
	}
	for _, e := range events {
		now = now.Add(10 * sim.Second) // every timer is due
		switch e.kind {
		case "send":
			c := h.Channels[e.arg%len(chans)]
			queues[e.arg%len(chans)] = append(queues[e.arg%len(chans)], hs[c.From].Stamp(c.Out, nil))
			cur[c.From].Sent[c.Out]++
		case "deliver":
			ci := e.arg % len(chans)
			if len(queues[ci]) == 0 {
				continue
			}
			c := h.Channels[ci]
			m := queues[ci][0]
			queues[ci] = queues[ci][1:]
			take(c.To, hs[c.To].Receive(c.In, m, now, nil))
			cur[c.To].Processed[c.In]++
		case "timer":
			i := e.arg % n
			take(i, hs[i].Timer(now, nil))
		}
	}
	for i := range cur {
		p := clonePoint(cur[i], -1)
		h.Current[i] = &p
	}
	return h
}

func clonePoint(p recoveryline.Point, id int64) recoveryline.Point {
	return recoveryline.Point{ID: id, Sent: append([]int64(nil), p.Sent...), Processed: append([]int64(nil), p.Processed...)}
}

// randomRun draws a topology (cycles allowed) and a schedule from seed.
func randomRun(seed uint64) (int, [][2]int, []processEvent) {
	r := sim.NewRand(seed, "processes")
	n := 2 + r.IntN(3)
	var chans [][2]int
	for k := 1 + r.IntN(6); k > 0; k-- {
		a, b := r.IntN(n), r.IntN(n)
		if a != b {
			chans = append(chans, [2]int{a, b})
		}
	}
	if len(chans) == 0 {
		chans = [][2]int{{0, 1}, {1, 0}}
	}
	var evs []processEvent
	for k := 5 + r.IntN(40); k > 0; k-- {
		kind := []string{"send", "send", "deliver", "deliver", "timer"}[r.IntN(5)]
		evs = append(evs, processEvent{kind: kind, arg: r.IntN(8)})
	}
	return n, chans, evs
}

func uselessOf(n int, chans [][2]int, evs []processEvent, newH func(checkpoint.LocalConfig) checkpoint.LocalHandler) []recoveryline.Node {
	ns, err := recoveryline.Useless(runProcesses(n, chans, evs, newH))
	if err != nil {
		panic(err)
	}
	return ns
}

// shrinkEvents removes events one at a time while the run still has a useless
// checkpoint.
func shrinkEvents(n int, chans [][2]int, evs []processEvent, newH func(checkpoint.LocalConfig) checkpoint.LocalHandler) []processEvent {
	for i := 0; i < len(evs); {
		cand := append(append([]processEvent(nil), evs[:i]...), evs[i+1:]...)
		if len(uselessOf(n, chans, cand, newH)) > 0 {
			evs = cand
			continue
		}
		i++
	}
	return evs
}

// TestCICNoUselessCheckpoints runs HMNR on random topologies, cycles included, and
// random schedules: no checkpoint may lie on a Z-cycle. Uncoordinated
// checkpointing, run on the same schedules, must take useless ones (the test would
// prove nothing otherwise).
func TestCICNoUselessCheckpoints(t *testing.T) {
	cic := func(cfg checkpoint.LocalConfig) checkpoint.LocalHandler { return CIC{}.NewLocal(cfg) }
	unc := func(cfg checkpoint.LocalConfig) checkpoint.LocalHandler { return Uncoordinated{}.NewLocal(cfg) }
	uncUseless := 0
	for seed := uint64(1); seed <= 2000; seed++ {
		n, chans, evs := randomRun(seed)
		if ns := uselessOf(n, chans, evs, cic); len(ns) > 0 {
			t.Fatalf("seed %d: cic took useless checkpoints %v; shrunk schedule over channels %v: %v", seed, ns, chans,
				shrinkEvents(n, chans, evs, cic))
		}
		if len(uselessOf(n, chans, evs, unc)) > 0 {
			uncUseless++
		}
	}
	if uncUseless == 0 {
		t.Fatal("uncoordinated took no useless checkpoint in 2000 runs: the schedules cannot tell")
	}
	t.Logf("uncoordinated took useless checkpoints in %d of 2000 runs", uncUseless)
}

// TestCICSkippingForcedCheckpointIsCaught checks that HMNR without its second
// forcing condition (the mutant mutant/cic-skip-forced) takes useless checkpoints,
// found and shrunk to a short schedule.
func TestCICSkippingForcedCheckpointIsCaught(t *testing.T) {
	broken := func(cfg checkpoint.LocalConfig) checkpoint.LocalHandler { return NewHMNR(cfg, false) }
	for seed := uint64(1); seed <= 2000; seed++ {
		n, chans, evs := randomRun(seed)
		if len(uselessOf(n, chans, evs, broken)) == 0 {
			continue
		}
		small := shrinkEvents(n, chans, evs, broken)
		t.Logf("seed %d: %d processes, channels %v, shrunk from %d to %d events: %v", seed, n, chans, len(evs), len(small), small)
		if len(small) > 12 {
			t.Fatalf("shrunk schedule still has %d events", len(small))
		}
		return
	}
	t.Fatal("no useless checkpoint found in 2000 runs of HMNR without its taken[] condition")
}
