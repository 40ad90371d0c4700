package engine

// Costs are what a checkpoint protocol costs the job beyond the records, with one
// definition for every protocol.
type Costs struct {
	// Messages and MessageBytes count control messages (the coordinator's
	// triggers, completion and abort notifications and floor notices; the tasks'
	// acknowledgements, declines and local checkpoint reports) and barriers on
	// data channels. A message is counted once when sent, however often a cut link
	// makes it retry.
	Messages     int64
	MessageBytes int64
	// PiggybackBytes is what data messages carried for the protocol (a
	// communication-induced protocol's stamp).
	PiggybackBytes int64
	// Replayed counts the records re-sent after recoveries from what the
	// protocol kept, not from the sources: persisted in-flight data (unaligned
	// checkpoints) and message logs (uncoordinated, communication-induced).
	Replayed int64
}

// Bytes is every protocol byte sent: control messages, barriers and piggybacks.
func (t Costs) Bytes() int64 { return t.MessageBytes + t.PiggybackBytes }

// rpcSize is the modelled wire size of a control message.
const rpcSize = 128

// Costs returns what the run's checkpoint protocol cost so far.
func (rt *Runtime) Costs() Costs {
	t := rt.costs
	t.PiggybackBytes = rt.localStats.ProtocolBytes
	return t
}

// countControl counts one control message or barrier of size bytes.
func (rt *Runtime) countControl(size int64) {
	rt.costs.Messages++
	rt.costs.MessageBytes += size
}
