package myprotocol

import "github.com/ckptsim/ckptsim/checkpoint"

// Broken is Capped with a bug planted on purpose, to show what the battery
// reports: when a checkpoint turns unaligned it forgets to persist the channels
// still missing their barrier, so the records in flight on them belong to no
// snapshot and a restore loses them.
type Broken struct{ MaxBlocked int }

// Name implements checkpoint.Protocol.
func (Broken) Name() string { return "aligned-capped-broken" }

// Guarantee implements checkpoint.Protocol: it claims exactly once, wrongly.
func (Broken) Guarantee() checkpoint.Guarantee { return checkpoint.ExactlyOnce }

// NewHandler implements checkpoint.Protocol.
func (p Broken) NewHandler(cfg checkpoint.HandlerConfig) checkpoint.BarrierHandler {
	h := Capped(p).NewHandler(cfg).(*capped)
	h.skipPersist = true
	return h
}
