package disk

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/cespare/xxhash/v2"
	"github.com/ckptsim/ckptsim/sim"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
)

// Disk is a node's local disk: an in-memory filesystem that forgets unsynced writes
// when its node crashes, wrapped in an error injector the simulation controls.
//
// Writes reach the disk's current filesystem immediately; only data (and directory
// entries) made durable with File.Sync (and a Sync of the parent directory, for new
// or renamed entries) is guaranteed to survive a crash. At every crash of its node
// the disk is replaced by a crash clone of itself, so the code of the next
// incarnation must take FS() afresh and reopen its files.
//
// I/O errors are injected deterministically: whether an operation fails is a pure
// function of the fault settings, a salt drawn from the disk's named random stream
// when they were set, the operation's kind and path, and how many operations of that
// kind on that path were decided before. Operations issued by Pebble's background
// goroutines therefore get the same decisions whatever the goroutine interleaving
// across files. The error-injection state is guarded by a mutex because of those
// goroutines; everything else is used by the simulation goroutine only.
type Disk struct {
	node        *sim.Node
	mem         *vfs.MemFS
	fs          *errorfs.FS
	unsyncedPct int
	crashes     int

	mu       sync.Mutex // guards the fields below
	gen      uint32     // incremented at every crash; older wrappers pass through
	failing  bool
	prob     float64
	kinds    uint64 // bit k set when errorfs.OpKind k is subject to prob; 0 = all
	salt     uint64
	seen     map[diskOpKey]uint64
	injected uint64
	byKind   [diskNumOpKinds]uint64
}

// diskNumOpKinds is the number of errorfs operation kinds.
const diskNumOpKinds = int(errorfs.OpFileFlush) + 1

// diskOpKey names the sequence of operations of one kind on one path.
type diskOpKey struct {
	kind errorfs.OpKind
	path string
}

// Trace tags of disk state changes.
var (
	diskTagCrash = xxhash.Sum64String("sim/disk/crash")
	diskTagFault = xxhash.Sum64String("sim/disk/fault")
)

// New gives node n an empty local disk. The disk hooks n's crashes: on every
// crash it keeps only what was synced (see SetUnsyncedDataPercent).
func New(n *sim.Node) *Disk {
	d := &Disk{node: n, mem: vfs.NewCrashableMem(), seen: map[diskOpKey]uint64{}}
	d.wrap()
	n.OnCrash(d.crash)
	return d
}

// Node is the node the disk belongs to.
func (d *Disk) Node() *sim.Node { return d.node }

// FS is the filesystem to use now, with error injection. It is the same value until
// the node's next crash, after which it is a new filesystem holding what survived
// the crash; callers must then reopen their files (and Pebble databases) on it.
// The filesystem of a crashed incarnation keeps working, without error injection, so
// that a crash hook may still close what it had open.
func (d *Disk) FS() vfs.FS { return d.fs }

// MemFS is the current in-memory filesystem without error injection, for inspection
// by tests and checkers. Writing to it bypasses fault injection.
func (d *Disk) MemFS() *vfs.MemFS { return d.mem }

// Crashes is the number of crashes the disk went through.
func (d *Disk) Crashes() int { return d.crashes }

// UnsyncedDataPercent is the configured chance, in percent, that an unsynced 4 KiB
// block or directory entry survives a crash.
func (d *Disk) UnsyncedDataPercent() int { return d.unsyncedPct }

// SetUnsyncedDataPercent sets the chance, in percent (0..100), that each unsynced
// 4 KiB block of a file, and each unsynced directory entry, survives a crash, as in
// Pebble's vfs.CrashCloneCfg. 0 (the default) keeps exactly the synced state; 100
// keeps everything. Values in between draw from the world's stream
// "disk/<node>/crash" while walking the filesystem in sorted order, so the surviving
// state is a function of the seed. (Pebble's own CrashClone walks Go maps, so its
// partial clones are not reproducible even with a seeded RNG; this one is.)
func (d *Disk) SetUnsyncedDataPercent(pct int) {
	if pct < 0 || pct > 100 {
		panic(fmt.Sprintf("sim: unsynced data percent %d outside 0..100", pct))
	}
	d.unsyncedPct = pct
}

// wrap points d.fs at the current MemFS behind an injector of the current generation.
func (d *Disk) wrap() {
	d.mu.Lock()
	gen := d.gen
	d.mu.Unlock()
	d.fs = errorfs.Wrap(d.mem, diskInjector{d: d, gen: gen})
}

// crash replaces the filesystem by what survives a crash now.
func (d *Disk) crash() {
	d.mu.Lock()
	d.gen++
	d.mu.Unlock()
	d.crashes++
	var kept uint64
	switch d.unsyncedPct {
	case 0:
		d.mem = d.mem.CrashClone(vfs.CrashCloneCfg{})
	case 100:
		// Every draw succeeds, so the map order of Pebble's walk does not matter.
		d.mem = d.mem.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 100, RNG: rand.New(rand.NewPCG(0, 0))})
	default:
		d.mem, kept = diskPartialClone(d.mem, d.unsyncedPct, d.node.World().Rand("disk/"+d.node.Name()+"/crash"))
	}
	d.wrap()
	d.node.World().TraceNote(diskTagCrash, uint64(d.node.ID()), uint64(d.crashes)<<32|kept&0xffffffff)
}

// diskBlockSize is the granularity at which unsynced file data survives a crash, as
// in Pebble's MemFS.
const diskBlockSize = 4096

// diskPartialClone returns a crash clone of old in which each unsynced directory
// entry and each unsynced 4 KiB block survives with probability pct/100, and the
// number of unsynced entries and blocks kept. It mirrors vfs.MemFS.CrashClone but
// visits names in sorted order so its draws are reproducible. old is the crashed
// filesystem: its directories are synced in the process.
func diskPartialClone(old *vfs.MemFS, pct int, r *sim.Rand) (*vfs.MemFS, uint64) {
	synced := old.CrashClone(vfs.CrashCloneCfg{})
	// Syncing every directory of the discarded filesystem makes a second clone that
	// holds every current entry with its file's synced data: the base for unsynced
	// entries that survive.
	diskSyncDirs(old, "")
	entries := old.CrashClone(vfs.CrashCloneCfg{})
	m := diskMerger{dst: synced, entries: entries, cur: old, pct: pct, r: r}
	m.dir("")
	return synced, m.kept
}

// diskSyncDirs syncs dir and every directory below it.
func diskSyncDirs(fs *vfs.MemFS, dir string) {
	diskMust(diskSync(fs, dir))
	for _, name := range diskList(fs, dir) {
		p := fs.PathJoin(dir, name)
		if st, err := fs.Stat(p); err == nil && st.IsDir() {
			diskSyncDirs(fs, p)
		}
	}
}

// diskMerger adds surviving unsynced state to dst, the synced state of cur.
type diskMerger struct {
	dst     *vfs.MemFS // synced state; receives the survivors
	entries *vfs.MemFS // every current entry, with its synced data
	cur     *vfs.MemFS // current state
	pct     int
	r       *sim.Rand
	kept    uint64
}

func (m *diskMerger) draw() bool {
	if m.r.IntN(100) < m.pct {
		m.kept++
		return true
	}
	return false
}

func (m *diskMerger) dir(dir string) {
	for _, name := range diskList(m.entries, dir) {
		p := m.cur.PathJoin(dir, name)
		ci, err := m.cur.Stat(p)
		if err != nil {
			continue
		}
		di, err := m.dst.Stat(p)
		inDst := err == nil
		var base []byte
		switch {
		case !inDst:
			if !m.draw() {
				continue
			}
			if ci.IsDir() {
				diskMust(m.dst.MkdirAll(p, 0o755))
				m.dir(p)
				continue
			}
			base = diskRead(m.entries, p)
		case ci.IsDir() != di.IsDir():
			continue // replaced by an entry of another type: the synced one stays
		case ci.IsDir():
			m.dir(p)
			continue
		default:
			base = diskRead(m.dst, p)
		}
		data := slices.Clone(base)
		cur := diskRead(m.cur, p)
		for i := 0; i < len(cur); i += diskBlockSize {
			if !m.draw() {
				continue
			}
			block := cur[i:min(i+diskBlockSize, len(cur))]
			if grow := i + len(block) - len(data); grow > 0 {
				data = append(data, make([]byte, grow)...)
			}
			copy(data[i:], block)
		}
		if inDst && bytes.Equal(data, base) {
			continue
		}
		f, err := m.dst.Create(p, vfs.WriteCategoryUnspecified)
		diskMust(err)
		_, err = f.Write(data)
		diskMust(err)
		diskMust(f.Sync())
		diskMust(f.Close())
	}
	diskMust(diskSync(m.dst, dir))
}

func diskList(fs vfs.FS, dir string) []string {
	names, err := fs.List(dir)
	diskMust(err)
	slices.Sort(names)
	return names
}

func diskRead(fs vfs.FS, name string) []byte {
	f, err := fs.Open(name)
	diskMust(err)
	defer f.Close()
	b, err := io.ReadAll(f)
	diskMust(err)
	return b
}

func diskSync(fs vfs.FS, dir string) error {
	f, err := fs.OpenDir(dir)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func diskMust(err error) {
	if err != nil {
		panic(fmt.Sprintf("sim: disk crash clone: %v", err))
	}
}

// InjectErrors makes each operation of the given kinds (every kind when none is
// given) fail with probability p (0..1) from now on, replacing earlier settings.
// Decisions are reproducible: they derive from a salt drawn from the world's stream
// "disk/<node>/errors" at this call. Close is never failed (errorfs does not inject
// into it), nor is Remove of a path that does not exist.
func (d *Disk) InjectErrors(p float64, ops ...errorfs.OpKind) {
	if !(p >= 0 && p <= 1) {
		panic(fmt.Sprintf("sim: disk error probability %v outside [0, 1]", p))
	}
	var kinds uint64
	for _, k := range ops {
		if k < 0 || int(k) >= diskNumOpKinds {
			panic(fmt.Sprintf("sim: unknown disk operation kind %d", k))
		}
		kinds |= 1 << uint(k)
	}
	salt := d.node.World().Rand("disk/" + d.node.Name() + "/errors").Uint64()
	d.mu.Lock()
	d.prob, d.kinds, d.salt = p, kinds, salt
	clear(d.seen)
	d.mu.Unlock()
	d.node.World().TraceNote(diskTagFault, uint64(d.node.ID()), kinds^math.Float64bits(p))
}

// SetFailing turns a dead disk on or off: while on, every operation fails (except
// those errorfs never fails), whatever InjectErrors set.
func (d *Disk) SetFailing(on bool) {
	d.mu.Lock()
	d.failing = on
	d.mu.Unlock()
	var v uint64
	if on {
		v = 1
	}
	d.node.World().TraceNote(diskTagFault, uint64(d.node.ID()), 1<<63|v)
}

// ClearErrors stops all error injection: no probabilistic errors, not failing.
func (d *Disk) ClearErrors() {
	d.mu.Lock()
	d.failing, d.prob, d.kinds = false, 0, 0
	clear(d.seen)
	d.mu.Unlock()
	d.node.World().TraceNote(diskTagFault, uint64(d.node.ID()), 0)
}

// Failing reports whether the disk fails every operation (SetFailing).
func (d *Disk) Failing() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.failing
}

// InjectedErrors is the number of errors injected so far, over all crashes.
func (d *Disk) InjectedErrors() uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.injected
}

// InjectedErrorsOf is the number of errors injected so far into operations of kind k.
func (d *Disk) InjectedErrorsOf(k errorfs.OpKind) uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.byKind[k]
}

// maybeError decides the fate of op issued on the filesystem of generation gen.
func (d *Disk) maybeError(gen uint32, op errorfs.Op) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if gen != d.gen {
		return nil
	}
	fail := d.failing
	if !fail && d.prob > 0 && (d.kinds == 0 || d.kinds&(1<<uint(op.Kind)) != 0) {
		key := diskOpKey{kind: op.Kind, path: op.Path}
		i := d.seen[key]
		d.seen[key] = i + 1
		u := splitmix(d.salt ^ splitmix(xxhash.Sum64String(op.Path)^splitmix(uint64(op.Kind)<<40^i)))
		fail = float64(u>>11)*0x1p-53 < d.prob
	}
	if !fail {
		return nil
	}
	d.injected++
	d.byKind[op.Kind]++
	return errorfs.ErrInjected
}

// IsInjectedError reports whether err is (or wraps) an error injected by a Disk.
func IsInjectedError(err error) bool { return errors.Is(err, errorfs.ErrInjected) }

// ReadOps returns the operation kinds that read (open, list, stat, read).
func ReadOps() []errorfs.OpKind { return diskOps(errorfs.OpIsRead) }

// WriteOps returns the operation kinds that write (create, write, sync, rename,
// remove, ...).
func WriteOps() []errorfs.OpKind { return diskOps(errorfs.OpIsWrite) }

func diskOps(rw errorfs.OpReadWrite) []errorfs.OpKind {
	var ops []errorfs.OpKind
	for k := errorfs.OpKind(0); int(k) < diskNumOpKinds; k++ {
		if k.ReadOrWrite() == rw {
			ops = append(ops, k)
		}
	}
	return ops
}

// diskInjector is the errorfs.Injector of one generation of a disk's filesystem.
type diskInjector struct {
	d   *Disk
	gen uint32
}

// String implements fmt.Stringer.
func (i diskInjector) String() string { return "sim.Disk(" + i.d.node.Name() + ")" }

// MaybeError implements errorfs.Injector.
func (i diskInjector) MaybeError(op errorfs.Op) error { return i.d.maybeError(i.gen, op) }

var _ errorfs.Injector = diskInjector{}

// splitmix is one step of splitmix64, as sim's random streams use it.
func splitmix(x uint64) uint64 { return sim.Mix64(x + 0x9e3779b97f4a7c15) }
