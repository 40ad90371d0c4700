package scenarios

import (
	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/engine"
	"github.com/ckptsim/ckptsim/protocol"
	"github.com/ckptsim/ckptsim/sim"
)

// cycleShape is the explore family's cyclic job: incremental reachability, as
// the cyclic-reachability scenario, with a random graph. A case is cyclic with
// probability cycleChance, drawn from a stream of its own so that every other
// case keeps its draws; only under a protocol that checkpoints cycles (a drawn
// protocol that does not becomes aligned).
const cycleShape = "cycle"

const cycleChance = 0.2

// narrowChance is the probability that a cyclic case takes the narrow loop of
// the cyclic-narrow-loop scenario: select (and project) at parallelism 1 for two
// or more join subtasks, rebalanced. Otherwise the loop is chained to the join,
// every loop task also sends to itself over the keyed back edge, and HMNR's
// first forcing condition covers it; in the narrow loop a join subtask sends
// only to select, and only the second condition keeps select's checkpoints off
// Z-cycles (what mutant/cic-skip-forced drops). Drawn from a stream of its own,
// so that every other draw of a cyclic case stays as it was.
const narrowChance = 0.5

// cycleLoops are the cyclic jobs a random case may draw.
type cycleLoops int

const (
	anyLoop     cycleLoops = iota // the chained loop or the narrow one
	noLoop                        // no cyclic job
	chainedLoop                   // only the chained loop: a case as drawn before the narrow one existed
)

// cycleDraw is what a cyclic case drew.
type cycleDraw struct {
	nodes          int
	links          int64   // per split
	linkRate       float64 // per split
	starts         int64
	startRate      float64
	selectCost     sim.Duration
	joinPar, outPa int
	narrow         bool // select at parallelism 1 for joinPar >= 2 join subtasks
}

// drawCycle draws a cyclic case for seed, or nil.
func drawCycle(seed uint64, loops cycleLoops) *cycleDraw {
	r := sim.NewRand(seed, "explore/cycle")
	if !r.Chance(cycleChance) || loops == noLoop {
		return nil
	}
	c := &cycleDraw{nodes: 20 + r.IntN(60)}
	c.links = int64(c.nodes * (1 + r.IntN(3)))
	c.linkRate = float64(100 + r.IntN(900))
	c.starts = int64(2 + r.IntN(6))
	c.startRate = float64(10 + r.IntN(40))
	c.selectCost = sim.Duration(r.Int64N(int64(300 * sim.Microsecond)))
	c.joinPar, c.outPa = 1+r.IntN(4), 1+r.IntN(2)
	if sim.NewRand(seed, "explore/cycle-narrow").Chance(narrowChance) && loops == anyLoop {
		c.narrow, c.joinPar = true, max(c.joinPar, 2)
	}
	return c
}

// cycleProtocol is the protocol of a cyclic case: the one asked for or drawn,
// aligned instead of a drawn one that refuses cycles; ok is false when the
// protocol asked for refuses them (the case is not cyclic then).
func cycleProtocol(asked, drawn string) (string, bool) {
	name := asked
	if name == "" {
		name = drawn
	}
	p, err := engine.LookupProtocol(name)
	switch {
	case err != nil:
		return asked, false
	case checkpoint.SupportsFeedback(p):
		return name, true
	case asked == "":
		return protocol.AlignedName, true
	}
	return asked, false
}

// build adds the cyclic job to j: links (splits of the family's source) and
// starts -> join (path join) -> select -> project -> out, project fed back to
// the join keyed by path end; select chained to the join, or rebalanced to one
// select task when the loop is narrow.
func (c *cycleDraw) build(j *engine.Job, splits, srcPar int, sink engine.SinkSpec, sinkCost sim.Duration) {
	keys := engine.KeySpec{Count: c.nodes}
	links := j.Source("links", engine.SourceSpec{Splits: splits, Records: (c.links + int64(splits) - 1) / int64(splits),
		Rate: c.linkRate, Keys: keys, Seed: 1, RecordSize: engine.PathRecordSize}).Parallelism(srcPar)
	starts := j.Source("starts", engine.SourceSpec{Splits: 1, Records: c.starts, Rate: c.startRate, Keys: keys, Seed: 2,
		RecordSize: engine.PathRecordSize})
	join := links.KeyBy().PathJoin("join", starts.KeyBy(), engine.PathJoinSpec{Nodes: int64(c.nodes)}).Parallelism(c.joinPar).
		Cost(20 * sim.Microsecond)
	into := join
	if c.narrow {
		into = join.Rebalance()
	}
	sel := into.Map("select", nil).Cost(c.selectCost)
	if c.narrow {
		sel.Parallelism(1)
	}
	project := sel.Map("project", nil)
	project.KeyBy().FeedbackTo(join, 1)
	project.Rebalance().Sink("out", sink).Parallelism(c.outPa).Cost(sinkCost / 8)
}
