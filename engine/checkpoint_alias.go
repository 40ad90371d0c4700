package engine

import "github.com/ckptsim/ckptsim/checkpoint"

// The protocol contract moved to package checkpoint. These aliases keep code
// written against the engine's old names compiling while the other packages move
// over; new code uses package checkpoint.

// Protocol is checkpoint.Protocol.
//
// Deprecated: use checkpoint.Protocol.
type Protocol = checkpoint.Protocol

// HandlerConfig is checkpoint.HandlerConfig.
//
// Deprecated: use checkpoint.HandlerConfig.
type HandlerConfig = checkpoint.HandlerConfig

// BarrierInfo is checkpoint.BarrierInfo.
//
// Deprecated: use checkpoint.BarrierInfo.
type BarrierInfo = checkpoint.BarrierInfo

// BarrierHandler is checkpoint.BarrierHandler.
//
// Deprecated: use checkpoint.BarrierHandler.
type BarrierHandler = checkpoint.BarrierHandler

// ActionKind is checkpoint.ActionKind.
//
// Deprecated: use checkpoint.ActionKind.
type ActionKind = checkpoint.ActionKind

// Action is checkpoint.Action.
//
// Deprecated: use checkpoint.Action.
type Action = checkpoint.Action

// Actions of barrier handlers.
//
// Deprecated: use checkpoint.ActBlock and the others.
const (
	ActBlock       = checkpoint.ActBlock
	ActResume      = checkpoint.ActResume
	ActCheckpoint  = checkpoint.ActCheckpoint
	ActPersist     = checkpoint.ActPersist
	ActPrioritize  = checkpoint.ActPrioritize
	ActStopPersist = checkpoint.ActStopPersist
	ActAbort       = checkpoint.ActAbort
	ActTimer       = checkpoint.ActTimer
)

// RegisterProtocol is checkpoint.Register.
//
// Deprecated: use checkpoint.Register.
func RegisterProtocol(p Protocol) { checkpoint.Register(p) }

// LookupProtocol is checkpoint.Lookup.
//
// Deprecated: use checkpoint.Lookup.
func LookupProtocol(name string) (Protocol, error) { return checkpoint.Lookup(name) }

// ProtocolNames is checkpoint.Names.
//
// Deprecated: use checkpoint.Names.
func ProtocolNames() []string { return checkpoint.Names() }

// Mutation is checkpoint.Mutation.
//
// Deprecated: use checkpoint.Mutation.
type Mutation = checkpoint.Mutation

// Mutant is checkpoint.Mutant.
//
// Deprecated: use checkpoint.Mutant.
type Mutant = checkpoint.Mutant
