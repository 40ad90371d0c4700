// Package faults describes the faults ckptsim injects into a run — crashes,
// partitions, latency spikes, stragglers, storage outages, disk errors, sink commit
// failures and one assumption-breaking fault (FIFO violation) — schedules them by
// simulated time or by events of the run, and generates random schedules for swarm
// testing.
package faults

import (
	"fmt"

	"github.com/ckptsim/ckptsim/sim"
)

// Kind is a kind of fault.
type Kind string

// Fault kinds.
const (
	CrashTask         Kind = "crash-task"          // fail one task (its attempt restarts)
	CrashWorker       Kind = "crash-worker"        // crash a worker node; restart it after RestartAfter
	CrashCoordinator  Kind = "crash-coordinator"   // crash the job manager; restart it after RestartAfter
	Partition         Kind = "partition"           // cut the network between two nodes for For
	LatencySpike      Kind = "latency-spike"       // add Extra latency between two nodes for For
	Straggler         Kind = "straggler"           // slow a task's CPU by Factor for For
	StorageOutage     Kind = "storage-outage"      // checkpoint store fails every operation for For
	StorageSlow       Kind = "storage-slow"        // checkpoint store is Factor times slower for For
	DiskErrors        Kind = "disk-errors"         // a worker's disk fails operations with Probability for For
	SinkCommitFailure Kind = "sink-commit-failure" // the next Count sink commits fail (transient)
	FIFOViolation     Kind = "fifo-violation"      // reorder buffers on one channel (breaks an assumption)
	CrashStore        Kind = "crash-store"         // the checkpoint store crashes: operations in flight fail, and every operation fails for For
)

// Kinds lists every fault kind.
var Kinds = []Kind{CrashTask, CrashWorker, CrashCoordinator, Partition, LatencySpike, Straggler,
	StorageOutage, StorageSlow, DiskErrors, SinkCommitFailure, FIFOViolation, CrashStore}

// Phase is a moment of a checkpoint's life at which an event-triggered fault fires.
type Phase string

// Phases a fault can be triggered by.
const (
	// PhaseAlignment: the target task received a first barrier of the checkpoint
	// and is still aligning.
	PhaseAlignment Phase = "alignment"
	// PhaseAfterSync: the target task finished the synchronous snapshot; its upload
	// is not durable yet.
	PhaseAfterSync Phase = "after-sync"
	// PhasePreCommit: a sink pre-committed the checkpoint's transaction; it is not
	// committed yet.
	PhasePreCommit Phase = "pre-commit"
	// PhaseRecovery: a restarted attempt is deployed and has not replayed its input
	// channel state yet.
	PhaseRecovery Phase = "recovery"
	// PhaseAfterComplete: the checkpoint completed; the tasks were not notified yet.
	PhaseAfterComplete Phase = "after-complete"
	// PhaseMetadata: every task acknowledged the checkpoint and the coordinator is
	// writing its metadata to the checkpoint store; it completes when the write is
	// durable (a store crash now fails it).
	PhaseMetadata Phase = "metadata"
)

// Steps of a checkpoint's life, one event each: the crash points an exhaustive
// search tries (the phases above are the moments random schedules aim at).
const (
	// StepTriggered: the coordinator triggered the checkpoint.
	StepTriggered Phase = "triggered"
	// StepBarrier: the target task took a barrier of the checkpoint from one of its
	// input channels (Nth counts them).
	StepBarrier Phase = "barrier"
	// StepUploaded: the target task's snapshot upload is durable (or, for a task
	// that acknowledges early, it acknowledged): the acknowledgement is on its way.
	StepUploaded Phase = "uploaded"
	// StepAcknowledged: the coordinator accepted the target task's acknowledgement.
	StepAcknowledged Phase = "acknowledged"
	// StepNotified: the target task processed the notification that the checkpoint
	// completed (its two-phase-commit sinks committed).
	StepNotified Phase = "notified"
	// StepRestored: the target task of a new attempt restored its part of the
	// checkpoint (Nth counts restores across attempts).
	StepRestored Phase = "restored"
)

// Phases lists the checkpoint-phase triggers; random schedules draw from them.
var Phases = []Phase{PhaseAlignment, PhaseAfterSync, PhasePreCommit, PhaseRecovery, PhaseAfterComplete, PhaseMetadata}

// Steps lists the step triggers; with Phases they are every phase a When may name.
var Steps = []Phase{StepTriggered, StepBarrier, StepUploaded, StepAcknowledged, StepNotified, StepRestored}

// AllPhases lists every phase a When may name: Phases, then Steps.
func AllPhases() []Phase { return append(append([]Phase(nil), Phases...), Steps...) }

// When triggers a fault on an event of the run instead of at a time.
type When struct {
	Checkpoint int64 // the checkpoint id (0: the first one that reaches the phase)
	// Savepoint, when set, targets the Nth savepoint triggered (1: the first)
	// instead of a checkpoint id.
	Savepoint int
	Phase     Phase  // the moment
	Task      string // the task that must reach it, e.g. "totals[1]" (empty: any)
	// Attempt restricts recovery triggers to one deployment (0: the first restart).
	Attempt int
	// Nth fires the fault at the Nth event that matches (0 and 1: the first), e.g.
	// the third barrier a task takes of a checkpoint.
	Nth int
}

// Spec is one fault of a schedule.
type Spec struct {
	Kind Kind
	// At is when the fault starts, in simulated time since the start of the run;
	// used when When is nil.
	At   sim.Duration
	When *When
	// Task targets crash-task, straggler and fifo-violation (a task name such as
	// "map[2]"); Worker targets crash-worker and disk-errors ("worker-1").
	Task   string
	Worker string
	// Between names the two nodes of a partition or latency spike.
	Between [2]string
	// For is how long a fault lasts before it heals (0: a default per kind).
	For sim.Duration
	// RestartAfter is how long a crashed worker or coordinator stays down.
	RestartAfter sim.Duration
	// Factor is a straggler's slowdown or the store's slowness (> 1).
	Factor float64
	// Extra is the latency a spike adds.
	Extra sim.Duration
	// Count is how many sink commits fail.
	Count int
	// Probability is the chance an operation on a faulty disk fails.
	Probability float64
}

// Schedule is the faults of one run.
type Schedule []Spec

// Validate checks one fault's fields for its kind, independent of any job.
func (s *Spec) Validate() error {
	known := false
	for _, k := range Kinds {
		if s.Kind == k {
			known = true
		}
	}
	if !known {
		return fmt.Errorf("unknown fault kind %q (known: %v)", s.Kind, Kinds)
	}
	if s.At < 0 || s.For < 0 || s.RestartAfter < 0 || s.Extra < 0 {
		return fmt.Errorf("%s: durations must not be negative", s.Kind)
	}
	if s.When != nil {
		ok := false
		for _, p := range AllPhases() {
			if s.When.Phase == p {
				ok = true
			}
		}
		if !ok {
			return fmt.Errorf("%s: unknown trigger phase %q (known: %v)", s.Kind, s.When.Phase, AllPhases())
		}
		if s.When.Checkpoint < 0 || s.When.Savepoint < 0 {
			return fmt.Errorf("%s: checkpoint and savepoint must not be negative", s.Kind)
		}
		if s.When.Checkpoint != 0 && s.When.Savepoint != 0 {
			return fmt.Errorf("%s: a trigger names a checkpoint or a savepoint, not both", s.Kind)
		}
		if s.When.Nth < 0 {
			return fmt.Errorf("%s: nth must not be negative", s.Kind)
		}
	}
	switch s.Kind {
	case CrashTask, Straggler, FIFOViolation:
		if s.Task == "" && (s.When == nil || s.When.Task == "") {
			return fmt.Errorf("%s needs a task", s.Kind)
		}
	case Partition, LatencySpike:
		if s.Between[0] == "" || s.Between[1] == "" || s.Between[0] == s.Between[1] {
			return fmt.Errorf("%s needs two different nodes in between", s.Kind)
		}
	}
	switch s.Kind {
	case Straggler, StorageSlow:
		if s.Factor != 0 && s.Factor < 1 {
			return fmt.Errorf("%s: factor must be at least 1, got %v", s.Kind, s.Factor)
		}
	case DiskErrors:
		if s.Probability < 0 || s.Probability > 1 {
			return fmt.Errorf("%s: probability must be within [0, 1], got %v", s.Kind, s.Probability)
		}
	case SinkCommitFailure:
		if s.Count < 0 {
			return fmt.Errorf("%s: count must not be negative", s.Kind)
		}
	}
	return nil
}

// Validate checks every fault of the schedule.
func (sc Schedule) Validate() error {
	for i := range sc {
		if err := sc[i].Validate(); err != nil {
			return fmt.Errorf("fault %d: %w", i+1, err)
		}
	}
	return nil
}

// ordinal spells n as 1st, 2nd, 3rd, 4th, ...
func ordinal(n int) string {
	suffix := "th"
	switch n % 10 {
	case 1:
		suffix = "st"
	case 2:
		suffix = "nd"
	case 3:
		suffix = "rd"
	}
	if n%100 >= 11 && n%100 <= 13 {
		suffix = "th"
	}
	return fmt.Sprintf("%d%s", n, suffix)
}
