package state

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/ckptsim/ckptsim/sim"
	"github.com/ckptsim/ckptsim/sim/disk"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

func newPebble(t testing.TB, fs vfs.FS, rng KeyGroupRange) *Pebble {
	t.Helper()
	p, err := NewPebble(fs, "state/op-1", rng)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func TestPebbleKeyEncodingOrder(t *testing.T) {
	type key struct {
		kg int
		k  Cell
	}
	keys := []key{
		{0, Cell{0, 0, math.MinInt64}},
		{0, Cell{0, 0, -1}},
		{0, Cell{0, 0, 0}},
		{0, Cell{0, 0, 1}},
		{0, Cell{0, 0, math.MaxInt64}},
		{0, Cell{0, 1, math.MinInt64}},
		{0, Cell{0, math.MaxUint64, 0}},
		{0, Cell{1, 0, 0}},
		{0, Cell{math.MaxUint32, 0, 0}},
		{1, Cell{0, 0, math.MinInt64}},
		{255, Cell{0, 0, 0}},
		{256, Cell{0, 0, 0}},
		{math.MaxUint16, Cell{math.MaxUint32, math.MaxUint64, math.MaxInt64}},
	}
	enc := func(k key) []byte {
		b := make([]byte, pebbleKeyLen)
		encodePebbleKey(b, k.kg, k.k)
		return b
	}
	for i, a := range keys {
		kg, k, err := decodePebbleKey(enc(a))
		if err != nil || kg != a.kg || k != a.k {
			t.Errorf("decode(encode(%+v)) = %d, %+v, %v", a, kg, k, err)
		}
		for j, b := range keys {
			want := cmpInt(i, j)
			if got := bytes.Compare(enc(a), enc(b)); got != want {
				t.Errorf("compare(encode(%+v), encode(%+v)) = %d, want %d", a, b, got, want)
			}
			if got := compareKeys(a.kg, a.k, b.kg, b.k); got != want {
				t.Errorf("compareKeys(%+v, %+v) = %d, want %d", a, b, got, want)
			}
		}
	}
	if _, _, err := decodePebbleKey(make([]byte, pebbleKeyLen-1)); err == nil {
		t.Error("decoding a short key succeeded")
	}
}

func TestPebbleNewStateRejectsWideRange(t *testing.T) {
	for _, r := range []KeyGroupRange{{-1, 4}, {0, 1<<16 + 1}, {5, 4}} {
		if p, err := NewPebble(vfs.NewMem(), "x", r); err == nil {
			p.Close()
			t.Errorf("NewPebble(%v) succeeded", r)
		}
	}
}

// putRange puts keys [from, to) of namespace ns into p, spread over its range.
func putRange(p Backend, ns uint32, from, to int) {
	r := p.Range()
	for i := from; i < to; i++ {
		p.Put(r.Start+i%r.Len(), Cell{NS: ns, Key: uint64(i), Sub: int64(i % 3)}, int64(i)*7)
	}
}

func fileNames(s *Snapshot) []string {
	var names []string
	for _, f := range s.Files {
		names = append(names, f.Name)
	}
	return names
}

func TestPebbleIncrementalSnapshot(t *testing.T) {
	p := newPebble(t, vfs.NewCrashableMem(), KeyGroupRange{Start: 0, End: 16})
	putRange(p, 1, 0, 2000)
	s1, err := p.Snapshot(1, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(s1.Files) == 0 || s1.FullSize == 0 || s1.IncrementalSize != s1.FullSize {
		t.Fatalf("first snapshot: %d files, full %d, incremental %d", len(s1.Files), s1.FullSize, s1.IncrementalSize)
	}
	for _, f := range s1.Files {
		if f.Shared || int64(len(f.Data)) != f.Size {
			t.Errorf("first snapshot file %s: shared %v, %d bytes of data, size %d", f.Name, f.Shared, len(f.Data), f.Size)
		}
	}
	putRange(p, 2, 0, 10)
	s2, err := p.Snapshot(2, true)
	if err != nil {
		t.Fatal(err)
	}
	if !(s2.IncrementalSize < s2.FullSize) || s2.IncrementalSize == 0 {
		t.Errorf("second snapshot: incremental %d, full %d", s2.IncrementalSize, s2.FullSize)
	}
	var shared, fresh int64
	for _, f := range s2.Files {
		if f.Shared {
			shared += f.Size
			i := slices.IndexFunc(s1.Files, func(g File) bool { return g.Name == f.Name })
			if i < 0 {
				t.Errorf("shared file %s is not in the first snapshot", f.Name)
			} else if &s1.Files[i].Data[0] != &f.Data[0] {
				t.Errorf("shared file %s: data copied rather than shared", f.Name)
			}
		} else {
			fresh += f.Size
		}
		if int64(len(f.Data)) != f.Size {
			t.Errorf("file %s: %d bytes of data, size %d", f.Name, len(f.Data), f.Size)
		}
	}
	if shared != s1.FullSize || fresh != s2.IncrementalSize || shared+fresh != s2.FullSize {
		t.Errorf("shared %d (first snapshot %d), fresh %d (incremental %d), full %d", shared, s1.FullSize, fresh, s2.IncrementalSize, s2.FullSize)
	}

	// A snapshot with no change in between adds nothing.
	s3, err := p.Snapshot(3, true)
	if err != nil {
		t.Fatal(err)
	}
	if s3.IncrementalSize != 0 || s3.FullSize != s2.FullSize {
		t.Errorf("unchanged state: incremental %d, full %d (was %d)", s3.IncrementalSize, s3.FullSize, s2.FullSize)
	}
	// A full snapshot counts everything again.
	s4, err := p.Snapshot(4, false)
	if err != nil {
		t.Fatal(err)
	}
	if s4.IncrementalSize != s4.FullSize || s4.FullSize != s2.FullSize || slices.ContainsFunc(s4.Files, func(f File) bool { return f.Shared }) {
		t.Errorf("full snapshot: incremental %d, full %d (was %d), files %+v", s4.IncrementalSize, s4.FullSize, s2.FullSize, fileNames(s4))
	}

	// Every snapshot restores on its own to the state at its time.
	for _, c := range []struct {
		snap *Snapshot
		n    int
	}{{s1, 2000}, {s2, 2010}, {s3, 2010}, {s4, 2010}} {
		e, err := SnapshotEntries(c.snap)
		if err != nil {
			t.Fatal(err)
		}
		if len(e) != c.n {
			t.Errorf("snapshot with files %v: %d entries, want %d", fileNames(c.snap), len(e), c.n)
		}
	}
	if d := cmp.Diff(p.Entries(), mustEntries(t, s4)); d != "" {
		t.Errorf("last snapshot (-live +snapshot):\n%s", d)
	}
}

func mustEntries(t testing.TB, s *Snapshot) []Entry {
	t.Helper()
	e, err := SnapshotEntries(s)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// pebbleWorkload runs a fixed sequence of operations with many snapshots (and
// so ingestions and compactions) and returns the snapshots.
func pebbleWorkload(t testing.TB, p *Pebble) []*Snapshot {
	var snaps []*Snapshot
	r := p.Range()
	for round := range 40 {
		for i := range 300 {
			key := uint64((round*131 + i*17) % 5000)
			kg := r.Start + int(key)%r.Len()
			k := Cell{NS: uint32(i % 2), Key: key, Sub: int64(round % 4)}
			if i%9 == 0 {
				p.Delete(kg, k)
			} else {
				p.Put(kg, k, int64(round*1000+i))
			}
		}
		s, err := p.Snapshot(int64(round), round%10 != 0)
		if err != nil {
			t.Fatal(err)
		}
		snaps = append(snaps, s)
	}
	return snaps
}

// TestPebbleDeterminism runs the same operations on fresh filesystems (an
// in-memory one and simulated disks) and expects identical snapshots: file
// names, sizes and bytes.
func TestPebbleDeterminism(t *testing.T) {
	rng := RangeFor(1, 3, 128)
	fss := []vfs.FS{
		vfs.NewCrashableMem(),
		disk.New(sim.NewWorld(1).AddNode("w")).FS(),
		disk.New(sim.NewWorld(2).AddNode("w2")).FS(),
	}
	var runs [][]*Snapshot
	var entries [][]Entry
	for _, fs := range fss {
		p := newPebble(t, fs, rng)
		p.writeAt, p.nextWrite = 100, 100 // ingest between snapshots too
		runs = append(runs, pebbleWorkload(t, p))
		entries = append(entries, p.Entries())
	}
	rewrites := 0
	for i, s := range runs[0] {
		if i > 0 && s.IncrementalSize == s.FullSize && i%10 != 0 {
			rewrites++ // everything was rewritten
		}
	}
	if rewrites == 0 {
		t.Errorf("the workload never rewrote the state: sizes %v", snapshotSizes(runs[0]))
	}
	for r := 1; r < len(runs); r++ {
		// Compare file contents with bytes.Equal: go-cmp walks byte slices
		// element by element, which takes seconds here.
		if d := cmp.Diff(runs[0], runs[r], cmp.Comparer(bytes.Equal)); d != "" {
			t.Errorf("run %d differs from run 0 (-run0 +run%d):\n%s", r, r, d)
		}
		if d := cmp.Diff(entries[0], entries[r]); d != "" {
			t.Errorf("run %d: entries differ:\n%s", r, d)
		}
	}
}

func snapshotSizes(snaps []*Snapshot) [][2]int64 {
	var out [][2]int64
	for _, s := range snaps {
		out = append(out, [2]int64{s.IncrementalSize, s.FullSize})
	}
	return out
}

// TestPebbleRewriteKeepsState checks that the state survives the rewrites that
// bound the number of files, against the heap backend.
func TestPebbleRewriteKeepsState(t *testing.T) {
	rng := KeyGroupRange{Start: 0, End: 4}
	p := newPebble(t, vfs.NewCrashableMem(), rng)
	p.writeAt, p.nextWrite = 3, 3
	h := NewHeap(rng)
	for i := range 400 {
		kg := i % 4
		k := Cell{NS: 1, Key: uint64(i % 13), Sub: int64(i % 5)}
		if i%4 == 3 {
			p.Delete(kg, k)
			h.Delete(kg, k)
		} else {
			p.Put(kg, k, int64(i))
			h.Put(kg, k, int64(i))
		}
	}
	levels, err := p.tables()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range levels {
		n += len(l)
	}
	if n > pebbleMaxFiles {
		t.Errorf("the database holds %d files", n)
	}
	if p.gen < 3 {
		t.Errorf("the state was rewritten %d times", p.gen-1)
	}
	if d := cmp.Diff(h.Entries(), p.Entries()); d != "" {
		t.Errorf("(-heap +pebble):\n%s", d)
	}
	s, err := p.Snapshot(1, true)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(h.Entries(), mustEntries(t, s)); d != "" {
		t.Errorf("snapshot (-heap +pebble):\n%s", d)
	}
}

// TestPebbleSnapshotRestoreProperty snapshots random states, possibly
// incrementally after earlier snapshots, and restores every snapshot taken.
func TestPebbleSnapshotRestoreProperty(t *testing.T) {
	rng := KeyGroupRange{Start: 2, End: 6}
	rapid.Check(t, func(t *rapid.T) {
		p, err := NewPebble(vfs.NewCrashableMem(), "s", rng)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		h := NewHeap(rng)
		type taken struct {
			snap *Snapshot
			want []Entry
		}
		var snaps []taken
		for range rapid.IntRange(1, 5).Draw(t, "snapshots") {
			ops := rapid.SliceOfN(genStateOp(rng), 0, 60).Draw(t, "ops")
			for _, o := range ops {
				if o.kind == 4 {
					continue
				}
				applyStateOp(t, o, []Backend{h, p}, []string{"heap", "pebble"})
			}
			s, err := p.Snapshot(int64(len(snaps)), rapid.Bool().Draw(t, "incremental"))
			if err != nil {
				t.Fatal(err)
			}
			if s.FullSize < s.IncrementalSize || s.Backend != PebbleBackend || s.Range != rng {
				t.Fatalf("snapshot: backend %q, range %v, full %d, incremental %d", s.Backend, s.Range, s.FullSize, s.IncrementalSize)
			}
			snaps = append(snaps, taken{s, h.Entries()})
		}
		for i, s := range snaps {
			into := rapid.SampledFrom(backendKinds).Draw(t, "into")
			r := newRapidBackend(t, into, rng)
			if err := r.Restore([]*Snapshot{s.snap}); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(s.want, r.Entries(), cmpEmpty); d != "" {
				t.Fatalf("snapshot %d restored into %s (-want +got):\n%s", i, into, d)
			}
			r.Close()
		}
	})
}

// TestPebbleRestoreReplacesState restores into a backend that holds data in
// sstables and in its write buffer, then keeps using it.
func TestPebbleRestoreReplacesState(t *testing.T) {
	rng := KeyGroupRange{Start: 0, End: 8}
	src := NewHeap(rng)
	putRange(src, 5, 0, 50)
	snap, err := src.Snapshot(1, false)
	if err != nil {
		t.Fatal(err)
	}
	p := newPebble(t, vfs.NewCrashableMem(), rng)
	putRange(p, 1, 0, 100)
	if _, err := p.Snapshot(1, true); err != nil {
		t.Fatal(err)
	}
	putRange(p, 2, 0, 10)
	if err := p.Restore([]*Snapshot{snap}); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(src.Entries(), p.Entries()); d != "" {
		t.Fatalf("restored (-want +got):\n%s", d)
	}
	putRange(p, 3, 0, 5)
	putRange(src, 3, 0, 5)
	s, err := p.Snapshot(2, true)
	if err != nil {
		t.Fatal(err)
	}
	if s.IncrementalSize != s.FullSize {
		t.Errorf("first snapshot after restore: incremental %d, full %d", s.IncrementalSize, s.FullSize)
	}
	if d := cmp.Diff(src.Entries(), mustEntries(t, s)); d != "" {
		t.Fatalf("snapshot after restore (-want +got):\n%s", d)
	}
	// Restoring nothing empties the state.
	if err := p.Restore(nil); err != nil {
		t.Fatal(err)
	}
	if e := p.Entries(); len(e) != 0 {
		t.Errorf("after restoring nothing: %d entries", len(e))
	}
}

// TestPebbleRestoreLaterSnapshotWins restores overlapping snapshots: the later
// one's values win.
func TestPebbleRestoreLaterSnapshotWins(t *testing.T) {
	rng := KeyGroupRange{Start: 0, End: 2}
	k := Cell{NS: 1, Key: 2, Sub: 3}
	a := &Snapshot{Backend: "heap", Range: rng, Entries: []Entry{{KeyGroup: 1, Cell: k, Value: 1}}}
	b := &Snapshot{Backend: "heap", Range: rng, Entries: []Entry{{KeyGroup: 1, Cell: k, Value: 2}}}
	p := newPebble(t, vfs.NewMem(), rng)
	if err := p.Restore([]*Snapshot{a, nil, b}); err != nil {
		t.Fatal(err)
	}
	if v, ok := p.Get(1, k); !ok || v != 2 {
		t.Errorf("Get = %d, %v; want 2, true", v, ok)
	}
}

func TestPebbleSnapshotWithoutData(t *testing.T) {
	p := newPebble(t, vfs.NewMem(), KeyGroupRange{Start: 0, End: 1})
	p.Put(0, Cell{}, 1)
	s, err := p.Snapshot(1, false)
	if err != nil {
		t.Fatal(err)
	}
	s.Files[0].Data = nil
	if _, err := SnapshotEntries(s); err == nil {
		t.Error("reading a snapshot whose file has no data succeeded")
	}
	s.Files[0].Data = []byte("garbage")
	if _, err := SnapshotEntries(s); err == nil {
		t.Error("reading a corrupt snapshot succeeded")
	}
}

// TestPebbleDiskErrors injects I/O errors on the simulated disk: writes keep
// working in memory, snapshots and reads fail cleanly, and everything works
// again once the disk heals.
func TestPebbleDiskErrors(t *testing.T) {
	dk := disk.New(sim.NewWorld(7).AddNode("w"))
	rng := KeyGroupRange{Start: 0, End: 4}
	p := newPebble(t, dk.FS(), rng)
	p.writeAt, p.nextWrite = 50, 50
	h := NewHeap(rng)
	putRange(p, 1, 0, 40)
	putRange(h, 1, 0, 40)
	if _, err := p.Snapshot(1, true); err != nil {
		t.Fatal(err)
	}

	dk.SetFailing(true)
	putRange(p, 2, 0, 200) // crosses the write-out threshold several times
	putRange(h, 2, 0, 200)
	if _, err := p.Snapshot(2, true); !disk.IsInjectedError(err) {
		t.Errorf("snapshot on a dead disk: %v", err)
	}
	func() {
		defer func() {
			var ioErr *IOError
			if r := recover(); r == nil {
				t.Errorf("Entries on a dead disk did not panic")
			} else if err, ok := r.(error); !ok || !errors.As(err, &ioErr) || !disk.IsInjectedError(err) {
				t.Errorf("Entries on a dead disk panicked with %v", r)
			}
		}()
		p.Entries()
	}()
	dk.ClearErrors()

	if d := cmp.Diff(h.Entries(), p.Entries()); d != "" {
		t.Errorf("after the disk healed (-heap +pebble):\n%s", d)
	}
	s, err := p.Snapshot(3, true)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(h.Entries(), mustEntries(t, s)); d != "" {
		t.Errorf("snapshot after the disk healed (-heap +pebble):\n%s", d)
	}
}

// pebbleFaultRun runs a workload on a simulated disk that fails 1% of all
// operations and returns what happened.
func pebbleFaultRun(t *testing.T, seed uint64) []string {
	dk := disk.New(sim.NewWorld(seed).AddNode("w"))
	p := newPebble(t, dk.FS(), RangeFor(0, 2, 128))
	p.writeAt, p.nextWrite = 100, 100
	dk.InjectErrors(0.01)
	var log []string
	r := p.Range()
	for round := range 30 {
		for i := range 300 {
			key := uint64((round*131 + i*17) % 5000)
			kg := r.Start + int(key)%r.Len()
			k := Cell{NS: uint32(i % 2), Key: key, Sub: int64(round % 4)}
			func() {
				defer func() {
					if x := recover(); x != nil {
						var ioErr *IOError
						if err, ok := x.(error); !ok || !errors.As(err, &ioErr) {
							panic(x)
						}
						log = append(log, fmt.Sprintf("r%d i%d: %v", round, i, x))
					}
				}()
				v, _ := p.Get(kg, k)
				p.Put(kg, k, v+1)
			}()
		}
		s, err := p.Snapshot(int64(round), true)
		if err != nil {
			log = append(log, fmt.Sprintf("r%d snapshot: %v", round, err))
			if err := p.Restore(nil); err != nil {
				log = append(log, fmt.Sprintf("r%d restore: %v", round, err))
			}
			continue
		}
		log = append(log, fmt.Sprintf("r%d snapshot: %d/%d %v", round, s.IncrementalSize, s.FullSize, fileNames(s)))
	}
	return append(log, fmt.Sprint("injected errors: ", dk.InjectedErrors()))
}

// TestPebbleDiskFaultsDeterministic injects random I/O errors into every kind
// of disk operation: the backend never hangs or crashes, and the same seed gives
// the same errors at the same points.
func TestPebbleDiskFaultsDeterministic(t *testing.T) {
	want := pebbleFaultRun(t, 5)
	if len(want) < 2 || want[len(want)-1] == "injected errors: 0" {
		t.Fatalf("no errors were injected: %q", want)
	}
	for range 2 {
		if d := cmp.Diff(want, pebbleFaultRun(t, 5)); d != "" {
			t.Fatalf("second run differs:\n%s", d)
		}
	}
}

// TestPebbleFatalErrorContained fails the MANIFEST write of an ingestion, which
// Pebble treats as fatal: the backend reports errors instead of exiting, and a
// Restore brings it back.
func TestPebbleFatalErrorContained(t *testing.T) {
	var failManifest bool
	fs := errorfs.Wrap(vfs.NewMem(), errorfs.InjectorFunc(func(op errorfs.Op) error {
		if failManifest && strings.Contains(op.Path, "MANIFEST") && op.Kind.ReadOrWrite() == errorfs.OpIsWrite {
			return errorfs.ErrInjected
		}
		return nil
	}))
	rng := KeyGroupRange{Start: 0, End: 4}
	p := newPebble(t, fs, rng)
	putRange(p, 1, 0, 20)
	if _, err := p.Snapshot(1, true); err != nil {
		t.Fatal(err)
	}
	putRange(p, 2, 0, 20)
	failManifest = true
	_, err := p.Snapshot(2, true)
	var fe *pebbleFatalError
	if !errors.As(err, &fe) || !errors.Is(err, errorfs.ErrInjected) {
		t.Fatalf("snapshot with a failing MANIFEST: %v", err)
	}
	failManifest = false
	func() {
		defer func() {
			r := recover()
			if err, ok := r.(error); !ok || !errors.As(err, &fe) {
				t.Errorf("Entries of a broken backend panicked with %v", r)
			}
		}()
		p.Entries()
	}()
	if _, err := p.Snapshot(3, true); !errors.As(err, &fe) {
		t.Errorf("snapshot of a broken backend: %v", err)
	}
	src := NewHeap(rng)
	putRange(src, 3, 0, 30)
	snap, _ := src.Snapshot(1, false)
	if err := p.Restore([]*Snapshot{snap}); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(src.Entries(), p.Entries()); d != "" {
		t.Errorf("restored (-want +got):\n%s", d)
	}
	if s, err := p.Snapshot(4, true); err != nil || s.IncrementalSize != s.FullSize {
		t.Errorf("snapshot after restore: %v, %+v", err, s)
	}
}

// BenchmarkPebblePutGet measures the hot path of keyed operators.
func BenchmarkPebblePutGet(b *testing.B) {
	p := newPebble(b, vfs.NewMem(), KeyGroupRange{Start: 0, End: 128})
	for i := 0; b.Loop(); i++ {
		k := Cell{NS: 1, Key: uint64(i % 10000)}
		kg := KeyGroup(k.Key, 128)
		v, _ := p.Get(kg, k)
		p.Put(kg, k, v+1)
		if i%100000 == 99999 {
			if _, err := p.Snapshot(int64(i), true); err != nil {
				b.Fatal(err)
			}
		}
	}
}
