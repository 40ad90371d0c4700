package sim

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/cespare/xxhash/v2"
	"pgregory.net/rapid"
)

// Event kinds of traceSim.
const (
	simWork uint32 = iota + 1
	simRestart
)

// Ways traceSim can misbehave at its perturb-th event.
const (
	perturbNote  = iota // fold an extra TraceNote
	perturbDraw         // draw once more from the shared stream
	perturbDelay        // schedule its follow-up 1 ns later
	perturbExtra        // schedule one extra event
	perturbModes
)

// traceSim is a small randomized simulation: work events on several nodes schedule
// random follow-ups on random nodes, nodes crash and are restarted later by world
// events, and some events fold notes into the trace. Every decision draws from the
// world's streams, so the run is a function of the seed.
type traceSim struct {
	w       *World
	nodes   []*Node
	r       *Rand
	handled int
	perturb int // index of the event whose handler misbehaves; -1: never
	mode    int
	events  []Event // handled events, when keep is set
	keep    bool
	crashes int
}

func newTraceSim(seed uint64, nodes int) *traceSim {
	w := NewWorld(seed)
	s := &traceSim{w: w, r: w.Rand("sim"), perturb: -1}
	for i := 0; i < nodes; i++ {
		n := w.AddNode(fmt.Sprintf("worker-%d", i))
		n.OnCrash(func() { s.crashes++ })
		s.nodes = append(s.nodes, n)
	}
	for _, n := range s.nodes {
		for j := 0; j < 3; j++ {
			n.After(w.Rand(n.Name()).Jitter(Millisecond), s, simWork, int64(j), 0)
		}
	}
	w.After(Millisecond, s, simWork, -1, 0)
	return s
}

func (s *traceSim) Handle(ev Event) {
	if s.keep {
		s.events = append(s.events, ev)
	}
	k := s.handled
	s.handled++
	delay := Duration(0)
	if k == s.perturb {
		switch s.mode {
		case perturbNote:
			s.w.TraceNote(99, uint64(k), 0)
		case perturbDraw:
			s.r.Uint64()
		case perturbDelay:
			delay = 1
		case perturbExtra:
			s.w.After(0, s, simWork, 1<<40, 0)
		}
	}
	switch ev.Kind {
	case simRestart:
		s.w.Node(NodeID(ev.A)).Restart()
	case simWork:
		n := 1
		switch {
		case s.w.Pending() < 4:
			n = 2
		case s.w.Pending() > 64:
			n = 0
		case s.r.Chance(0.3):
			n = 2
		case s.r.Chance(0.3):
			n = 0
		}
		for ; n > 0; n-- {
			node := s.nodes[s.r.IntN(len(s.nodes))]
			at := s.w.Now().Add(s.w.Rand(node.Name()).Jitter(500*Microsecond) + delay)
			if node.Up() {
				node.Schedule(at, s, simWork, int64(k), int64(s.r.IntN(1000)))
			} else {
				s.w.Schedule(at, s, simWork, int64(k), -1)
			}
		}
		if s.r.Chance(0.02) {
			victim := s.nodes[s.r.IntN(len(s.nodes))]
			if victim.Up() {
				victim.Crash()
				s.w.After(Millisecond+s.r.Jitter(5*Millisecond), s, simRestart, int64(victim.ID()), 0)
			}
		}
		if ev.A%7 == 0 {
			s.w.TraceNote(1, uint64(ev.A), uint64(ev.B))
		}
	}
}

type simResult struct {
	hash           uint64
	fired, dropped uint64
	now            Time
	crashes        int
}

func runTraceSim(seed uint64, until Time) simResult {
	s := newTraceSim(seed, 4)
	s.w.Run(until)
	return simResult{s.w.TraceHash(), s.w.Fired(), s.w.Dropped(), s.w.Now(), s.crashes}
}

// TestTraceSameSeedSameHash: the same seed gives the same trace hash (and counters)
// under GOMAXPROCS 1 and 2, and when several runs go on concurrently in goroutines,
// one world per goroutine: nothing is shared between worlds.
func TestTraceSameSeedSameHash(t *testing.T) {
	const until = Time(20 * Millisecond)
	seeds := []uint64{1, 2, 3, 42, 1 << 63}
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	want := map[uint64]simResult{}
	for _, seed := range seeds {
		want[seed] = runTraceSim(seed, until)
	}
	r := want[1]
	if r.fired < 1000 || r.dropped == 0 || r.crashes == 0 {
		t.Fatalf("the simulation is too tame to prove anything: %+v", r)
	}

	runtime.GOMAXPROCS(2)
	for _, seed := range seeds {
		if got := runTraceSim(seed, until); got != want[seed] {
			t.Fatalf("seed %d: GOMAXPROCS(1) gave %+v, GOMAXPROCS(2) gave %+v", seed, want[seed], got)
		}
	}

	const workers = 6
	got := make([][]simResult, workers)
	var wg sync.WaitGroup
	for g := 0; g < workers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range seeds { // each goroutine visits the seeds in its own order
				seed := seeds[(i+g)%len(seeds)]
				got[g] = append(got[g], runTraceSim(seed, until))
			}
		}()
	}
	wg.Wait()
	for g := range got {
		for i, res := range got[g] {
			seed := seeds[(i+g)%len(seeds)]
			if res != want[seed] {
				t.Fatalf("goroutine %d, seed %d: got %+v, want %+v", g, seed, res, want[seed])
			}
		}
	}
}

// TestTraceGolden pins the trace hash of one run: the same seed must give the same
// hash on every machine and architecture. Update the constant only for a deliberate
// change of what the kernel folds into the trace (or of traceSim).
func TestTraceGolden(t *testing.T) {
	if got := runTraceSim(1, Time(5*Millisecond)); got.hash != goldenTraceHash {
		t.Fatalf("trace hash of seed 1 is %#x, want %#x (%+v)", got.hash, uint64(goldenTraceHash), got)
	}
}

const goldenTraceHash = 0xcb6739b720eab815

// TestTraceSeedsDiffer: 200 seeds give 200 distinct trace hashes.
func TestTraceSeedsDiffer(t *testing.T) {
	seen := map[uint64]uint64{}
	for seed := uint64(0); seed < 200; seed++ {
		h := runTraceSim(seed, Time(2*Millisecond)).hash
		if other, dup := seen[h]; dup {
			t.Fatalf("seeds %d and %d both have trace hash %#x", other, seed, h)
		}
		seen[h] = seed
	}
}

func TestTraceNote(t *testing.T) {
	base := NewWorld(1).TraceHash()
	note := func(notes ...[3]uint64) uint64 {
		w := NewWorld(1)
		for _, n := range notes {
			w.TraceNote(n[0], n[1], n[2])
		}
		return w.TraceHash()
	}
	a := note([3]uint64{1, 2, 3})
	if a == base {
		t.Fatalf("TraceNote did not change the hash")
	}
	if note([3]uint64{1, 2, 3}) != a {
		t.Fatalf("the same note gave different hashes")
	}
	distinct := map[uint64]string{base: "none"}
	for _, notes := range [][][3]uint64{
		{{1, 2, 3}}, {{1, 2, 4}}, {{1, 3, 3}}, {{2, 2, 3}}, {{0, 0, 0}},
		{{1, 2, 3}, {1, 2, 3}}, {{1, 2, 3}, {0, 0, 0}}, {{0, 0, 0}, {1, 2, 3}},
	} {
		h := note(notes...)
		if prev, dup := distinct[h]; dup {
			t.Fatalf("notes %v and %s give the same hash", notes, prev)
		}
		distinct[h] = fmt.Sprint(notes)
	}
	// The time of a note counts too.
	w1, w2 := NewWorld(1), NewWorld(1)
	w1.Run(10)
	w2.Run(11)
	w1.TraceNote(1, 2, 3)
	w2.TraceNote(1, 2, 3)
	if w1.TraceHash() == w2.TraceHash() {
		t.Fatalf("notes at different times give the same hash")
	}
	// A note changes the hash of every later event of a run.
	r1, r2 := newTraceSim(5, 3), newTraceSim(5, 3)
	r2.w.TraceNote(7, 0, 0)
	r1.w.Run(Time(Millisecond))
	r2.w.Run(Time(Millisecond))
	if r1.w.Fired() != r2.w.Fired() || r1.w.TraceHash() == r2.w.TraceHash() {
		t.Fatalf("a note before the run: fired %d/%d, hashes %#x/%#x", r1.w.Fired(), r2.w.Fired(), r1.w.TraceHash(), r2.w.TraceHash())
	}
}

// recordSim runs traceSim and returns it with the hash log it recorded.
func recordSim(seed uint64, until Time, perturb, mode int) (*traceSim, *HashLog) {
	s := newTraceSim(seed, 4)
	s.perturb, s.mode, s.keep = perturb, mode, true
	l := NewHashLog()
	s.w.SetHashLog(l)
	s.w.Run(until)
	return s, l
}

func TestHashLogIdenticalRun(t *testing.T) {
	const until = Time(10 * Millisecond)
	rec, l := recordSim(9, until, -1, 0)
	if l.Len() != int(rec.w.Fired()) || len(l.Hashes()) != l.Len() {
		t.Fatalf("recorded %d hashes for %d events", l.Len(), rec.w.Fired())
	}
	for name, check := range map[string]*HashLog{"Check": l.Check(), "LoadHashLog": LoadHashLog(l.Hashes())} {
		s := newTraceSim(9, 4)
		s.w.SetHashLog(check)
		s.w.Run(until)
		if check.Divergence != nil {
			t.Fatalf("%s: identical run diverged: %v", name, check.Divergence)
		}
		if s.w.Stopped() || check.Len() != l.Len() || s.w.TraceHash() != rec.w.TraceHash() {
			t.Fatalf("%s: stopped %v, checked %d of %d events", name, s.w.Stopped(), check.Len(), l.Len())
		}
	}
}

// TestHashLogFindsDivergence: a run that misbehaves at its k-th event, checked against
// the record of a well-behaved run of the same seed, stops at the first event whose
// hash differs, and the Divergence names exactly that event.
func TestHashLogFindsDivergence(t *testing.T) {
	const until = Time(5 * Millisecond)
	rapid.Check(t, func(t *rapid.T) {
		seed := rapid.Uint64().Draw(t, "seed")
		_, record := recordSim(seed, until, -1, 0)
		n := len(record.Hashes())
		k := rapid.IntRange(0, n-1).Draw(t, "k")
		mode := rapid.IntRange(0, perturbModes-1).Draw(t, "mode")
		bad, badLog := recordSim(seed, until, k, mode)

		// The first index at which the two records differ.
		want, bh := -1, badLog.Hashes()
		for i := 0; i < n && i < len(bh); i++ {
			if bh[i] != record.Hashes()[i] {
				want = i
				break
			}
		}
		if want < 0 && len(bh) > n {
			want = n // the bad run goes on past the record
		}
		if want >= 0 && want <= k {
			t.Fatalf("the runs differ at event %d, before the perturbation at %d", want, k)
		}
		if mode == perturbNote && k+1 < len(bh) && want != k+1 {
			t.Fatalf("a note at event %d first shows at %d", k, want)
		}

		s := newTraceSim(seed, 4)
		s.perturb, s.mode, s.keep = k, mode, true
		check := record.Check()
		s.w.SetHashLog(check)
		s.w.Run(until)
		d := check.Divergence
		if want < 0 {
			if d != nil || s.w.Stopped() {
				t.Fatalf("no divergence expected, got %v", d)
			}
			if check.Len() != len(bh) {
				t.Fatalf("checked %d events, the run has %d", check.Len(), len(bh))
			}
			return
		}
		if d == nil {
			t.Fatalf("perturbation %d at event %d of %d: no divergence reported, want one at %d", mode, k, n, want)
		}
		if d.Index != want {
			t.Fatalf("Divergence at %d, want %d: %v", d.Index, want, d)
		}
		if !s.w.Stopped() || s.handled != want+1 || s.w.Fired() != uint64(want+1) {
			t.Fatalf("the run did not stop at the divergent event: stopped %v, handled %d, fired %d", s.w.Stopped(), s.handled, s.w.Fired())
		}
		ev := bad.events[want]
		if d.At != ev.At || d.Kind != ev.Kind || d.Node != ev.Node || d.A != ev.A || d.B != ev.B {
			t.Fatalf("Divergence %+v does not describe event %d %+v", d, want, ev)
		}
		if d.Got != bh[want] || d.RecordSize != n {
			t.Fatalf("Divergence Got %#x RecordSize %d, want %#x and %d", d.Got, d.RecordSize, bh[want], n)
		}
		if want < n {
			if d.Want != record.Hashes()[want] || !strings.Contains(d.Error(), fmt.Sprintf("event %d", want)) {
				t.Fatalf("Divergence Want %#x (recorded %#x), %q", d.Want, record.Hashes()[want], d.Error())
			}
		} else if !strings.Contains(d.Error(), "past the recorded") {
			t.Fatalf("Divergence past the record: %q", d.Error())
		}
	})
}

// TestHashLogRunPastRecord: a run longer than its record stops at the first extra event.
func TestHashLogRunPastRecord(t *testing.T) {
	_, short := recordSim(3, Time(2*Millisecond), -1, 0)
	s := newTraceSim(3, 4)
	check := short.Check()
	s.w.SetHashLog(check)
	s.w.Run(Time(4 * Millisecond))
	d := check.Divergence
	n := len(short.Hashes())
	if d == nil || d.Index != n || d.RecordSize != n || s.w.Fired() != uint64(n+1) || !s.w.Stopped() {
		t.Fatalf("divergence %v after %d events, record of %d", d, s.w.Fired(), n)
	}
	if !strings.Contains(d.Error(), "past the recorded") {
		t.Fatalf("Error() = %q", d.Error())
	}
}

// The trace's fold is xxhash.Sum64 of its 40 bytes, word for word: the inlined
// version changes no trace hash.
func TestXXHash40IsXXHashSum64(t *testing.T) {
	r := NewRand(1, "test/xxhash40")
	var buf [40]byte
	for i := 0; i < 10000; i++ {
		w := [5]uint64{r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64()}
		if i < 5 {
			w = [5]uint64{}
			w[i] = ^uint64(0)
		}
		for j, v := range w {
			binary.LittleEndian.PutUint64(buf[8*j:], v)
		}
		if got, want := xxhash40(w[0], w[1], w[2], w[3], w[4]), xxhash.Sum64(buf[:]); got != want {
			t.Fatalf("xxhash40(%x) = %x, xxhash.Sum64 = %x", w, got, want)
		}
	}
}
