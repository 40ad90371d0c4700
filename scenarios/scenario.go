// Package scenarios holds ckptsim's named fault scenarios (a job, a cluster, a
// configuration with Flink's keys, a fault schedule, a default seed and the
// expected outcome), the YAML file format for user scenarios, and the runner that
// checks every oracle a protocol promises.
//
// A scenario file is strict YAML (see testdata/crash-during-alignment.yaml):
// unknown keys, values of the wrong type and impossible values are rejected with
// file:line:column. Parse and Load read one; (*Scenario).YAML writes one back in
// the same format; (*Scenario).Setup resolves it into what a run needs. Registry
// lists the built-in scenarios and Lookup finds one by name.
package scenarios

import (
	"github.com/ckptsim/ckptsim/actions"
	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/faults"
	"github.com/ckptsim/ckptsim/sim"

	// The protocols register themselves with the engine in their init; scenarios
	// need their names (and guarantees) to resolve a configuration.
	_ "github.com/ckptsim/ckptsim/protocol"
)

// Expected outcomes of a scenario.
const (
	// OutcomePass: every oracle the protocol promises holds.
	OutcomePass = "pass"
	// OutcomeJobFails: the job fails for good (e.g. restart strategy exhausted).
	OutcomeJobFails = "job-fails"
	// OutcomeDetected: an assumption-breaking fault is flagged by the checkers.
	OutcomeDetected = "detected"
)

// Scenario is a named scenario as written in a YAML file (see
// ../shared/examples/crash-during-alignment.yaml). Durations, sizes and rates are
// kept as written ("10 s", "64 B", "2000/s"); Setup interprets them. Every field
// but the name and the job is optional; a zero value means the default.
type Scenario struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description,omitempty"`
	// Seed is the default root seed of a run (the CLI may override it).
	Seed uint64 `yaml:"seed,omitempty"`
	// Duration is the simulated time limit of a run (default 2 min); bounded
	// sources usually end sooner.
	Duration string  `yaml:"duration,omitempty"`
	Job      JobSpec `yaml:"job"`
	// Cluster is the simulated cluster (default: enough workers with 4 slots for
	// the largest parallelism).
	Cluster ClusterSpec `yaml:"cluster,omitempty"`
	// Config holds Flink's configuration keys (see ConfigKeys); the protocol
	// follows from them unless overridden.
	Config map[string]string `yaml:"config,omitempty"`
	// Rescale maps an operator (or source) name to the parallelism it gets when the
	// job first restores from a checkpoint (Setup.Rescale). Restoring unaligned
	// channel state at a new parallelism is refused, so rescale scenarios use
	// aligned checkpoints.
	Rescale map[string]int `yaml:"rescale,omitempty"`
	// Faults are injected in the order written, by time or on an event.
	Faults []FaultSpec `yaml:"faults,omitempty"`
	// Actions are what the job's operator does during the run, in the order
	// written: savepoints, stop-with-savepoint, cancel, restore (see
	// docs/savepoints.md).
	Actions []ActionSpec `yaml:"actions,omitempty"`
	// Expect is the expected outcome (default pass).
	Expect ExpectSpec `yaml:"expect,omitempty"`
}

// JobSpec is the dataflow of a scenario: sources, then operators in dataflow order
// (an operator's inputs are sources or operators listed before it).
type JobSpec struct {
	// MaxParallelism is the number of key groups (default 128); it bounds every
	// parallelism, including rescaled ones.
	MaxParallelism int            `yaml:"max-parallelism,omitempty"`
	Sources        []SourceSpec   `yaml:"sources"`
	Operators      []OperatorSpec `yaml:"operators"`
}

// SourceSpec is one source of a scenario: a replayable partitioned log of
// generated records.
type SourceSpec struct {
	Name string `yaml:"name"`
	// Splits is the number of partitions (default 1).
	Splits int `yaml:"splits,omitempty"`
	// Parallelism is the number of source subtasks (default: one per split).
	Parallelism int    `yaml:"parallelism,omitempty"`
	Rate        string `yaml:"rate,omitempty"`    // "2000/s" per split; empty: as fast as possible
	Records     int64  `yaml:"records,omitempty"` // per split; 0: unbounded
	// Keys is the key distribution (default uniform over 1000 keys).
	Keys *KeySpec `yaml:"keys,omitempty"`
	// Disorder is the bounded event-time disorder ("200 ms").
	Disorder string `yaml:"disorder,omitempty"`
	// RecordSize is the modelled size of a record ("64 B", the default).
	RecordSize string `yaml:"record-size,omitempty"`
	// Seed fixes the generator's seed (default: derived from the run's seed).
	Seed uint64 `yaml:"seed,omitempty"`
}

// KeySpec is a key distribution.
type KeySpec struct {
	Distribution string  `yaml:"distribution,omitempty"` // uniform (default) | zipf | hot
	Count        int     `yaml:"count,omitempty"`        // distinct keys (default 1000)
	Exponent     float64 `yaml:"exponent,omitempty"`     // zipf only (default 1.1)
	Ratio        float64 `yaml:"ratio,omitempty"`        // hot only: share of key 0 (default 0.9)
}

// OperatorSpec is one operator of a scenario.
type OperatorSpec struct {
	Name string `yaml:"name"`
	Type string `yaml:"type"` // map | filter | flat-map | sum | count | min | max | window | join | window-join | co-group | union | sink
	// Input names the one upstream source or operator; Inputs lists several (union)
	// or exactly two (join, window-join, co-group: left, right).
	Input  string   `yaml:"input,omitempty"`
	Inputs []string `yaml:"inputs,omitempty"`
	// KeyBy is how a keyed operator (sum, count, min, max, window, join,
	// window-join, co-group) partitions
	// its input: by the record's key (key, the default) or by its source split
	// (split: a chained map sets the key to the split first, so each split stays on
	// one path and keeps its order).
	KeyBy string `yaml:"key-by,omitempty"`
	// Partitioning of the input edge of a non-keyed operator: forward | rebalance |
	// broadcast (default: forward when the parallelism matches, else rebalance).
	Partitioning string `yaml:"partitioning,omitempty"`
	// Parallelism is the number of subtasks (default: the first input's).
	Parallelism int `yaml:"parallelism,omitempty"`
	// Cost is the simulated CPU time per record ("50 us").
	Cost string `yaml:"cost,omitempty"`
	// Sink is two-phase-commit or at-least-once (default: two-phase-commit under
	// an exactly-once protocol, at-least-once otherwise).
	Sink string `yaml:"sink,omitempty"`
	// Window fields (window, window-join, co-group): tumbling (default) or sliding
	// event-time windows of Size advancing by Slide, with AllowedLateness; a window
	// and each side of a co-group count (default) or sum. A window-join emits every
	// pair of a left and a right record of the same key and window when the window
	// fires; a co-group one result per key and window.
	Window    string `yaml:"window,omitempty"` // tumbling | sliding
	Size      string `yaml:"size,omitempty"`
	Slide     string `yaml:"slide,omitempty"`
	Lateness  string `yaml:"allowed-lateness,omitempty"`
	Aggregate string `yaml:"aggregate,omitempty"` // count | sum
	// Join fields (interval join): a left record at time t joins right records of
	// the same key with a time in [t+Lower, t+Upper]; bounds may be negative.
	Lower string `yaml:"lower,omitempty"`
	Upper string `yaml:"upper,omitempty"`
	// Filter drops records whose value modulo Modulo is 0 (default 2); FlatMap
	// emits Fanout copies of each record (default 2; the copies after the first are
	// derived records, not source records).
	Modulo int `yaml:"modulo,omitempty"`
	Fanout int `yaml:"fanout,omitempty"`
	// Nodes is a path join's node count: a link record of a source stands for
	// Key -> Mix64(Value) mod Nodes (0: Value itself; see engine.PathJoinSpec).
	Nodes int64 `yaml:"nodes,omitempty"`
	// Feedback names an operator listed at or after this one whose output comes
	// back as this operator's last input (for a path join, its paths input): a
	// back edge, key-by for a keyed operator, else by Partitioning. The cycle
	// ends once its records stop circulating (docs/protocols.md, Cycles).
	Feedback string `yaml:"feedback,omitempty"`
}

// ClusterSpec is the simulated cluster.
type ClusterSpec struct {
	// Workers is the number of task managers (default: enough for the largest
	// parallelism); SlotsPerWorker their slots (default 4).
	Workers        int `yaml:"workers,omitempty"`
	SlotsPerWorker int `yaml:"slots-per-worker,omitempty"`
	// Network is the cost of links between workers (default: no latency,
	// unlimited bandwidth).
	Network *LinkSpec `yaml:"network,omitempty"`
	// CheckpointStorage is the remote checkpoint store (default 20 ms, 200 MB/s).
	CheckpointStorage *StorageSpec `yaml:"checkpoint-storage,omitempty"`
}

// LinkSpec is the cost of the network.
type LinkSpec struct {
	Latency   string `yaml:"latency,omitempty"`
	Jitter    string `yaml:"jitter,omitempty"`
	Bandwidth string `yaml:"bandwidth,omitempty"` // "1 Gbit/s", "200 MB/s"
}

// StorageSpec is the cost of the checkpoint store.
type StorageSpec struct {
	Latency   string `yaml:"latency,omitempty"`
	Bandwidth string `yaml:"bandwidth,omitempty"`
}

// FaultSpec is one fault as written: either at a time or when an event happens.
// Which of the other fields apply depends on the kind (see faults.Spec).
type FaultSpec struct {
	At   string    `yaml:"at,omitempty"`
	When *WhenSpec `yaml:"when,omitempty"`
	Kind string    `yaml:"kind"`
	// Task is a vertex name and a subtask, "totals[1]".
	Task string `yaml:"task,omitempty"`
	// Worker is "worker-N".
	Worker string `yaml:"worker,omitempty"`
	// Between names two nodes: "worker-N" or "jobmanager".
	Between      []string `yaml:"between,omitempty"`
	For          string   `yaml:"for,omitempty"`
	RestartAfter string   `yaml:"restart-after,omitempty"`
	Factor       float64  `yaml:"factor,omitempty"`
	Extra        string   `yaml:"extra,omitempty"`
	Count        int      `yaml:"count,omitempty"`
	Probability  float64  `yaml:"probability,omitempty"`
}

// WhenSpec triggers a fault on an event.
type WhenSpec struct {
	Checkpoint int64 `yaml:"checkpoint,omitempty"`
	// Savepoint targets the Nth savepoint the run triggers (1: the first).
	Savepoint int    `yaml:"savepoint,omitempty"`
	Phase     string `yaml:"phase"`
	Task      string `yaml:"task,omitempty"`
	Attempt   int    `yaml:"attempt,omitempty"`
	// Nth: the Nth matching event (default the first), e.g. the 3rd barrier.
	Nth int `yaml:"nth,omitempty"`
}

// ActionSpec is one action on the job as written. It starts once the one before
// it finished, not before At, After the delay written, and once AfterCheckpoints
// more checkpoints completed.
type ActionSpec struct {
	At               string `yaml:"at,omitempty"`
	After            string `yaml:"after,omitempty"`
	AfterCheckpoints int    `yaml:"after-checkpoints,omitempty"`
	// Kind is savepoint, stop-with-savepoint, cancel or restore.
	Kind string `yaml:"kind"`
	// Drain (stop-with-savepoint) emits the final watermark before the
	// savepoint: every window fires, the job is over for good.
	Drain bool `yaml:"drain,omitempty"`
	// Restore fields: From is savepoint (the latest, default) or checkpoint (the
	// latest retained one, after a cancel under RETAIN_ON_CANCELLATION);
	// Parallelism sets operators' parallelism by name; MaxParallelism, when
	// written, must equal the job's (Flink refuses a change: the job fails);
	// StateBackend (heap or pebble) replaces the state backend.
	From           string         `yaml:"from,omitempty"`
	Parallelism    map[string]int `yaml:"parallelism,omitempty"`
	MaxParallelism int            `yaml:"max-parallelism,omitempty"`
	StateBackend   string         `yaml:"state-backend,omitempty"`
}

// ExpectSpec is the expected outcome.
type ExpectSpec struct {
	Outcome string `yaml:"outcome,omitempty"` // pass (default) | job-fails | detected
}

// Setup is a scenario resolved into what a run needs.
type Setup struct {
	Name string
	Seed uint64
	// NewJob builds a fresh job graph (a run may change parallelism on rescale).
	NewJob func() *engine.Job
	// Config is the engine configuration. Config.Protocol, when set, is the
	// protocol the runner runs (a value: it need not be registered), and Protocol
	// must be its name; when nil, the runner looks Protocol up in the registry.
	Config engine.Config
	// Protocol names the protocol, as results and replay commands print it.
	Protocol string
	Faults   faults.Schedule
	// Limit is the simulated time limit of the run.
	Limit sim.Duration
	// Expect is the expected outcome (OutcomePass, OutcomeJobFails, OutcomeDetected).
	Expect string
	// Rescale sets vertex parallelism applied at the first restore.
	Rescale map[string]int
	// Bounded is true when every source is bounded (the job must finish).
	Bounded bool
	// Actions are what the job's operator does during the run with faults.
	Actions actions.Schedule
	// JobKey identifies what NewJob builds, for the reference cache
	// (ReferenceCache): two setups with the same JobKey build the same job. ""
	// (a setup built by hand) is never cached; whoever changes NewJob clears it.
	JobKey string
}
