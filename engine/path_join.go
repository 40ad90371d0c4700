package engine

import (
	"fmt"
	"sort"

	"github.com/ckptsim/ckptsim/sim"
	"github.com/ckptsim/ckptsim/state"
)

// PathJoinSpec configures a path join: incremental graph reachability, the
// cyclic query of CheckMate (links and paths joined per node, the new paths fed
// back keyed by their end).
//
// Input 0 carries links. A source record is the link Key -> target, where target
// is sim.Mix64(Value) mod Nodes (Nodes 0: Value itself); a derived record is
// the link Key -> Value.
//
// Input 1 carries paths keyed by their end. A source record starts a path at
// its Key (the path Key -> Key); a derived record is the path Value -> Key (the
// join's own output, fed back).
//
// For each new path x -> a and each link a -> b, known before or after, the
// join emits the path x -> b once (Key b, Value x); a path or link seen before is
// dropped, so the paths stop circulating when the reachable pairs are all known.
type PathJoinSpec struct {
	Nodes int64
}

func (s PathJoinSpec) validate(name string) error {
	if s.Nodes < 0 {
		return fmt.Errorf("operator %q: path join nodes must not be negative, got %d", name, s.Nodes)
	}
	return nil
}

// PathRecordSize is the modelled size of a path the join emits (two node ids).
const PathRecordSize = 16

// PathJoin joins links (this stream, input 0) with paths (other, input 1) per
// node. Close the cycle with FeedbackTo(join, 1) from the stream of new paths.
func (k *KeyedStream) PathJoin(name string, other *KeyedStream, spec PathJoinSpec) *Stream {
	return k.twoInput(&Vertex{Name: name, Kind: KindPathJoin, PathJoin: &spec}, other)
}

// Path join state layout (namespaces relative to OpContext.NS):
//
//	NS+0  node a, Sub b -> 1: the link a -> b
//	NS+1  node a, Sub x -> 1: the path x -> a
type pathJoinOp struct {
	ctx   *OpContext
	nodes int64
	found []int64 // scratch: the subs one scan found
	scan  func(sub, v int64) bool
	out   Record
}

func newPathJoinOp(spec PathJoinSpec) Operator { return &pathJoinOp{nodes: spec.Nodes} }

func (p *pathJoinOp) Open(ctx *OpContext) error {
	p.ctx = ctx
	p.scan = func(sub, _ int64) bool { p.found = append(p.found, sub); return true }
	return nil
}

// LinkTarget is the target of the link a source record of a path join's input 0
// stands for (see PathJoinSpec).
func LinkTarget(value, nodes int64) uint64 {
	if nodes <= 0 {
		return uint64(value)
	}
	return sim.Mix64(uint64(value)) % uint64(nodes)
}

func (p *pathJoinOp) Process(input int, r *Record, out Collector) {
	a := r.Key
	kg := p.ctx.KeyGroup(a)
	ns := p.ctx.NS
	var sub uint64 // the link's target or the path's start
	switch {
	case input == 0 && r.Split >= 0:
		sub = LinkTarget(r.Value, p.nodes)
	case input == 0, r.Split < 0:
		sub = uint64(r.Value)
	default:
		sub = a
	}
	own, other := ns+uint32(input&1), ns+uint32(1-input&1)
	cell := state.Cell{NS: own, Key: a, Sub: int64(sub)}
	if _, seen := p.ctx.State.Get(kg, cell); seen {
		return
	}
	p.ctx.State.Put(kg, cell, 1)
	p.found = p.found[:0]
	p.ctx.State.ScanKey(kg, other, a, p.scan)
	// Emit after the scan: downstream (chained) operators may touch the backend.
	for _, o := range p.found {
		start, end := int64(sub), uint64(o) // a new path: the links a -> o
		if input == 0 {
			start, end = o, sub // a new link: the paths o -> a
		}
		p.out = Record{Key: end, Value: start, Split: -2, Size: PathRecordSize}
		out.Collect(&p.out)
	}
}

func (p *pathJoinOp) Watermark(sim.Time, Collector) {}

func (p *pathJoinOp) Finish(Collector) {}

// Reachability is the reference of a path join fed all links and starts: the
// multiset of paths it emits, as "start->end" counts. Each pair x -> b comes
// once per link a -> b with x reaching a.
func Reachability(links [][2]uint64, starts []uint64) map[[2]uint64]int {
	out := map[uint64][]uint64{}
	linkSet := map[[2]uint64]bool{}
	for _, l := range links {
		if !linkSet[l] {
			linkSet[l] = true
			out[l[0]] = append(out[l[0]], l[1])
		}
	}
	for a := range out {
		sort.Slice(out[a], func(i, j int) bool { return out[a][i] < out[a][j] })
	}
	reach := map[[2]uint64]bool{} // x -> a known
	var queue [][2]uint64
	for _, x := range starts {
		if p := [2]uint64{x, x}; !reach[p] {
			reach[p] = true
			queue = append(queue, p)
		}
	}
	emitted := map[[2]uint64]int{}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, b := range out[p[1]] {
			q := [2]uint64{p[0], b}
			emitted[q]++
			if !reach[q] {
				reach[q] = true
				queue = append(queue, q)
			}
		}
	}
	return emitted
}
