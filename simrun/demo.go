package simrun

import (
	"fmt"
	"time"

	"github.com/ckptsim/ckptsim/sim"
	"github.com/spf13/cobra"
)

func demoCmd() *cobra.Command {
	var seed uint64
	var out string
	c := &cobra.Command{
		Use:   "demo",
		Short: "Run a small kernel demo: a producer, a slow consumer, credit-based flow control and a crash",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutputs(outDir{"--out", out}); err != nil {
				return err
			}
			start := time.Now() // wall time, reported only
			r := runDemo(seed)
			wall := time.Since(start)
			text := fmt.Sprintf(`ckptsim kernel demo (seed %d)
  simulated time        %v
  events handled        %d (dropped after crash: %d)
  buffers delivered     %d (%.0f buffers/s simulated)
  producer backpressured %.1f%% of the time
  crashes / restarts    1 / 1 (consumer node)
  trace hash            %016x
  same seed again       %016x (%s)
  wall time             %v
`, seed, r.simTime, r.events, r.dropped, r.delivered, float64(r.delivered)/r.simTime.Seconds(),
				100*r.bpShare, r.hash, r.again, verdict(r.hash == r.again), wall.Round(time.Millisecond))
			fmt.Fprint(cmd.OutOrStdout(), text)
			if out != "" {
				if err := writeOut(out, "demo.txt", []byte(text)); err != nil {
					return err
				}
			}
			if r.hash != r.again {
				return &exitError{code: 1, err: fmt.Errorf("determinism check failed: %016x != %016x", r.hash, r.again)}
			}
			return nil
		},
	}
	c.Flags().Uint64Var(&seed, "seed", 42, "root seed of the run")
	c.Flags().StringVar(&out, "out", "", "directory to write demo.txt into")
	return c
}

func verdict(ok bool) string {
	if ok {
		return "deterministic"
	}
	return "MISMATCH"
}

type demoResult struct {
	simTime         sim.Time
	events, dropped uint64
	delivered       int64
	bpShare         float64
	hash, again     uint64
}

// demoProducer sends fixed-size buffers whenever its partition has a free one.
type demoProducer struct {
	p         *sim.Partition
	ch        *sim.Channel
	w         *sim.World
	blockedAt sim.Time
	blocked   bool
	bp        sim.Duration
}

func (d *demoProducer) fill() {
	for d.ch != nil && !d.ch.Broken() && d.p.Acquire() {
		d.ch.Send(sim.Msg{Size: 32 * 1024})
	}
	if d.ch != nil && !d.ch.Broken() && !d.blocked {
		d.blocked, d.blockedAt = true, d.w.Now()
	}
}
func (d *demoProducer) BufferAvailable(*sim.Partition) {
	if d.blocked {
		d.blocked = false
		d.bp += d.w.Now().Sub(d.blockedAt)
	}
	d.fill()
}
func (d *demoProducer) Upstream(*sim.Channel, int64) {}
func (d *demoProducer) ChannelBroken(*sim.Channel)   {}

// demoConsumer takes 2 ms per buffer.
type demoConsumer struct {
	g         *sim.Gate
	n         *sim.Node
	busy      bool
	delivered int64
}

func (c *demoConsumer) InputAvailable(*sim.Gate, bool) { c.kick() }
func (c *demoConsumer) ChannelBroken(*sim.Channel)     {}
func (c *demoConsumer) kick() {
	if !c.busy {
		c.busy = true
		c.n.After(2*sim.Millisecond, c, 1, 0, 0)
	}
}
func (c *demoConsumer) Handle(sim.Event) {
	c.busy = false
	if ch, m, ok := c.g.Poll(); ok {
		if !m.Event {
			c.delivered++
			ch.Recycle()
		}
		c.kick()
	}
}

type crasher struct {
	n         *sim.Node
	nw        *sim.Network
	reconnect func()
}

func (c *crasher) Handle(ev sim.Event) {
	if ev.Kind == 1 {
		c.n.Crash()
	} else {
		c.n.Restart()
		c.reconnect()
	}
}

func simulate(seed uint64) (demoResult, *sim.World) {
	w := sim.NewWorld(seed)
	nw := sim.NewNetwork(w, sim.NetConfig{Remote: sim.LinkConfig{Latency: sim.Millisecond, Jitter: 200 * sim.Microsecond, Bandwidth: 125_000_000}})
	pn, cn := w.AddNode("producer"), w.AddNode("consumer")
	prod := &demoProducer{w: w}
	cons := &demoConsumer{n: cn}
	connect := func() {
		prod.p = nw.NewPartition(pn, 0, prod)
		cons.g = nw.NewGate(cn, cons)
		cons.busy = false
		prod.ch = nw.Connect(prod.p, cons.g)
		prod.blocked = false
		prod.fill()
	}
	connect()
	cr := &crasher{n: cn, nw: nw, reconnect: connect}
	w.Schedule(sim.Time(5*sim.Second), cr, 1, 0, 0)
	w.Schedule(sim.Time(6*sim.Second), cr, 2, 0, 0)
	end := sim.Time(10 * sim.Second)
	w.Run(end)
	return demoResult{simTime: end, events: w.Fired(), dropped: w.Dropped(), delivered: cons.delivered,
		bpShare: prod.bp.Seconds() / end.Seconds(), hash: w.TraceHash()}, w
}

func runDemo(seed uint64) demoResult {
	r, _ := simulate(seed)
	again, _ := simulate(seed)
	r.again = again.hash
	return r
}
