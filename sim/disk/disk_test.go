package disk

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"

	"github.com/ckptsim/ckptsim/sim"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

// diskTB is what the disk test helpers need from testing.T and rapid.T.
type diskTB interface {
	Helper()
	Fatalf(format string, args ...any)
}

// diskTestCreate writes a copy of data: under -race Pebble's MemFS scribbles over
// the buffers it is given, to catch callers that reuse them.
func diskTestCreate(t diskTB, fs vfs.FS, name string, data []byte, sync bool) {
	t.Helper()
	data = slices.Clone(data)
	f, err := fs.Create(name, vfs.WriteCategoryUnspecified)
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatalf("write %s: %v", name, err)
	}
	if sync {
		if err := f.Sync(); err != nil {
			t.Fatalf("sync %s: %v", name, err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatalf("close %s: %v", name, err)
	}
}

func diskTestAppend(t diskTB, fs vfs.FS, name string, data []byte, sync bool) {
	t.Helper()
	data = slices.Clone(data)
	f, err := fs.OpenReadWrite(name, vfs.WriteCategoryUnspecified)
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	st, err := f.Stat()
	if err != nil {
		t.Fatalf("stat %s: %v", name, err)
	}
	if _, err := f.WriteAt(data, st.Size()); err != nil {
		t.Fatalf("write %s: %v", name, err)
	}
	if sync {
		if err := f.Sync(); err != nil {
			t.Fatalf("sync %s: %v", name, err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatalf("close %s: %v", name, err)
	}
}

func diskTestSyncDir(t diskTB, fs vfs.FS, dir string) {
	t.Helper()
	if err := diskSync(fs, dir); err != nil {
		t.Fatalf("sync dir %q: %v", dir, err)
	}
}

// diskTestDump returns every file of fs by path.
func diskTestDump(t diskTB, fs vfs.FS) map[string]string {
	t.Helper()
	out := map[string]string{}
	var walk func(dir string)
	walk = func(dir string) {
		names, err := fs.List(dir)
		if err != nil {
			t.Fatalf("list %q: %v", dir, err)
		}
		slices.Sort(names)
		for _, name := range names {
			p := fs.PathJoin(dir, name)
			st, err := fs.Stat(p)
			if err != nil {
				t.Fatalf("stat %s: %v", p, err)
			}
			if st.IsDir() {
				out[p+"/"] = ""
				walk(p)
				continue
			}
			f, err := fs.Open(p)
			if err != nil {
				t.Fatalf("open %s: %v", p, err)
			}
			b, err := io.ReadAll(f)
			f.Close()
			if err != nil {
				t.Fatalf("read %s: %v", p, err)
			}
			out[p] = string(b)
		}
	}
	walk("")
	return out
}

func TestDiskCrashKeepsOnlySynced(t *testing.T) {
	cases := []struct {
		name string
		do   func(t *testing.T, fs vfs.FS)
		want map[string]string
	}{
		{
			name: "file and dir synced",
			do: func(t *testing.T, fs vfs.FS) {
				diskTestCreate(t, fs, "a", []byte("hello"), true)
				diskTestSyncDir(t, fs, "")
			},
			want: map[string]string{"a": "hello"},
		},
		{
			name: "nothing synced",
			do: func(t *testing.T, fs vfs.FS) {
				diskTestCreate(t, fs, "a", []byte("hello"), false)
			},
			want: map[string]string{},
		},
		{
			name: "file synced but not its directory entry",
			do: func(t *testing.T, fs vfs.FS) {
				diskTestCreate(t, fs, "a", []byte("hello"), true)
			},
			want: map[string]string{},
		},
		{
			name: "directory entry synced but not the data",
			do: func(t *testing.T, fs vfs.FS) {
				diskTestCreate(t, fs, "a", []byte("hello"), false)
				diskTestSyncDir(t, fs, "")
			},
			want: map[string]string{"a": ""},
		},
		{
			name: "append after sync is lost",
			do: func(t *testing.T, fs vfs.FS) {
				diskTestCreate(t, fs, "a", []byte("hello"), true)
				diskTestSyncDir(t, fs, "")
				diskTestAppend(t, fs, "a", []byte(" world"), false)
			},
			want: map[string]string{"a": "hello"},
		},
		{
			name: "synced append survives",
			do: func(t *testing.T, fs vfs.FS) {
				diskTestCreate(t, fs, "a", []byte("hello"), true)
				diskTestSyncDir(t, fs, "")
				diskTestAppend(t, fs, "a", []byte(" world"), true)
			},
			want: map[string]string{"a": "hello world"},
		},
		{
			name: "unsynced rename is undone",
			do: func(t *testing.T, fs vfs.FS) {
				diskTestCreate(t, fs, "a", []byte("x"), true)
				diskTestSyncDir(t, fs, "")
				if err := fs.Rename("a", "b"); err != nil {
					t.Fatal(err)
				}
			},
			want: map[string]string{"a": "x"},
		},
		{
			name: "unsynced remove is undone",
			do: func(t *testing.T, fs vfs.FS) {
				diskTestCreate(t, fs, "a", []byte("x"), true)
				diskTestSyncDir(t, fs, "")
				if err := fs.Remove("a"); err != nil {
					t.Fatal(err)
				}
			},
			want: map[string]string{"a": "x"},
		},
		{
			name: "nested directory needs its parent synced",
			do: func(t *testing.T, fs vfs.FS) {
				if err := fs.MkdirAll("d", 0o755); err != nil {
					t.Fatal(err)
				}
				diskTestCreate(t, fs, "d/f", []byte("x"), true)
				diskTestSyncDir(t, fs, "d")
			},
			want: map[string]string{},
		},
		{
			name: "nested directory fully synced",
			do: func(t *testing.T, fs vfs.FS) {
				if err := fs.MkdirAll("d", 0o755); err != nil {
					t.Fatal(err)
				}
				diskTestCreate(t, fs, "d/f", []byte("x"), true)
				diskTestSyncDir(t, fs, "d")
				diskTestSyncDir(t, fs, "")
			},
			want: map[string]string{"d/": "", "d/f": "x"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := sim.NewWorld(1)
			n := w.AddNode("worker-0")
			d := New(n)
			before := d.FS()
			tc.do(t, before)
			n.Crash()
			if d.FS() == before {
				t.Fatal("FS did not change at the crash")
			}
			n.Restart()
			if diff := cmp.Diff(tc.want, diskTestDump(t, d.FS())); diff != "" {
				t.Errorf("after crash (-want +got):\n%s", diff)
			}
			if d.Crashes() != 1 {
				t.Errorf("Crashes = %d, want 1", d.Crashes())
			}
		})
	}
}

// diskModelNode is a file's content in the crash model: what was written and what
// was last synced.
type diskModelNode struct {
	data, synced []byte
}

// TestDiskCrashProperty checks random create/append/sync sequences with crashes in
// between against a model: after a crash a file exists iff its directory entry was
// synced, with the data its node last synced.
func TestDiskCrashProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		w := sim.NewWorld(rapid.Uint64().Draw(t, "seed"))
		n := w.AddNode("worker-0")
		d := New(n)
		names := []string{"a", "b", "c"}
		cur := map[string]*diskModelNode{}     // the directory's entries now
		durable := map[string]*diskModelNode{} // the entries at the last dir sync
		steps := rapid.IntRange(1, 40).Draw(t, "steps")
		for range steps {
			name := rapid.SampledFrom(names).Draw(t, "name")
			switch op := rapid.IntRange(0, 4).Draw(t, "op"); op {
			case 0: // create (replaces the entry with a new, empty node)
				data := []byte(rapid.StringN(0, 10, -1).Draw(t, "data"))
				sync := rapid.Bool().Draw(t, "sync")
				diskTestCreate(t, d.FS(), name, data, sync)
				m := &diskModelNode{data: data}
				if sync {
					m.synced = slices.Clone(data)
				}
				cur[name] = m
			case 1: // append
				m, ok := cur[name]
				if !ok {
					continue
				}
				data := []byte(rapid.StringN(1, 10, -1).Draw(t, "data"))
				sync := rapid.Bool().Draw(t, "sync")
				diskTestAppend(t, d.FS(), name, data, sync)
				m.data = append(m.data, data...)
				if sync {
					m.synced = slices.Clone(m.data)
				}
			case 2: // sync the directory
				diskTestSyncDir(t, d.FS(), "")
				durable = map[string]*diskModelNode{}
				for k, v := range cur {
					durable[k] = v
				}
			case 3: // remove
				if _, ok := cur[name]; !ok {
					continue
				}
				if err := d.FS().Remove(name); err != nil {
					t.Fatalf("remove: %v", err)
				}
				delete(cur, name)
			case 4: // crash and restart
				n.Crash()
				n.Restart()
				cur = map[string]*diskModelNode{}
				for k, v := range durable {
					m := &diskModelNode{data: slices.Clone(v.synced), synced: slices.Clone(v.synced)}
					cur[k] = m
					durable[k] = m
				}
			}
		}
		n.Crash()
		want := map[string]string{}
		for k, v := range durable {
			want[k] = string(v.synced)
		}
		if diff := cmp.Diff(want, diskTestDump(t, d.FS())); diff != "" {
			t.Fatalf("after crash (-want +got):\n%s", diff)
		}
	})
}

func TestDiskWritesAfterRestart(t *testing.T) {
	w := sim.NewWorld(1)
	n := w.AddNode("worker-0")
	d := New(n)
	diskTestCreate(t, d.FS(), "a", []byte("one"), true)
	diskTestSyncDir(t, d.FS(), "")
	old := d.FS()
	n.Crash()
	// A crash hook may still close what the old incarnation had open: the old
	// filesystem keeps working, and what it does is not seen by the new one.
	diskTestCreate(t, old, "late", []byte("x"), true)
	diskTestSyncDir(t, old, "")
	n.Restart()
	diskTestCreate(t, d.FS(), "b", []byte("two"), true)
	diskTestSyncDir(t, d.FS(), "")
	n.Crash()
	n.Restart()
	want := map[string]string{"a": "one", "b": "two"}
	if diff := cmp.Diff(want, diskTestDump(t, d.FS())); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// diskTestTorn builds a file of 10 synced blocks of 'A', then overwrites it with 16
// unsynced blocks of 'B', adds unsynced files, and crashes.
func diskTestTorn(t diskTB, seed uint64, pct int) (synced, current []byte, got map[string]string) {
	w := sim.NewWorld(seed)
	n := w.AddNode("worker-0")
	d := New(n)
	d.SetUnsyncedDataPercent(pct)
	fs := d.FS()
	synced = bytes.Repeat([]byte{'A'}, 10*diskBlockSize)
	current = bytes.Repeat([]byte{'B'}, 16*diskBlockSize)
	diskTestCreate(t, fs, "torn", synced, true)
	diskTestSyncDir(t, fs, "")
	f, err := fs.OpenReadWrite("torn", vfs.WriteCategoryUnspecified)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	if _, err := f.WriteAt(slices.Clone(current), 0); err != nil {
		t.Fatalf("write: %v", err)
	}
	f.Close()
	for i := range 8 {
		diskTestCreate(t, fs, fmt.Sprintf("new-%d", i), bytes.Repeat([]byte{byte('a' + i)}, 3*diskBlockSize), i%2 == 0)
	}
	if err := fs.MkdirAll("dir/sub", 0o755); err != nil {
		t.Fatalf("mkdir: %v", err)
	}
	diskTestCreate(t, fs, "dir/sub/f", []byte("deep"), true)
	diskTestSyncDir(t, fs, "dir/sub")
	n.Crash()
	return synced, current, diskTestDump(t, d.FS())
}

func TestDiskUnsyncedDataPercent(t *testing.T) {
	t.Run("0 keeps exactly the synced state", func(t *testing.T) {
		synced, _, got := diskTestTorn(t, 1, 0)
		if diff := cmp.Diff(map[string]string{"torn": string(synced)}, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("100 keeps everything", func(t *testing.T) {
		_, current, got := diskTestTorn(t, 1, 100)
		if got["torn"] != string(current) || len(got) != 1+8+3 || got["dir/sub/f"] != "deep" {
			t.Errorf("got %d entries, torn intact %v", len(got), got["torn"] == string(current))
		}
	})
	t.Run("partial clones are reproducible and block-wise", func(t *testing.T) {
		rapid.Check(t, func(t *rapid.T) {
			seed := rapid.Uint64().Draw(t, "seed")
			pct := rapid.IntRange(1, 99).Draw(t, "pct")
			synced, current, got := diskTestTorn(t, seed, pct)
			_, _, again := diskTestTorn(t, seed, pct)
			if diff := cmp.Diff(got, again); diff != "" {
				t.Fatalf("same seed, different crash state (-first +second):\n%s", diff)
			}
			torn := []byte(got["torn"])
			if len(torn) < len(synced) || len(torn) > len(current) || len(torn)%diskBlockSize != 0 {
				t.Fatalf("torn file has %d bytes", len(torn))
			}
			for i := 0; i < len(torn); i += diskBlockSize {
				block := torn[i : i+diskBlockSize]
				c := block[0]
				ok := c == 'B' || (c == 'A' && i < len(synced)) || (c == 0 && i >= len(synced))
				if !ok || !bytes.Equal(block, bytes.Repeat([]byte{c}, diskBlockSize)) {
					t.Fatalf("block %d is neither synced nor current data", i/diskBlockSize)
				}
			}
			for name, content := range got {
				if name == "torn" || name == "dir/" || name == "dir/sub/" || name == "dir/sub/f" {
					continue
				}
				var i int
				if _, err := fmt.Sscanf(name, "new-%d", &i); err != nil {
					t.Fatalf("unexpected entry %q", name)
				}
				for j := 0; j < len(content); j++ {
					if content[j] != byte('a'+i) && content[j] != 0 {
						t.Fatalf("%s holds byte %q", name, content[j])
					}
				}
			}
			if _, ok := got["dir/sub/f"]; ok && got["dir/sub/f"] != "deep" {
				t.Fatalf("synced file in surviving directory lost its data: %q", got["dir/sub/f"])
			}
		})
	})
	t.Run("the seed matters", func(t *testing.T) {
		_, _, first := diskTestTorn(t, 1, 50)
		for seed := uint64(2); seed < 10; seed++ {
			if _, _, got := diskTestTorn(t, seed, 50); !cmp.Equal(first, got) {
				return
			}
		}
		t.Error("nine seeds gave the same partial crash state")
	})
}

// diskTestOps issues a fixed mix of operations and reports which ones failed.
func diskTestOps(d *Disk, rounds int) []bool {
	var failed []bool
	note := func(err error) {
		if err != nil && !IsInjectedError(err) {
			panic(err)
		}
		failed = append(failed, err != nil)
	}
	fs := d.FS()
	for i := range rounds {
		name := fmt.Sprintf("f%d", i%5)
		f, err := fs.Create(name, vfs.WriteCategoryUnspecified)
		note(err)
		if err != nil {
			continue
		}
		_, err = f.Write([]byte("data"))
		note(err)
		note(f.Sync())
		_, err = f.Stat()
		note(err)
		f.Close()
		_, err = fs.Stat(name)
		note(err)
		_, err = fs.List("")
		note(err)
	}
	return failed
}

func diskTestCount(failed []bool) uint64 {
	var n uint64
	for _, f := range failed {
		if f {
			n++
		}
	}
	return n
}

func TestDiskErrorInjectionDeterministic(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		seed := rapid.Uint64().Draw(t, "seed")
		p := rapid.Float64Range(0, 1).Draw(t, "p")
		run := func() ([]bool, uint64) {
			w := sim.NewWorld(seed)
			d := New(w.AddNode("worker-0"))
			d.InjectErrors(p)
			failed := diskTestOps(d, 50)
			return failed, d.InjectedErrors()
		}
		a, na := run()
		b, nb := run()
		if !slices.Equal(a, b) {
			t.Fatalf("same seed, different failures:\n%v\n%v", a, b)
		}
		if na != diskTestCount(a) || nb != na {
			t.Fatalf("InjectedErrors = %d and %d, observed %d", na, nb, diskTestCount(a))
		}
	})
}

func TestDiskErrorInjection(t *testing.T) {
	t.Run("different seeds differ", func(t *testing.T) {
		run := func(seed uint64) []bool {
			d := New(sim.NewWorld(seed).AddNode("worker-0"))
			d.InjectErrors(0.5)
			return diskTestOps(d, 20)
		}
		if slices.Equal(run(1), run(2)) {
			t.Error("seeds 1 and 2 gave the same failures")
		}
	})
	t.Run("rate", func(t *testing.T) {
		d := New(sim.NewWorld(7).AddNode("worker-0"))
		d.InjectErrors(0.3, errorfs.OpFileWrite)
		f, err := d.FS().Create("a", vfs.WriteCategoryUnspecified)
		if err != nil {
			t.Fatal(err)
		}
		const n = 4000
		for range n {
			f.Write([]byte("x"))
		}
		got := float64(d.InjectedErrors()) / n
		if got < 0.27 || got > 0.33 {
			t.Errorf("failure rate %.3f, want about 0.3", got)
		}
		if d.InjectedErrorsOf(errorfs.OpFileWrite) != d.InjectedErrors() {
			t.Errorf("per-kind count %d, total %d", d.InjectedErrorsOf(errorfs.OpFileWrite), d.InjectedErrors())
		}
	})

	// Each case sets faults, then runs: create, write, sync, stat, close.
	type result struct{ create, write, sync, stat bool }
	cases := []struct {
		name  string
		setup func(d *Disk)
		want  result
	}{
		{"no faults", func(d *Disk) {}, result{}},
		{"p=0", func(d *Disk) { d.InjectErrors(0) }, result{}},
		{"p=1 all kinds", func(d *Disk) { d.InjectErrors(1) }, result{create: true}},
		{"p=1 sync only", func(d *Disk) { d.InjectErrors(1, errorfs.OpFileSync) }, result{sync: true}},
		{"p=1 writes", func(d *Disk) { d.InjectErrors(1, WriteOps()...) }, result{create: true}},
		{"p=1 reads", func(d *Disk) { d.InjectErrors(1, ReadOps()...) }, result{stat: true}},
		{"p=1 write and stat", func(d *Disk) { d.InjectErrors(1, errorfs.OpFileWrite, errorfs.OpFileStat) }, result{write: true, stat: true}},
		{"failing", func(d *Disk) { d.SetFailing(true) }, result{create: true}},
		{"failing off", func(d *Disk) { d.SetFailing(true); d.SetFailing(false) }, result{}},
		{"failing beats filter", func(d *Disk) { d.InjectErrors(0, errorfs.OpFileSync); d.SetFailing(true) }, result{create: true}},
		{"cleared", func(d *Disk) { d.InjectErrors(1); d.SetFailing(true); d.ClearErrors() }, result{}},
		{"replaced", func(d *Disk) { d.InjectErrors(1); d.InjectErrors(1, errorfs.OpFileSync) }, result{sync: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := New(sim.NewWorld(1).AddNode("worker-0"))
			tc.setup(d)
			var got result
			var count uint64
			bump := func(failed bool) bool {
				if failed {
					count++
				}
				return failed
			}
			f, err := d.FS().Create("a", vfs.WriteCategoryUnspecified)
			got.create = bump(err != nil)
			if err == nil {
				_, err = f.Write([]byte("x"))
				got.write = bump(err != nil)
				got.sync = bump(f.Sync() != nil)
				_, err = f.Stat()
				got.stat = bump(err != nil)
				if err := f.Close(); err != nil {
					t.Errorf("close failed: %v", err)
				}
			}
			if got != tc.want {
				t.Errorf("failures %+v, want %+v", got, tc.want)
			}
			if d.InjectedErrors() != count {
				t.Errorf("InjectedErrors = %d, want %d", d.InjectedErrors(), count)
			}
		})
	}
}

func TestDiskInjectedErrorsAreRecognisable(t *testing.T) {
	d := New(sim.NewWorld(1).AddNode("worker-0"))
	d.SetFailing(true)
	_, err := d.FS().Create("a", vfs.WriteCategoryUnspecified)
	if !IsInjectedError(err) || !errors.Is(err, errorfs.ErrInjected) {
		t.Fatalf("error %v is not recognised as injected", err)
	}
	if IsInjectedError(errors.New("other")) || IsInjectedError(nil) {
		t.Fatal("IsInjectedError accepts other errors")
	}
	if !d.Failing() {
		t.Fatal("Failing() = false")
	}
}

func TestDiskFaultsSurviveCrashButOldFSPassesThrough(t *testing.T) {
	w := sim.NewWorld(1)
	n := w.AddNode("worker-0")
	d := New(n)
	old := d.FS()
	d.SetFailing(true)
	n.Crash()
	if _, err := old.Create("a", vfs.WriteCategoryUnspecified); err != nil {
		t.Errorf("old filesystem injected an error after the crash: %v", err)
	}
	if d.InjectedErrors() != 0 {
		t.Errorf("InjectedErrors = %d, want 0", d.InjectedErrors())
	}
	n.Restart()
	if _, err := d.FS().Create("a", vfs.WriteCategoryUnspecified); !IsInjectedError(err) {
		t.Errorf("new filesystem of a failing disk did not fail: %v", err)
	}
	if d.InjectedErrors() != 1 {
		t.Errorf("InjectedErrors = %d, want 1", d.InjectedErrors())
	}
}

func TestDiskTraceDeterministic(t *testing.T) {
	run := func(seed uint64) uint64 {
		w := sim.NewWorld(seed)
		n := w.AddNode("worker-0")
		d := New(n)
		d.SetUnsyncedDataPercent(30)
		d.InjectErrors(0.2)
		diskTestOps(d, 10)
		d.ClearErrors()
		diskTestCreate(t, d.FS(), "x", bytes.Repeat([]byte{1}, 5*diskBlockSize), false)
		n.Crash()
		return w.TraceHash()
	}
	if first, second := run(3), run(3); first != second {
		t.Error("same seed, different trace hash")
	}
}

func TestDiskRejectsBadSettings(t *testing.T) {
	d := New(sim.NewWorld(1).AddNode("worker-0"))
	for name, f := range map[string]func(){
		"percent -1":  func() { d.SetUnsyncedDataPercent(-1) },
		"percent 101": func() { d.SetUnsyncedDataPercent(101) },
		"p -0.1":      func() { d.InjectErrors(-0.1) },
		"p 1.5":       func() { d.InjectErrors(1.5) },
		"bad kind":    func() { d.InjectErrors(0.5, errorfs.OpKind(99)) },
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
