package engine

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/ckptsim/ckptsim/sim"
)

// Retention is execution.checkpointing.externalized-checkpoint-retention: which
// checkpoints outlive the job, so that a new job can start from them.
type Retention string

// Retention policies, as Flink's ExternalizedCheckpointRetention.
const (
	// NoExternalizedCheckpoints (the default): no checkpoint outlives the job.
	NoExternalizedCheckpoints Retention = "NO_EXTERNALIZED_CHECKPOINTS"
	// DeleteOnCancellation keeps the latest checkpoint when the job fails for
	// good, not when it is cancelled.
	DeleteOnCancellation Retention = "DELETE_ON_CANCELLATION"
	// RetainOnCancellation keeps it when the job is cancelled or fails for good.
	RetainOnCancellation Retention = "RETAIN_ON_CANCELLATION"
)

// JobStatus is the state of the job, as Flink's job statuses.
type JobStatus string

// Job statuses.
const (
	JobRunning   JobStatus = "RUNNING" // running or restarting
	JobFinished  JobStatus = "FINISHED"
	JobCancelled JobStatus = "CANCELED"
	JobFailed    JobStatus = "FAILED"
)

// lifecycle is how the current job ended and how jobs were started again from
// savepoints and retained checkpoints.
type lifecycle struct {
	stoppedWith   *CompletedCheckpoint // the savepoint the job stopped with
	cancelled     bool
	endedAt       sim.Time
	restartBase   int // restarts before the current job: the strategy counts the job's own
	resubmissions []Resubmission
}

// Resubmission is one new job started from a savepoint or a retained checkpoint
// of the previous one (flink run -s).
type Resubmission struct {
	// EndedAt is when the previous job ended, At when the new one was deployed.
	EndedAt, At sim.Time
	// From is the checkpoint or savepoint restored; Savepoint its kind.
	From      int64
	Savepoint SavepointKind
	// Rescaled is set when some operator runs at another parallelism;
	// StateBackend is the new job's backend.
	Rescaled     bool
	StateBackend string
}

// Status is the job's status.
func (rt *Runtime) Status() JobStatus {
	switch {
	case rt.jobFailed:
		return JobFailed
	case rt.life.cancelled:
		return JobCancelled
	case rt.jobDone:
		return JobFinished
	}
	return JobRunning
}

// StoppedWith is the savepoint the job stopped with (nil when it did not stop).
func (rt *Runtime) StoppedWith() *CompletedCheckpoint { return rt.life.stoppedWith }

// Resubmissions lists the jobs started again from a savepoint or a retained
// checkpoint, in order.
func (rt *Runtime) Resubmissions() []Resubmission { return rt.life.resubmissions }

// stopped ends a job whose stop-with-savepoint completed and whose sinks
// committed the savepoint's transactions.
func (rt *Runtime) stopped(sp *CompletedCheckpoint) {
	c := rt.coord
	c.stopping, c.finalID, c.finalDone = 0, 0, false
	rt.life.stoppedWith = sp
	rt.life.endedAt = rt.w.Now()
	rt.cancelAttempt()
	rt.finishJob()
	rt.noteSavepoint(SavepointResult{ID: sp.ID, Kind: sp.Savepoint, OK: true})
}

// Cancel cancels the job (flink cancel): its tasks stop at once, pending
// checkpoints are aborted, and the latest completed checkpoint outlives the job
// only under RetainOnCancellation.
func (rt *Runtime) Cancel() error {
	if rt.jobDone || rt.jobFailed {
		return ErrNotRunning
	}
	rt.coord.abortAll("job cancelled")
	rt.running = false
	rt.pendingRegions = nil
	rt.cancelAttempt()
	rt.life.cancelled = true
	rt.life.endedAt = rt.w.Now()
	rt.finishJob()
	return nil
}

// RetainedCheckpoint is the latest checkpoint of the ended job that its retention
// policy keeps (checkpoints never outlive a finished or stopped job).
func (rt *Runtime) RetainedCheckpoint() (*CompletedCheckpoint, error) {
	ret := rt.cfg.Checkpoint.Retention
	switch {
	case !rt.jobDone && !rt.jobFailed:
		return nil, errors.New("the job is still running")
	case rt.jobFailed && ret != RetainOnCancellation && ret != DeleteOnCancellation,
		rt.life.cancelled && ret != RetainOnCancellation:
		return nil, fmt.Errorf("no retained checkpoint: execution.checkpointing.externalized-checkpoint-retention is %s (set %s)",
			ret.orDefault(), RetainOnCancellation)
	case !rt.jobFailed && !rt.life.cancelled:
		return nil, errors.New("no retained checkpoint: the checkpoints of a finished or stopped job are discarded")
	}
	var latest *CompletedCheckpoint
	for _, cp := range rt.coord.completed {
		if cp.ID >= rt.jobBase && (latest == nil || cp.ID > latest.ID) {
			latest = cp
		}
	}
	if latest == nil {
		return nil, errors.New("no retained checkpoint: the job completed none")
	}
	return latest, nil
}

func (r Retention) orDefault() Retention {
	if r == "" {
		return NoExternalizedCheckpoints
	}
	return r
}

// ResubmitOptions change the job started again from a savepoint or checkpoint.
type ResubmitOptions struct {
	// Parallelism overrides the parallelism of operators (and sources) by name.
	Parallelism map[string]int
	// MaxParallelism, when set, is the new job's max parallelism; it must equal
	// the restored one's (Flink refuses a change).
	MaxParallelism int
	// StateBackend, when set, replaces the state backend (a savepoint is in the
	// canonical format, so any backend restores it).
	StateBackend string
}

// Resubmit starts a new job from cp, a savepoint or a retained checkpoint of the
// ended job (flink run -s): restored at the parallelism the options set, keyed
// state redistributed by key group, the restored sink transactions committed.
// The new job's checkpoint ids continue after every id taken so far. A refused
// restore (a changed max parallelism) fails the job with Flink's message.
func (rt *Runtime) Resubmit(cp *CompletedCheckpoint, o ResubmitOptions) error {
	switch {
	case !rt.jobDone && !rt.jobFailed:
		return errors.New("the job is still running: stop or cancel it first")
	case cp == nil:
		return errors.New("nothing to restore from")
	}
	if err := rt.checkResubmit(cp, o); err != nil {
		return err
	}
	if !rt.anyWorkerUp() {
		return ErrNoWorkers // the job stays ended: ask again once a worker is back
	}
	if o.MaxParallelism != 0 && o.MaxParallelism != cp.MaxParallelism {
		err := fmt.Errorf("the maximum parallelism (%d) with which the latest checkpoint of the execution job vertex has been taken "+
			"and the current maximum parallelism (%d) changed; this is currently not supported", cp.MaxParallelism, o.MaxParallelism)
		rt.jobFailed, rt.failReason = true, "cannot restore checkpoint "+fmt.Sprint(cp.ID)+": "+err.Error()
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(o.Parallelism)) {
		rt.Rescale(name, o.Parallelism[name])
	}
	if o.StateBackend != "" {
		rt.cfg.StateBackend = o.StateBackend
	}
	rt.newJob(cp)
	loaded := rt.loadSnapshots(cp)
	if err := rt.deploy(loaded); err != nil {
		rt.jobFailed, rt.failReason = true, err.Error()
		return err
	}
	rescaled := false
	for _, s := range loaded.Tasks {
		for _, t := range rt.tasks {
			if chainName(t.Chain) == s.Chain && t.Chain[0].Parallelism != s.Parallelism {
				rescaled = true
			}
		}
	}
	rt.life.resubmissions = append(rt.life.resubmissions, Resubmission{EndedAt: rt.life.endedAt, At: rt.w.Now(),
		From: cp.ID, Savepoint: cp.Savepoint, Rescaled: rescaled, StateBackend: rt.cfg.StateBackend})
	rt.w.TraceNote(0x72736d74, uint64(cp.ID), uint64(rt.attempt))
	rt.startTasks()
	rt.coord.start()
	return nil
}

// checkResubmit checks the options against the job.
func (rt *Runtime) checkResubmit(cp *CompletedCheckpoint, o ResubmitOptions) error {
	for _, name := range slices.Sorted(maps.Keys(o.Parallelism)) {
		p := o.Parallelism[name]
		found := false
		for _, v := range rt.job.Vertices {
			found = found || v.Name == name
		}
		if !found {
			return fmt.Errorf("restore: no operator %q", name)
		}
		if p < 1 || p > rt.job.MaxParallelism {
			return fmt.Errorf("restore: parallelism of %q must be within [1, %d], got %d", name, rt.job.MaxParallelism, p)
		}
	}
	switch o.StateBackend {
	case "", "heap", "pebble":
	default:
		return fmt.Errorf("restore: unknown state backend %q (heap or pebble)", o.StateBackend)
	}
	if o.MaxParallelism < 0 {
		return fmt.Errorf("restore: max parallelism must be positive, got %d", o.MaxParallelism)
	}
	return nil
}

// newJob resets what belongs to one job before a resubmission: the coordinator's
// pending work, the restart strategy's count, how the last job ended.
func (rt *Runtime) newJob(cp *CompletedCheckpoint) {
	c := rt.coord
	c.pending = nil
	c.finished = map[int]bool{}
	c.finalID, c.finalDone, c.committed = 0, false, nil
	c.stopping, c.stopPoint = 0, nil
	c.failedRun = 0
	if cp.ID >= c.nextID {
		c.nextID = cp.ID + 1
	}
	rt.restoredFrom, rt.jobBase = cp, c.nextID
	rt.jobDone, rt.jobFailed, rt.failReason = false, false, ""
	rt.pendingRegions = nil
	rt.backoff = 0
	rt.life = lifecycle{restartBase: rt.restarts, resubmissions: rt.life.resubmissions, endedAt: rt.life.endedAt}
}

// ErrNoWorkers is returned by Resubmit when no worker is up to run the new job.
var ErrNoWorkers = errNoWorkers

func (rt *Runtime) anyWorkerUp() bool {
	for _, n := range rt.workers {
		if n.Up() {
			return true
		}
	}
	return false
}

// Close releases what the run holds outside the Go heap once nobody reads its
// tasks' state any more: the pebble state backends of the current tasks (their
// databases run background goroutines until closed; a failover closes those of
// the tasks it cancels). The runtime's statistics, sinks and checkpoint store
// stay readable. It changes no run and may be called more than once.
func (rt *Runtime) Close() {
	for _, t := range rt.tasks {
		if t.state != nil {
			_ = t.state.Close()
		}
	}
}
