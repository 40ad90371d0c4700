// Package reports turns runs into data and pictures: tidy tables (CSV and JSON)
// of checkpoints, subtask checkpoints and failures, and gonum/plot figures.
package reports

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/internal/outfile"
)

// CheckpointRow is one checkpoint of one run: Flink's checkpoint statistics.
type CheckpointRow struct {
	Scenario      string  `json:"scenario"`
	Protocol      string  `json:"protocol"`
	ID            int64   `json:"id"`
	Status        string  `json:"status"`
	Reason        string  `json:"reason,omitempty"`
	TriggerMS     float64 `json:"trigger_ms"`
	DurationMS    float64 `json:"duration_ms"`
	Acknowledged  int     `json:"acknowledged"`
	Total         int     `json:"total"`
	StateBytes    int64   `json:"checkpointed_bytes"`
	FullBytes     int64   `json:"full_bytes"`
	ProcessedData int64   `json:"processed_inflight_bytes"`
	PersistedData int64   `json:"persisted_inflight_bytes"`
	Unaligned     bool    `json:"unaligned"`
	// Task is set for a local protocol's checkpoint (one task's own); Forced
	// says a communication-induced protocol forced it; LogBytes is the message
	// log it uploaded.
	Task     string `json:"task,omitempty"`
	Forced   bool   `json:"forced,omitempty"`
	LogBytes int64  `json:"log_bytes,omitempty"`
}

// SubtaskRow is one subtask's part of one checkpoint.
type SubtaskRow struct {
	Scenario       string  `json:"scenario"`
	Protocol       string  `json:"protocol"`
	Checkpoint     int64   `json:"checkpoint"`
	Task           string  `json:"task"`
	StartDelayMS   float64 `json:"start_delay_ms"`
	AlignmentMS    float64 `json:"alignment_ms"`
	SyncMS         float64 `json:"sync_ms"`
	AsyncMS        float64 `json:"async_ms"`
	ProcessedBytes int64   `json:"processed_inflight_bytes"`
	PersistedBytes int64   `json:"persisted_inflight_bytes"`
	StateBytes     int64   `json:"checkpointed_bytes"`
	Unaligned      bool    `json:"unaligned"`
}

// FailureRow is one recovery of one run.
type FailureRow struct {
	Scenario       string  `json:"scenario"`
	Protocol       string  `json:"protocol"`
	FailedMS       float64 `json:"failed_ms"`
	RestartedMS    float64 `json:"restarted_ms"`
	DowntimeMS     float64 `json:"downtime_ms"`
	Reason         string  `json:"reason"`
	FromCheckpoint int64   `json:"from_checkpoint"`
	ChannelState   bool    `json:"with_channel_state"`
	Rescaled       bool    `json:"rescaled"`
	// CaughtUpMS is when the sources were back where they were at the failure
	// (0: never, another failure came first); Reprocessed the records read again.
	CaughtUpMS  float64 `json:"caught_up_ms"`
	Reprocessed int64   `json:"reprocessed_records"`
	// For a local protocol: the checkpoints newer than the recovery line's that
	// were lost, and the records its senders replayed from their logs.
	RolledBack      int   `json:"rolled_back,omitempty"`
	ReplayedFromLog int64 `json:"replayed_from_logs,omitempty"`
}

// Tables are the tidy tables of one or more runs.
type Tables struct {
	Checkpoints []CheckpointRow
	Subtasks    []SubtaskRow
	Failures    []FailureRow
	// Timeline holds time buckets of sampled runs, Faults their fault windows.
	Timeline []TimelineRow
	Faults   []FaultWindow
}

// Append adds every row of o.
func (t *Tables) Append(o *Tables) {
	t.Checkpoints = append(t.Checkpoints, o.Checkpoints...)
	t.Subtasks = append(t.Subtasks, o.Subtasks...)
	t.Failures = append(t.Failures, o.Failures...)
	t.Timeline = append(t.Timeline, o.Timeline...)
	t.Faults = append(t.Faults, o.Faults...)
}

// Add appends the rows of one finished run.
func (t *Tables) Add(scenario, protocol string, rt *engine.Runtime) {
	for _, st := range rt.Coordinator().Stats() {
		t.Checkpoints = append(t.Checkpoints, CheckpointRow{Scenario: scenario, Protocol: protocol, ID: st.ID,
			Status: string(st.Status), Reason: st.Reason, TriggerMS: st.TriggerAt.Seconds() * 1000,
			DurationMS: st.Duration.Milliseconds(), Acknowledged: st.Acknowledged, Total: st.Total,
			StateBytes: st.StateSize, FullBytes: st.FullSize, ProcessedData: st.ProcessedData,
			PersistedData: st.PersistedData, Unaligned: st.Unaligned, Task: st.Task, Forced: st.Forced, LogBytes: st.LogBytes})
		for _, sub := range st.Subtasks {
			t.Subtasks = append(t.Subtasks, SubtaskRow{Scenario: scenario, Protocol: protocol, Checkpoint: st.ID,
				Task: sub.Task, StartDelayMS: sub.StartDelay.Milliseconds(), AlignmentMS: sub.Alignment.Milliseconds(),
				SyncMS: sub.Sync.Milliseconds(), AsyncMS: sub.Async.Milliseconds(), ProcessedBytes: sub.ProcessedBytes,
				PersistedBytes: sub.PersistedBytes, StateBytes: sub.StateBytes, Unaligned: sub.Unaligned})
		}
	}
	for _, r := range rt.Recoveries() {
		row := FailureRow{Scenario: scenario, Protocol: protocol, FailedMS: r.FailedAt.Seconds() * 1000,
			RestartedMS: r.RestartedAt.Seconds() * 1000, Reason: r.Reason, FromCheckpoint: r.FromCheckpoint,
			ChannelState: r.WithChannelState, Rescaled: r.Rescaled, CaughtUpMS: r.CaughtUpAt.Seconds() * 1000,
			Reprocessed: r.Reprocessed}
		if r.Local != nil {
			row.RolledBack, row.ReplayedFromLog = r.Local.RolledBack, r.Local.ReplayedRecords
		}
		if r.RestartedAt > 0 {
			row.DowntimeMS = r.RestartedAt.Sub(r.FailedAt).Milliseconds()
		}
		t.Failures = append(t.Failures, row)
	}
}

// Write stores every table in dir as NAME.csv and NAME.json, atomically.
func (t *Tables) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tables := []struct {
		name string
		rows any
	}{{"checkpoints", t.Checkpoints}, {"subtask_checkpoints", t.Subtasks}, {"failures", t.Failures},
		{"timeline", nonNil(t.Timeline)}, {"faults", nonNil(t.Faults)}}
	for _, tb := range tables {
		name, rows := tb.name, tb.rows
		js, err := json.MarshalIndent(rows, "", "  ")
		if err != nil {
			return err
		}
		if err := WriteFileAtomic(filepath.Join(dir, name+".json"), append(js, '\n')); err != nil {
			return err
		}
		c, err := toCSV(rows)
		if err != nil {
			return err
		}
		if err := WriteFileAtomic(filepath.Join(dir, name+".csv"), c); err != nil {
			return err
		}
	}
	return nil
}

// toCSV renders a slice of flat structs as CSV with the JSON names as header.
func toCSV(rows any) ([]byte, error) {
	js, err := json.Marshal(rows)
	if err != nil {
		return nil, err
	}
	var objs []map[string]any
	if err := json.Unmarshal(js, &objs); err != nil {
		return nil, err
	}
	header := jsonFields(rows)
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write(header)
	for _, o := range objs {
		rec := make([]string, len(header))
		for i, h := range header {
			switch v := o[h].(type) {
			case nil:
			case float64:
				rec[i] = strconv.FormatFloat(v, 'f', -1, 64)
			default:
				rec[i] = fmt.Sprint(v)
			}
		}
		_ = w.Write(rec)
	}
	w.Flush()
	return b.Bytes(), w.Error()
}

// WriteFileAtomic writes data to name with outfile.Write: a regular file is
// replaced atomically (temporary file, sync, rename), a device or FIFO is written
// in place, a symbolic link's target is replaced.
func WriteFileAtomic(name string, data []byte) error { return outfile.Write(name, data) }

// jsonFields lists the JSON names of the fields of a slice's element struct, in
// field order.
func jsonFields(rows any) []string {
	t := reflect.TypeOf(rows).Elem()
	var out []string
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

func jsonIndent(v any) ([]byte, error) {
	js, err := json.MarshalIndent(v, "", "  ")
	return append(js, '\n'), err
}
