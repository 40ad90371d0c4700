// Package scenarios holds ckptsim's named fault scenarios (a job, a cluster, a
// configuration with Flink's keys, a fault schedule, a default seed and the
// expected outcome), the YAML file format for user scenarios, and the runner that
// checks every oracle a protocol promises.
package scenarios

import (
	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/faults"
	"github.com/ckptsim/ckptsim/sim"
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
// kept as written ("10 s", "64 B", "2000/s"); Setup interprets them.
type Scenario struct {
	Name        string            `yaml:"name"`
	Description string            `yaml:"description,omitempty"`
	Seed        uint64            `yaml:"seed,omitempty"`
	Duration    string            `yaml:"duration,omitempty"`
	Job         JobSpec           `yaml:"job"`
	Cluster     ClusterSpec       `yaml:"cluster,omitempty"`
	Config      map[string]string `yaml:"config,omitempty"`
	Faults      []FaultSpec       `yaml:"faults,omitempty"`
	Expect      ExpectSpec        `yaml:"expect,omitempty"`
}

// JobSpec is the dataflow of a scenario.
type JobSpec struct {
	MaxParallelism int            `yaml:"max-parallelism,omitempty"`
	Sources        []SourceSpec   `yaml:"sources"`
	Operators      []OperatorSpec `yaml:"operators"`
}

// SourceSpec is one source of a scenario.
type SourceSpec struct {
	Name        string   `yaml:"name"`
	Splits      int      `yaml:"splits,omitempty"`
	Parallelism int      `yaml:"parallelism,omitempty"`
	Rate        string   `yaml:"rate,omitempty"`    // "2000/s" per split; empty: as fast as possible
	Records     int64    `yaml:"records,omitempty"` // per split; 0: unbounded
	Keys        *KeySpec `yaml:"keys,omitempty"`
	Disorder    string   `yaml:"disorder,omitempty"`
	RecordSize  string   `yaml:"record-size,omitempty"`
	Seed        uint64   `yaml:"seed,omitempty"`
}

// KeySpec is a key distribution.
type KeySpec struct {
	Distribution string  `yaml:"distribution,omitempty"` // uniform | zipf | hot
	Count        int     `yaml:"count,omitempty"`
	Exponent     float64 `yaml:"exponent,omitempty"`
	Ratio        float64 `yaml:"ratio,omitempty"`
}

// OperatorSpec is one operator of a scenario.
type OperatorSpec struct {
	Name         string   `yaml:"name"`
	Type         string   `yaml:"type"` // map | filter | flat-map | sum | count | min | max | window | join | union | sink
	Input        string   `yaml:"input,omitempty"`
	Inputs       []string `yaml:"inputs,omitempty"` // union and join (two)
	KeyBy        string   `yaml:"key-by,omitempty"` // key (the record key) | split
	Partitioning string   `yaml:"partitioning,omitempty"`
	Parallelism  int      `yaml:"parallelism,omitempty"`
	Cost         string   `yaml:"cost,omitempty"`
	Sink         string   `yaml:"sink,omitempty"` // two-phase-commit | at-least-once
	// Window fields.
	Window    string `yaml:"window,omitempty"` // tumbling | sliding
	Size      string `yaml:"size,omitempty"`
	Slide     string `yaml:"slide,omitempty"`
	Lateness  string `yaml:"allowed-lateness,omitempty"`
	Aggregate string `yaml:"aggregate,omitempty"` // count | sum
	// Join fields (interval join).
	Lower string `yaml:"lower,omitempty"`
	Upper string `yaml:"upper,omitempty"`
	// Filter keeps records whose value modulo Modulo is not 0; FlatMap emits
	// Fanout copies.
	Modulo int `yaml:"modulo,omitempty"`
	Fanout int `yaml:"fanout,omitempty"`
}

// ClusterSpec is the simulated cluster.
type ClusterSpec struct {
	Workers           int          `yaml:"workers,omitempty"`
	SlotsPerWorker    int          `yaml:"slots-per-worker,omitempty"`
	Network           *LinkSpec    `yaml:"network,omitempty"`
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
type FaultSpec struct {
	At           string    `yaml:"at,omitempty"`
	When         *WhenSpec `yaml:"when,omitempty"`
	Kind         string    `yaml:"kind"`
	Task         string    `yaml:"task,omitempty"`
	Worker       string    `yaml:"worker,omitempty"`
	Between      []string  `yaml:"between,omitempty"`
	For          string    `yaml:"for,omitempty"`
	RestartAfter string    `yaml:"restart-after,omitempty"`
	Factor       float64   `yaml:"factor,omitempty"`
	Extra        string    `yaml:"extra,omitempty"`
	Count        int       `yaml:"count,omitempty"`
	Probability  float64   `yaml:"probability,omitempty"`
}

// WhenSpec triggers a fault on an event.
type WhenSpec struct {
	Checkpoint int64  `yaml:"checkpoint,omitempty"`
	Phase      string `yaml:"phase"`
	Task       string `yaml:"task,omitempty"`
	Attempt    int    `yaml:"attempt,omitempty"`
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
	// Config is the engine configuration; the runner sets Protocol from Protocol.
	Config   engine.Config
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
}
