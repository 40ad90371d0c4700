package scenarios

import (
	"github.com/ckptsim/ckptsim/engine"
)

// Costs are what a run's checkpoint protocol cost, each defined alike for every
// protocol family (docs/protocols.md, "Metrics"). They sit beside the
// checkpoint, recovery, throughput and latency measures of Result, which are
// defined alike too: for a local protocol a checkpoint is one task's, from its
// snapshot to durable.
type Costs struct {
	// PauseMS is, per subtask checkpoint, how long the task stopped processing to
	// snapshot: its synchronous phase (a blocking alignment is alignment_ms).
	PauseMS Summary `json:"pause_ms"`
	// WrittenBytes is every byte completed checkpoints wrote to the checkpoint
	// store: StateBytes + ChannelStateBytes + LogBytes.
	WrittenBytes int64 `json:"written_bytes"`
	// StateBytes is the operator state (the delta when incremental).
	StateBytes int64 `json:"state_bytes"`
	// ChannelStateBytes is the in-flight data persisted (unaligned checkpoints).
	ChannelStateBytes int64 `json:"channel_state_bytes"`
	// LogBytes is the message logs uploaded with checkpoints (their deltas).
	LogBytes int64 `json:"log_bytes"`
	// LogAppendedBytes is every byte senders appended to their message logs.
	LogAppendedBytes int64 `json:"log_appended_bytes"`
	// LogHeldBytes is the size of the message logs the tasks hold at the end of
	// the run (what truncation has not dropped).
	LogHeldBytes int64 `json:"log_held_bytes"`
	// ProtocolMessages and ProtocolBytes are the protocol's own messages:
	// barriers, triggers, acknowledgements, notifications, local checkpoint
	// reports; ProtocolBytes adds PiggybackBytes, what data messages carried for
	// the protocol.
	ProtocolMessages int64 `json:"protocol_messages"`
	ProtocolBytes    int64 `json:"protocol_bytes"`
	PiggybackBytes   int64 `json:"piggyback_bytes"`
	// ForcedCheckpoints are those a communication-induced protocol took before a
	// delivery; UselessCheckpoints those on a Z-cycle (in no consistent global
	// checkpoint, so no recovery can restore them).
	ForcedCheckpoints  int `json:"forced_checkpoints"`
	UselessCheckpoints int `json:"useless_checkpoints"`
	// ReplayedRecords are the records re-sent after recoveries from what the
	// protocol kept rather than from the sources: persisted in-flight data and
	// message logs (reprocessed_records counts what the sources read again).
	ReplayedRecords int64 `json:"replayed_records"`
}

// fillCosts measures the protocol's costs of a finished run.
func fillCosts(res *Result, rt *engine.Runtime) {
	c := &res.Costs
	var pause []float64
	for _, st := range rt.Coordinator().Stats() {
		if st.Status != engine.StatusCompleted {
			continue
		}
		c.StateBytes += st.StateSize
		c.ChannelStateBytes += st.PersistedData
		c.LogBytes += st.LogBytes
		for _, sub := range st.Subtasks {
			pause = append(pause, sub.Sync.Milliseconds())
		}
	}
	c.PauseMS = summarizeWith(pause, &rt.Coordinator().OlderSubtasks().Sync) // with a long run's older checkpoints
	c.WrittenBytes = c.StateBytes + c.ChannelStateBytes + c.LogBytes
	ls := rt.LocalStats()
	c.LogAppendedBytes, c.LogHeldBytes = ls.LoggedBytes, rt.LogBytes()
	pc := rt.Costs()
	c.ProtocolMessages, c.ProtocolBytes, c.PiggybackBytes = pc.Messages, pc.Bytes(), pc.PiggybackBytes
	c.ForcedCheckpoints, c.UselessCheckpoints = ls.Forced, rt.UselessCount()
	c.ReplayedRecords = pc.Replayed
}
