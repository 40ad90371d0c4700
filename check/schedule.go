package check

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/faults"
	"github.com/ckptsim/ckptsim/protocol"
	"github.com/ckptsim/ckptsim/scenarios"
	"github.com/ckptsim/ckptsim/sim"
)

// ScheduleCase is a case decoded from bytes, as a fuzzer mutates them: a job and a
// configuration from explore's random family, and a fault schedule of its own.
type ScheduleCase struct {
	// Seed is the random case whose job and configuration the case runs.
	Seed  uint64
	Setup *scenarios.Setup
}

func (c *ScheduleCase) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "random case %d (%s) under %s, %d fault(s)", c.Seed, c.Setup.Name, c.Setup.Protocol, len(c.Setup.Faults))
	for _, s := range c.Setup.Faults {
		fmt.Fprintf(&b, "\n    %s", s)
	}
	return b.String()
}

// The layout of the bytes: 8 bytes of seed (the job and the configuration), one
// byte choosing the protocol when none is given, then up to maxFaults faults of
// faultBytes each. Missing bytes read as zero; extra ones are ignored.
const (
	headerBytes = 9
	faultBytes  = 6
	maxFaults   = 8
)

// fuzzKinds are the faults a correct protocol must survive, as explore draws them,
// and a crash of the checkpoint store.
var fuzzKinds = []faults.Kind{faults.CrashTask, faults.CrashWorker, faults.CrashCoordinator, faults.Partition,
	faults.LatencySpike, faults.Straggler, faults.StorageOutage, faults.StorageSlow, faults.SinkCommitFailure, faults.CrashStore}

// correct are the protocols a case draws from when none is given.
var correct = []string{protocol.AlignedName, protocol.UnalignedName, protocol.HybridName, protocol.AtLeastOnceName}

// DecodeSchedule turns bytes into a case under protocol p (nil: a built-in correct
// protocol chosen by the bytes). Every input decodes to a valid case: the fuzzer
// explores schedules, not parse errors.
func DecodeSchedule(data []byte, p checkpoint.Protocol) (*ScheduleCase, error) {
	head := make([]byte, headerBytes)
	copy(head, data)
	seed := binary.LittleEndian.Uint64(head)
	name := correct[int(head[8])%len(correct)]
	if p != nil {
		name = p.Name()
	}
	rc, err := scenarios.NewRandomCase(seed, name)
	if err != nil {
		return nil, err
	}
	setup := rc.Setup
	if p != nil {
		setup = setup.WithProtocol(p)
	}
	targets, err := targetsOf(setup)
	if err != nil {
		return nil, err
	}
	var sched faults.Schedule
	rest := data[min(len(data), headerBytes):]
	for i := 0; i+faultBytes <= len(rest) && len(sched) < maxFaults; i += faultBytes {
		sched = append(sched, decodeFault(rest[i:i+faultBytes], targets))
	}
	try := *setup
	try.Faults = sched
	try.Actions = nil // the bytes choose the faults; savepoint actions are explore's (they would move the moments)
	return &ScheduleCase{Seed: seed, Setup: &try}, nil
}

// decodeFault reads one fault: b[0] its kind (high bit: triggered by an event
// rather than at a time), b[1] its target, b[2:4] when, b[4] how long it lasts
// and b[5] its strength. A time is b[2:4] as a fraction of the first two seconds;
// a trigger is the phase b[2] (of faults.AllPhases) for checkpoint 1 + b[3]&7 mod 5,
// its 1 + (b[3]>>3)&3 th occurrence, at task b[5] when b[3]&0x20 is set.
func decodeFault(b []byte, t targets) faults.Spec {
	s := faults.Spec{Kind: fuzzKinds[int(b[0]&0x7f)%len(fuzzKinds)]}
	pick := func(xs []string) string { return xs[int(b[1])%len(xs)] }
	dur := sim.Duration(100+int(b[4])*8) * sim.Millisecond // 100 ms to 2.1 s
	if b[0]&0x80 != 0 {
		phases := faults.AllPhases()
		s.When = &faults.When{Phase: phases[int(b[2])%len(phases)], Checkpoint: 1 + int64(b[3]&7)%5, Nth: 1 + int(b[3]>>3)&3}
		if s.When.Nth == 1 {
			s.When.Nth = 0
		}
		switch s.When.Phase {
		case faults.PhaseRecovery, faults.PhaseAfterComplete, faults.StepTriggered: // the coordinator's
		case faults.PhaseAlignment, faults.StepBarrier: // only tasks with input channels take barriers
			if b[3]&0x20 != 0 && len(t.inner) > 0 {
				s.When.Task = t.inner[int(b[5])%len(t.inner)]
			}
		default:
			if b[3]&0x20 != 0 {
				s.When.Task = t.Tasks[int(b[5])%len(t.Tasks)]
			}
		}
	} else {
		s.At = sim.Duration(uint16(b[2])|uint16(b[3])<<8) * (2 * sim.Second) / 65536
	}
	switch s.Kind {
	case faults.CrashTask, faults.Straggler:
		s.Task = pick(t.Tasks)
		s.Factor, s.For = 2+float64(b[5]%9), dur
	case faults.CrashWorker:
		s.Worker, s.RestartAfter = pick(t.Workers), dur
	case faults.CrashCoordinator:
		s.RestartAfter = dur
	case faults.Partition, faults.LatencySpike:
		nodes := append(append([]string(nil), t.Workers...), "jobmanager")
		a := int(b[1]) % len(nodes)
		s.Between = [2]string{nodes[a], nodes[(a+1+int(b[5])%(len(nodes)-1))%len(nodes)]}
		s.For, s.Extra = dur, sim.Duration(10+int(b[5])*2)*sim.Millisecond
	case faults.StorageOutage, faults.CrashStore:
		s.For = dur
	case faults.StorageSlow:
		s.For, s.Factor = dur, 2+float64(b[5]%19)
	case faults.SinkCommitFailure:
		s.Count = 1 + int(b[5])%5
	}
	return s
}

// targets are what a decoded fault can aim at: faults.Targets, and the tasks
// that have input channels (not sources), which alone take barriers.
type targets struct {
	faults.Targets
	inner []string
}

// targetsOf lists the tasks and workers of a setup's job.
func targetsOf(setup *scenarios.Setup) (targets, error) {
	rt, err := engine.NewRuntime(sim.NewWorld(1), setup.NewJob(), setup.Config)
	if err != nil {
		return targets{}, err
	}
	var t targets
	for _, task := range rt.Tasks() {
		t.Tasks = append(t.Tasks, task.Name())
		if task.Chain[0].Kind != engine.KindSource {
			t.inner = append(t.inner, task.Name())
		}
	}
	for _, w := range rt.Workers() {
		t.Workers = append(t.Workers, w.Name())
	}
	return t, nil
}

// CheckSchedule runs a decoded case under every oracle (twice, for the trace
// hash) and returns the first check that failed, or nil.
func CheckSchedule(c *ScheduleCase) *scenarios.Check {
	res, err := scenarios.RunRecovered(c.Setup, scenarios.RunOptions{CheckDeterminism: true, CheckRestorePoints: true, MaxRestorePoints: 2,
		FaultsMayNotFire: true}) // a decoded fault may come after the end
	if err != nil {
		return &scenarios.Check{Name: checkOf(err), Detail: err.Error()}
	}
	for _, ch := range res.Checks {
		if !ch.OK {
			return &ch
		}
	}
	if !res.OK {
		return &scenarios.Check{Name: "outcome", Detail: fmt.Sprintf("expected %s, got %s", res.Expected, res.Outcome)}
	}
	return nil
}

// Fuzz is a fuzz target body for protocol p (nil: the built-in correct ones,
// chosen by the input): every input is a random job and configuration with a
// fault schedule of the fuzzer's making, and any failed oracle fails the input.
//
//	func FuzzMyProtocol(f *testing.F) { check.Fuzz(f, myprotocol.Protocol{}) }
func Fuzz(f *testing.F, p checkpoint.Protocol) {
	for _, seed := range SeedInputs() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := DecodeSchedule(data, p)
		if err != nil {
			t.Skipf("not a case: %v", err) // the family could not build this job
		}
		if ch := CheckSchedule(c); ch != nil {
			t.Fatalf("%s\nfailed %s: %s", c, ch.Name, clip(ch.Detail, 2000))
		}
	})
}

// SeedInputs are inputs that each reach a moment protocols get wrong: a worker
// crash at a barrier, a store crash while snapshots upload, a coordinator crash
// right after a completion, a crash during a restore, a crash at a task's second
// barrier with a storage outage after it, and a narrow cyclic loop (one select
// task for two join subtasks, the family's draw of the cyclic-narrow-loop
// scenario's shape, where only HMNR's second forcing condition keeps select's
// checkpoints off Z-cycles) with a worker crash at a join subtask's second
// barrier. (Under a protocol that refuses cycles that last case is not cyclic.)
func SeedInputs() [][]byte {
	in := func(seed uint64, proto byte, fs ...[faultBytes]byte) []byte {
		b := binary.LittleEndian.AppendUint64(nil, seed)
		b = append(b, proto)
		for _, f := range fs {
			b = append(b, f[:]...)
		}
		return b
	}
	index := func(kind faults.Kind) byte {
		for i, k := range fuzzKinds {
			if k == kind {
				return byte(i)
			}
		}
		panic("check: unknown fuzz kind " + string(kind))
	}
	// trig is a fault of kind at the nth occurrence of phase for checkpoint cp,
	// at task index task when withTask
	trig := func(kind faults.Kind, phase faults.Phase, cp, nth int, target, task byte, withTask bool) [faultBytes]byte {
		ph := 0
		for i, x := range faults.AllPhases() {
			if x == phase {
				ph = i
			}
		}
		w := byte(cp-1) | byte(nth-1)<<3
		if withTask {
			w |= 0x20
		}
		return [faultBytes]byte{0x80 | index(kind), target, byte(ph), w, 60, task}
	}
	at := func(kind faults.Kind, target byte, frac uint16, length, strength byte) [faultBytes]byte {
		return [faultBytes]byte{index(kind), target, byte(frac), byte(frac >> 8), length, strength}
	}
	return [][]byte{
		in(1, 0),
		in(7, 0, trig(faults.CrashWorker, faults.StepBarrier, 2, 1, 0, 0, true)),
		in(3, 1, trig(faults.CrashStore, faults.StepUploaded, 2, 1, 0, 0, false)),
		in(4, 2, trig(faults.CrashCoordinator, faults.PhaseAfterComplete, 1, 1, 0, 0, false)),
		in(5, 3, trig(faults.CrashWorker, faults.PhaseAfterComplete, 2, 1, 0, 0, false), trig(faults.CrashWorker, faults.StepRestored, 2, 1, 1, 0, false)),
		in(6, 0, trig(faults.CrashWorker, faults.StepBarrier, 1, 2, 1, 1, true), at(faults.StorageOutage, 0, 0x8000, 40, 0)),
		in(12428145863178527403, 0, trig(faults.CrashWorker, faults.StepBarrier, 2, 1, 0, 0, true)),
	}
}
