package sim

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

// storeNotice is a completion as a handler saw it.
type storeNotice struct {
	At   Time
	Kind uint32
	Node NodeID
	Inc  uint32
	A, B int64
}

// storeRec records the completions it receives.
type storeRec struct{ got []storeNotice }

func (r *storeRec) Handle(ev Event) {
	r.got = append(r.got, storeNotice{At: ev.At, Kind: ev.Kind, Node: ev.Node, Inc: ev.Inc, A: ev.A, B: ev.B})
}

const (
	storeKB = 1 << 10
	storeMB = 1 << 20
)

func TestStorePutTime(t *testing.T) {
	cases := []struct {
		name    string
		cfg     StoreConfig
		slow    float64
		size    int64
		startAt Time
		want    Time
	}{
		{"latency only, infinite bandwidth", StoreConfig{Latency: 10 * Millisecond}, 1, storeMB, 0, Time(10 * Millisecond)},
		{"one second of transfer", StoreConfig{Latency: 10 * Millisecond, Bandwidth: storeMB}, 1, storeMB, 0, Time(Second + 10*Millisecond)},
		{"started later", StoreConfig{Latency: 10 * Millisecond, Bandwidth: storeMB}, 1, storeMB / 2, Time(3 * Second), Time(3*Second + 500*Millisecond + 10*Millisecond)},
		{"zero size", StoreConfig{Latency: 5 * Millisecond, Bandwidth: storeMB}, 1, 0, 0, Time(5 * Millisecond)},
		{"rounds up", StoreConfig{Bandwidth: 3}, 1, 1, 0, Time(333333334)},
		{"no latency", StoreConfig{Bandwidth: 1000}, 1, 1, 0, Time(Millisecond)},
		{"huge blob", StoreConfig{Bandwidth: 1 << 30}, 1, 1 << 40, 0, Time(1024 * Second)},
		{"slowdown 2 doubles both", StoreConfig{Latency: 10 * Millisecond, Bandwidth: storeMB}, 2, storeMB, 0, Time(2*Second + 20*Millisecond)},
		{"slowdown 0.5 halves both", StoreConfig{Latency: 10 * Millisecond, Bandwidth: storeMB}, 0.5, storeMB, 0, Time(500*Millisecond + 5*Millisecond)},
		{"slowdown on latency only", StoreConfig{Latency: 10 * Millisecond}, 3, storeMB, 0, Time(30 * Millisecond)},
		{"slowdown rounds up", StoreConfig{Latency: 1}, 1.5, 0, 0, Time(2)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := NewWorld(1)
			n := w.AddNode("worker-0")
			s := NewStore(w, tc.cfg)
			if tc.slow != 1 {
				s.SetSlowdown(tc.slow)
			}
			rec := &storeRec{}
			w.Run(tc.startAt)
			s.Put(n, "blob", Blob{Size: tc.size, Data: "x"}, rec, 7, 42)
			w.Run(tc.want - 1)
			if _, ok := s.Lookup("blob"); ok || len(rec.got) != 0 {
				t.Fatalf("done before %v", tc.want)
			}
			w.RunUntilIdle()
			want := []storeNotice{{At: tc.want, Kind: 7, Node: n.ID(), Inc: 1, A: 42, B: StoreOK}}
			if diff := cmp.Diff(want, rec.got); diff != "" {
				t.Errorf("completions (-want +got):\n%s", diff)
			}
			if b, ok := s.Lookup("blob"); !ok || b.Data != "x" || b.Size != tc.size {
				t.Errorf("Lookup = %+v, %v", b, ok)
			}
		})
	}
}

// storeTestOp is one operation of the FIFO property: started gap after the previous
// one, moving size bytes.
type storeTestOp struct {
	gap  Duration
	size int64
	get  bool
}

// TestStoreFIFOProperty checks that concurrent transfers queue FIFO through the
// bandwidth: each completes at max(start, previous transfer end) + size/bandwidth +
// latency, scaled by the slowdown in force when it started.
func TestStoreFIFOProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := StoreConfig{
			Latency:   Duration(rapid.Int64Range(0, int64(100*Millisecond)).Draw(t, "latency")),
			Bandwidth: rapid.Int64Range(0, 100*storeMB).Draw(t, "bandwidth"),
		}
		slow := rapid.SampledFrom([]float64{1, 1, 2, 0.5, 3.7}).Draw(t, "slow")
		ops := rapid.SliceOfN(rapid.Custom(func(t *rapid.T) storeTestOp {
			return storeTestOp{
				gap:  Duration(rapid.Int64Range(0, int64(2*Second)).Draw(t, "gap")),
				size: rapid.Int64Range(0, 50*storeMB).Draw(t, "size"),
				get:  rapid.Bool().Draw(t, "get"),
			}
		}), 1, 30).Draw(t, "ops")

		w := NewWorld(1)
		n := w.AddNode("worker-0")
		s := NewStore(w, cfg)
		s.SetSlowdown(slow)
		// Every Get reads a blob stored up front, of the op's size.
		for i, op := range ops {
			if op.get {
				s.Put(nil, storeTestName(i), Blob{Size: op.size}, nil, 0, 0)
			}
		}
		w.RunUntilIdle()
		start := w.Now()
		want := make([]Time, len(ops))
		busy, at := start, start
		for i, op := range ops {
			at = at.Add(op.gap)
			busy = max(busy, at).Add(s.TransferTime(op.size))
			want[i] = busy.Add(s.scale(cfg.Latency))
		}

		rec := &storeRec{}
		at = start
		for i, op := range ops {
			at = at.Add(op.gap)
			w.Run(at)
			if op.get {
				s.Get(n, storeTestName(i), rec, 1, int64(i))
			} else {
				s.Put(n, "put/"+storeTestName(i), Blob{Size: op.size}, rec, 2, int64(i))
			}
		}
		w.RunUntilIdle()
		if len(rec.got) != len(ops) {
			t.Fatalf("%d completions for %d ops", len(rec.got), len(ops))
		}
		got := make([]Time, len(ops))
		for _, c := range rec.got {
			if c.B != StoreOK {
				t.Fatalf("op %d failed with %d", c.A, c.B)
			}
			got[c.A] = c.At
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("completion times (-want +got):\n%s", diff)
		}
		if !slices.IsSorted(got) {
			t.Fatalf("completions out of FIFO order: %v", got)
		}
		var putBytes, getBytes int64
		for _, op := range ops {
			if op.get {
				getBytes += op.size
			}
			putBytes += op.size // gets' blobs were put up front
		}
		st := s.Stats()
		if st.BytesWritten != putBytes || st.BytesRead != getBytes || st.Failed != 0 {
			t.Fatalf("stats %+v, want %d bytes written and %d read", st, putBytes, getBytes)
		}
	})
}

func storeTestName(i int) string { return "blob/" + string(rune('a'+i%26)) + string(rune('a'+i/26)) }

func TestStoreDurableWhenCallerCrashes(t *testing.T) {
	cases := []struct {
		name    string
		restart bool
	}{
		{"caller stays down", false},
		{"caller restarted before completion", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := NewWorld(1)
			n := w.AddNode("worker-0")
			s := NewStore(w, StoreConfig{Latency: 10 * Millisecond, Bandwidth: storeMB})
			rec := &storeRec{}
			s.Put(n, "ckpt/1", Blob{Size: storeMB, Data: 1}, rec, 1, 0)
			done := Time(Second + 10*Millisecond)
			w.Run(Time(500 * Millisecond))
			n.Crash()
			if tc.restart {
				w.Run(Time(600 * Millisecond))
				n.Restart()
			}
			w.Run(done - 1)
			if _, ok := s.Lookup("ckpt/1"); ok {
				t.Fatal("blob durable before its upload completed")
			}
			w.Run(done)
			if b, ok := s.Lookup("ckpt/1"); !ok || b.Data != 1 {
				t.Fatalf("blob not durable at completion: %+v %v", b, ok)
			}
			w.RunUntilIdle()
			if len(rec.got) != 0 {
				t.Fatalf("crashed incarnation received %+v", rec.got)
			}
			if w.Dropped() != 1 {
				t.Errorf("Dropped = %d, want 1", w.Dropped())
			}
			// A crash after completion loses nothing either.
			n.Crash()
			if _, ok := s.Lookup("ckpt/1"); !ok {
				t.Error("blob lost at a later crash")
			}
			if st := s.Stats(); st.PutsDone != 1 || st.BytesWritten != storeMB {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestStoreNewIncarnationGetsItsOwnCompletions(t *testing.T) {
	w := NewWorld(1)
	n := w.AddNode("worker-0")
	s := NewStore(w, StoreConfig{Latency: 10 * Millisecond})
	rec := &storeRec{}
	s.Put(n, "old", Blob{Size: 1}, rec, 1, 1)
	n.Crash()
	n.Restart()
	s.Put(n, "new", Blob{Size: 1}, rec, 1, 2)
	w.RunUntilIdle()
	want := []storeNotice{{At: Time(10 * Millisecond), Kind: 1, Node: n.ID(), Inc: 3, A: 2}}
	if diff := cmp.Diff(want, rec.got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if s.Len() != 2 {
		t.Errorf("Len = %d, want 2", s.Len())
	}
}

func TestStoreOutage(t *testing.T) {
	w := NewWorld(1)
	n := w.AddNode("coordinator")
	s := NewStore(w, StoreConfig{Latency: 10 * Millisecond, Bandwidth: storeMB})
	rec := &storeRec{}
	s.Put(n, "before", Blob{Size: storeMB}, rec, 1, 1) // started before: completes
	s.Put(n, "existing", Blob{Size: 0}, nil, 0, 0)
	w.Run(Time(100 * Millisecond))
	s.SetOutage(true)
	if !s.Outage() {
		t.Fatal("Outage() = false")
	}
	s.Put(n, "during", Blob{Size: storeMB}, rec, 1, 2)
	s.Get(n, "existing", rec, 2, 3)
	s.Get(n, "missing", rec, 2, 4)
	w.Run(Time(2 * Second))
	s.SetOutage(false)
	s.Put(n, "after", Blob{Size: 0}, rec, 1, 5)
	s.Get(n, "existing", rec, 2, 6)
	w.RunUntilIdle()
	fail := Time(110 * Millisecond)
	want := []storeNotice{
		{At: fail, Kind: 1, Node: n.ID(), Inc: 1, A: 2, B: StoreFailed},
		{At: fail, Kind: 2, Node: n.ID(), Inc: 1, A: 3, B: StoreFailed},
		{At: fail, Kind: 2, Node: n.ID(), Inc: 1, A: 4, B: StoreFailed},
		{At: Time(Second + 10*Millisecond), Kind: 1, Node: n.ID(), Inc: 1, A: 1, B: StoreOK},
		{At: Time(2*Second + 10*Millisecond), Kind: 1, Node: n.ID(), Inc: 1, A: 5, B: StoreOK},
		{At: Time(2*Second + 10*Millisecond), Kind: 2, Node: n.ID(), Inc: 1, A: 6, B: StoreOK},
	}
	if diff := cmp.Diff(want, rec.got); diff != "" {
		t.Errorf("completions (-want +got):\n%s", diff)
	}
	if _, ok := s.Lookup("during"); ok {
		t.Error("a put failed by the outage was stored")
	}
	if got, want := s.List(""), []string{"after", "before", "existing"}; !slices.Equal(got, want) {
		t.Errorf("List = %v, want %v", got, want)
	}
	wantStats := StoreStats{Puts: 4, Gets: 3, PutsDone: 3, GetsDone: 1, Failed: 3, BytesWritten: storeMB}
	if diff := cmp.Diff(wantStats, s.Stats()); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
}

func TestStoreGet(t *testing.T) {
	w := NewWorld(1)
	n := w.AddNode("worker-0")
	s := NewStore(w, StoreConfig{Latency: 10 * Millisecond, Bandwidth: storeMB})
	s.Put(nil, "a", Blob{Size: storeMB, Data: []int{1, 2}}, nil, 0, 0)
	s.Put(nil, "b", Blob{Size: storeMB / 2}, nil, 0, 0)
	w.RunUntilIdle()
	t0 := w.Now()
	var got []Blob
	h := storeFunc(func(ev Event) {
		if ev.B == StoreOK {
			b, _ := s.Lookup("a")
			got = append(got, b)
		}
	})
	rec := &storeRec{}
	s.Get(n, "a", rec, 1, 1)
	s.Get(n, "a", h, 1, 2)
	s.Get(n, "missing", rec, 1, 3)
	s.Get(n, "b", rec, 1, 4)
	s.Delete("b") // deleted while its Get is in flight
	w.RunUntilIdle()
	want := []storeNotice{
		{At: t0.Add(10 * Millisecond), Kind: 1, Node: n.ID(), Inc: 1, A: 3, B: StoreNotFound},
		{At: t0.Add(Second + 10*Millisecond), Kind: 1, Node: n.ID(), Inc: 1, A: 1, B: StoreOK},
		{At: t0.Add(5*Second/2 + 10*Millisecond), Kind: 1, Node: n.ID(), Inc: 1, A: 4, B: StoreNotFound},
	}
	if diff := cmp.Diff(want, rec.got); diff != "" {
		t.Errorf("completions (-want +got):\n%s", diff)
	}
	if len(got) != 1 || !cmp.Equal(got[0].Data, []int{1, 2}) {
		t.Errorf("handler read %+v", got)
	}
	wantStats := StoreStats{Puts: 2, Gets: 4, PutsDone: 2, GetsDone: 2, Failed: 2, NotFound: 2,
		BytesWritten: storeMB + storeMB/2, BytesRead: 2 * storeMB}
	if diff := cmp.Diff(wantStats, s.Stats()); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
}

// storeFunc adapts a function to Handler.
type storeFunc func(Event)

func (f storeFunc) Handle(ev Event) { f(ev) }

func TestStoreListAndDelete(t *testing.T) {
	w := NewWorld(1)
	s := NewStore(w, StoreConfig{})
	for _, name := range []string{"chk-2/op-1", "chk-10/op-0", "chk-1/op-0", "meta/chk-1", "chk-1/op-1"} {
		s.Put(nil, name, Blob{Size: 1}, nil, 0, 0)
	}
	w.RunUntilIdle()
	cases := []struct {
		prefix string
		want   []string
	}{
		{"", []string{"chk-1/op-0", "chk-1/op-1", "chk-10/op-0", "chk-2/op-1", "meta/chk-1"}},
		{"chk-1/", []string{"chk-1/op-0", "chk-1/op-1"}},
		{"chk-1", []string{"chk-1/op-0", "chk-1/op-1", "chk-10/op-0"}},
		{"meta/", []string{"meta/chk-1"}},
		{"nothing", nil},
	}
	for _, tc := range cases {
		if got := s.List(tc.prefix); !slices.Equal(got, tc.want) {
			t.Errorf("List(%q) = %v, want %v", tc.prefix, got, tc.want)
		}
	}
	if !s.Delete("chk-1/op-0") || s.Delete("chk-1/op-0") {
		t.Error("Delete did not report existence")
	}
	if got := s.List("chk-1/"); !slices.Equal(got, []string{"chk-1/op-1"}) {
		t.Errorf("after delete, List = %v", got)
	}
}

func TestStoreSlowdownAppliesToNewOps(t *testing.T) {
	w := NewWorld(1)
	n := w.AddNode("worker-0")
	s := NewStore(w, StoreConfig{Latency: 10 * Millisecond, Bandwidth: storeMB})
	rec := &storeRec{}
	s.Put(n, "a", Blob{Size: storeMB}, rec, 1, 1)
	s.SetSlowdown(4)
	s.Put(n, "b", Blob{Size: storeMB}, rec, 1, 2) // queued behind a, four times slower
	s.SetSlowdown(1)
	s.Put(n, "c", Blob{Size: storeMB}, rec, 1, 3)
	w.RunUntilIdle()
	var got []Time
	for _, c := range rec.got {
		got = append(got, c.At)
	}
	want := []Time{Time(Second + 10*Millisecond), Time(5*Second + 40*Millisecond), Time(6*Second + 10*Millisecond)}
	if !slices.Equal(got, want) {
		t.Errorf("completions at %v, want %v", got, want)
	}
}

func TestStoreTraceDeterministic(t *testing.T) {
	run := func(size int64) uint64 {
		w := NewWorld(9)
		n := w.AddNode("worker-0")
		s := NewStore(w, StoreConfig{Latency: Millisecond, Bandwidth: storeMB})
		rec := &storeRec{}
		s.Put(n, "a", Blob{Size: size}, rec, 1, 1)
		s.SetOutage(true)
		s.Get(n, "a", rec, 2, 2)
		s.SetOutage(false)
		w.RunUntilIdle()
		s.Get(n, "a", rec, 2, 3)
		s.Delete("a")
		w.RunUntilIdle()
		return w.TraceHash()
	}
	if first, second := run(100), run(100); first != second {
		t.Error("same run, different trace hash")
	}
	if run(100) == run(101) {
		t.Error("trace hash does not see the blob size")
	}
}

func TestStoreRejectsBadSettings(t *testing.T) {
	w := NewWorld(1)
	for name, f := range map[string]func(){
		"negative latency":   func() { NewStore(w, StoreConfig{Latency: -1}) },
		"negative bandwidth": func() { NewStore(w, StoreConfig{Bandwidth: -1}) },
		"zero slowdown":      func() { NewStore(w, StoreConfig{}).SetSlowdown(0) },
		"negative size":      func() { NewStore(w, StoreConfig{}).Put(nil, "a", Blob{Size: -1}, nil, 0, 0) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// TestStoreCrash: a crash fails the operations in flight (a put started before
// it is not stored) and every operation until the outage heals.
func TestStoreCrash(t *testing.T) {
	w := NewWorld(1)
	n := w.AddNode("coordinator")
	s := NewStore(w, StoreConfig{Latency: 10 * Millisecond, Bandwidth: storeMB})
	rec := &storeRec{}
	s.Put(n, "done", Blob{Size: 0}, rec, 1, 1)
	w.Run(Time(100 * Millisecond))
	s.Put(n, "in-flight", Blob{Size: storeMB}, rec, 1, 2) // done at 1.11 s
	s.Get(n, "done", rec, 2, 3)
	w.Run(Time(105 * Millisecond))
	if got := s.Crash(); got != 2 {
		t.Fatalf("Crash failed %d operations, want 2", got)
	}
	s.Put(n, "during", Blob{Size: 0}, rec, 1, 4)
	w.Run(Time(500 * Millisecond))
	s.SetOutage(false)
	s.Put(n, "after", Blob{Size: 0}, rec, 1, 5)
	w.RunUntilIdle()
	want := []storeNotice{
		{At: Time(10 * Millisecond), Kind: 1, Node: n.ID(), Inc: 1, A: 1, B: StoreOK},
		{At: Time(115 * Millisecond), Kind: 1, Node: n.ID(), Inc: 1, A: 4, B: StoreFailed},
		// queued behind the in-flight put's transfer: they fail when it would have ended
		{At: Time(Second + 110*Millisecond), Kind: 1, Node: n.ID(), Inc: 1, A: 2, B: StoreFailed},
		{At: Time(Second + 110*Millisecond), Kind: 2, Node: n.ID(), Inc: 1, A: 3, B: StoreFailed},
		{At: Time(Second + 110*Millisecond), Kind: 1, Node: n.ID(), Inc: 1, A: 5, B: StoreOK},
	}
	if diff := cmp.Diff(want, rec.got); diff != "" {
		t.Errorf("completions (-want +got):\n%s", diff)
	}
	if got, want := s.List(""), []string{"after", "done"}; !slices.Equal(got, want) {
		t.Errorf("List = %v, want %v", got, want)
	}
}
