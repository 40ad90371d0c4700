package state

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
)

// PebbleBackend is the name of the pebble state backend, as in Snapshot.Backend.
const PebbleBackend = "pebble"

// Tuning of the pebble backend. Every threshold counts keys or files, never bytes
// of Pebble's in-memory structures, so that when the backend writes and rewrites
// its files depends only on the sequence of operations.
const (
	// pebbleWriteBufferEntries is the number of distinct buffered keys at which the
	// write buffer is written out before the next snapshot, which bounds the
	// buffer's memory.
	pebbleWriteBufferEntries = 1 << 16
	// pebbleMaxFiles is the number of live sstables above which the backend
	// rewrites its whole state into a fresh database (its compaction).
	pebbleMaxFiles = 20
	// pebbleKeyLen is the length of an encoded key: key group (2 bytes), namespace
	// (4), key (8), sub-key (8), all big-endian.
	pebbleKeyLen = 2 + 4 + 8 + 8
	// pebbleValueLen is the length of an encoded value.
	pebbleValueLen = 8
	// pebbleIngestFile is the name, inside the database directory, of the sstable
	// the backend writes before ingesting it. Pebble ignores files it did not name.
	pebbleIngestFile = "ingest.tmp"
)

// Pebble is the pebble state backend: the keyed state of one subtask in an
// LSM tree (github.com/cockroachdb/pebble/v2) on the node's simulated disk, with
// full and incremental snapshots made of the tree's sstables, like Flink's
// RocksDB backend.
//
// Determinism. The simulation must be reproducible bit for bit, and Pebble's
// physical layout normally depends on timing and chance: its memtable is a
// skiplist whose tower heights come from the global random generator, so when a
// memtable fills up, and hence where flushes split the data, varies from run to
// run; flushes and compactions run on background goroutines. The backend
// therefore uses neither. Puts and deletes go to a write buffer in Go memory (the
// backend's memtable); at every snapshot, and before that whenever the buffer
// holds pebbleWriteBufferEntries keys, the buffer is written in key order as an
// sstable, on the caller's goroutine, and ingested (DB.Ingest) into the database,
// whose own memtable stays empty. The WAL (as in Flink, local state is rebuilt
// from checkpoints), automatic compactions, table statistics and read sampling
// are off. Instead of compacting, when an ingestion leaves more than
// pebbleMaxFiles live sstables the backend moves the whole state into the write
// buffer, starts a fresh database and writes the buffer out as one sstable: a
// full compaction, done synchronously. Files, their names, sizes and contents
// are thus a function of the operations alone, and all of the backend's disk I/O
// is issued from the caller's goroutine (Pebble's only background work left is
// closing cached file readers), so the disk's error injection sees the same
// operations in the same order in every run.
//
// Errors. Put and Delete never fail: a failed early write-out keeps the buffer
// and is retried later. Snapshot and Restore return I/O errors. Get, ScanKey and
// Entries read the disk and panic with a *IOError when a read fails, because
// Backend has no error results; a task may recover it and fail. Pebble treats
// some failures (a failed MANIFEST write) as fatal and would exit the process:
// the backend turns them into errors, abandons that database (without closing
// it: its internal locks may be held) and becomes unusable (reads panic with a
// *IOError, Snapshot fails) until Restore starts a fresh database.
type Pebble struct {
	fs   vfs.FS
	dir  string
	rng  KeyGroupRange
	opts *pebble.Options
	db   *pebble.DB
	// broken is the fatal error that made the backend abandon its database.
	broken error
	// gen counts the databases opened; it prefixes the names of snapshot files,
	// whose numbers restart with every database.
	gen int

	// buf is the write buffer: the values (or deletions) written since the
	// buffer was last written out, by key prefix and sub-key.
	buf map[pebblePrefix]map[int64]pebbleBuffered
	// bufLen is the number of keys in buf.
	bufLen int
	// nextWrite is the bufLen at which Put and Delete write the buffer out.
	nextWrite int
	// writeAt is the configured buffer limit (pebbleWriteBufferEntries; tests
	// lower it).
	writeAt int
	// ingested reports whether the database has received data since it was
	// opened.
	ingested bool
	// prev holds the files of the previous snapshot by name, for incremental
	// snapshots. Names are unique within the backend.
	prev map[string]File
	key  [pebbleKeyLen]byte
}

// pebblePrefix is the part of a state key shared by the entries ScanKey visits.
type pebblePrefix struct {
	kg  int
	ns  uint32
	key uint64
}

// pebbleBuffered is one buffered write.
type pebbleBuffered struct {
	value   int64
	deleted bool
}

// pebbleOptions returns the options of a backend database on fs.
func pebbleOptions(fs vfs.FS) *pebble.Options {
	o := &pebble.Options{
		FS:                          pebbleFS{fs},
		Logger:                      pebbleLogger{},
		FormatMajorVersion:          pebble.FormatNewest,
		DisableWAL:                  true,
		DisableAutomaticCompactions: true,
		DisableTableStats:           true,
		// The memtable is never written to (see Pebble); a large one makes
		// sure nothing would be flushed on its own anyway.
		MemTableSize:                64 << 20,
		MemTableStopWritesThreshold: 4,
		// Without automatic compactions, reaching the stop threshold would block
		// writers forever; the backend bounds the number of files itself.
		L0CompactionThreshold: 1 << 20,
		L0StopWritesThreshold: 1 << 20,
		MaxManifestFileSize:   1 << 40,
	}
	o.Experimental.ReadSamplingMultiplier = -1
	// One file cache shard: one goroutine (closing readers) per database.
	o.Experimental.FileCacheShards = 1
	o.Levels[0].FilterPolicy = bloom.FilterPolicy(10)
	o.EnsureDefaults()
	return o
}

// pebbleReaderOptions are the options to read sstables of snapshots with.
var pebbleReaderOptions = pebbleOptions(vfs.NewMem()).MakeReaderOptions()

// NewPebble returns an empty pebble backend for the key groups of rng, with
// its database in dir on fs (a node's disk.Disk filesystem). Whatever dir holds is
// deleted first: local state never outlives its backend.
func NewPebble(fs vfs.FS, dir string, rng KeyGroupRange) (*Pebble, error) {
	if rng.Start < 0 || rng.End > math.MaxUint16+1 || rng.Start > rng.End {
		return nil, fmt.Errorf("state: pebble backend: key group range %v outside [0, 65536)", rng)
	}
	p := &Pebble{
		fs:      fs,
		dir:     dir,
		rng:     rng,
		opts:    pebbleOptions(fs),
		buf:     map[pebblePrefix]map[int64]pebbleBuffered{},
		writeAt: pebbleWriteBufferEntries,
	}
	p.nextWrite = p.writeAt
	if err := p.reopen(); err != nil {
		return nil, err
	}
	return p, nil
}

// guard runs f, which calls into the database, and turns Pebble's fatal errors
// into errors: the database is abandoned and the backend broken. Pebble reports
// failures it cannot recover from by logging a fatal error, or by panicking with
// the error (a failed directory sync); the latter are recovered when they are I/O
// errors injected into the disk (errorfs.ErrInjected), other panics go on.
func (p *Pebble) guard(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(error)
			var fe *pebbleFatalError
			if !ok || !(errors.As(e, &fe) || errors.Is(e, errorfs.ErrInjected)) {
				panic(r)
			}
			p.db, p.broken, err = nil, e, e
		}
	}()
	return f()
}

// usable returns why the database cannot be used, if it cannot.
func (p *Pebble) usable() error {
	switch {
	case p.broken != nil:
		return p.broken
	case p.db == nil:
		return errors.New("state: pebble backend used after Close")
	}
	return nil
}

// reopen replaces the database by a fresh, empty one in a wiped directory (a
// broken database is abandoned, not closed). The write buffer is kept.
func (p *Pebble) reopen() error {
	if p.db != nil {
		// The old database's contents are no longer needed, so an error
		// closing it does not matter.
		db := p.db
		p.db = nil
		_ = p.guard(db.Close)
	}
	p.ingested = false
	p.prev = nil
	p.gen++
	if err := p.fs.RemoveAll(p.dir); err != nil {
		p.broken = fmt.Errorf("state: pebble backend: clearing %s: %w", p.dir, err)
		return p.broken
	}
	if err := p.fs.MkdirAll(p.dir, 0o755); err != nil {
		p.broken = fmt.Errorf("state: pebble backend: creating %s: %w", p.dir, err)
		return p.broken
	}
	p.broken = nil
	err := p.guard(func() error {
		db, err := pebble.Open(p.dir, p.opts)
		p.db = db
		return err
	})
	if err != nil {
		p.db = nil
		p.broken = fmt.Errorf("state: pebble backend: opening %s: %w", p.dir, err)
		return p.broken
	}
	return nil
}

// Range is the key groups the backend holds.
func (p *Pebble) Range() KeyGroupRange { return p.rng }

// encodePebbleKey writes the encoding of (kg, k) to dst: big-endian fields, the
// sub-key with its sign bit flipped, so that byte order is (kg, ns, key, sub) order.
func encodePebbleKey(dst []byte, kg int, k Cell) {
	binary.BigEndian.PutUint16(dst[0:], uint16(kg))
	binary.BigEndian.PutUint32(dst[2:], k.NS)
	binary.BigEndian.PutUint64(dst[6:], k.Key)
	binary.BigEndian.PutUint64(dst[14:], uint64(k.Sub)^(1<<63))
}

// decodePebbleKey is the inverse of encodePebbleKey.
func decodePebbleKey(b []byte) (int, Cell, error) {
	if len(b) != pebbleKeyLen {
		return 0, Cell{}, fmt.Errorf("state: pebble backend: key of %d bytes, want %d", len(b), pebbleKeyLen)
	}
	return int(binary.BigEndian.Uint16(b[0:])), Cell{
		NS:  binary.BigEndian.Uint32(b[2:]),
		Key: binary.BigEndian.Uint64(b[6:]),
		Sub: int64(binary.BigEndian.Uint64(b[14:]) ^ (1 << 63)),
	}, nil
}

// decodePebbleValue decodes an encoded value.
func decodePebbleValue(b []byte) (int64, error) {
	if len(b) != pebbleValueLen {
		return 0, fmt.Errorf("state: pebble backend: value of %d bytes, want %d", len(b), pebbleValueLen)
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

// check panics when kg is outside the range.
func (p *Pebble) check(kg int) {
	if !p.rng.Contains(kg) {
		panic(fmt.Sprintf("state: key group %d outside the backend's range %v", kg, p.rng))
	}
}

// mustRead panics with a *IOError when the database cannot be read.
func (p *Pebble) mustRead(op string) {
	if err := p.usable(); err != nil {
		panic(&IOError{Op: op, Err: err})
	}
}

// Get returns the value stored under k in key group kg.
func (p *Pebble) Get(kg int, k Cell) (int64, bool) {
	p.check(kg)
	if b, ok := p.buf[pebblePrefix{kg, k.NS, k.Key}][k.Sub]; ok {
		return b.value, !b.deleted
	}
	p.mustRead("get")
	encodePebbleKey(p.key[:], kg, k)
	var x int64
	found := false
	err := p.guard(func() error {
		v, closer, err := p.db.Get(p.key[:])
		if errors.Is(err, pebble.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		x, err = decodePebbleValue(v)
		closer.Close()
		found = err == nil
		return err
	})
	if err != nil {
		panic(&IOError{Op: "get", Err: err})
	}
	return x, found
}

// Put stores v under k in key group kg.
func (p *Pebble) Put(kg int, k Cell, v int64) {
	p.write(kg, k, pebbleBuffered{value: v})
}

// Delete removes k from key group kg.
func (p *Pebble) Delete(kg int, k Cell) {
	p.write(kg, k, pebbleBuffered{deleted: true})
}

// write buffers one write, and writes the buffer out when it is full.
func (p *Pebble) write(kg int, k Cell, b pebbleBuffered) {
	p.check(kg)
	p.buffer(kg, k, b)
	if p.bufLen >= p.nextWrite {
		if err := p.writeBuffer(); err != nil {
			// The state is intact: try again when the buffer has grown by as
			// much again.
			p.nextWrite = p.bufLen + p.writeAt
		}
	}
}

// buffer adds one write to the write buffer.
func (p *Pebble) buffer(kg int, k Cell, b pebbleBuffered) {
	pre := pebblePrefix{kg, k.NS, k.Key}
	subs := p.buf[pre]
	if subs == nil {
		subs = map[int64]pebbleBuffered{}
		p.buf[pre] = subs
	}
	if _, ok := subs[k.Sub]; !ok {
		p.bufLen++
	}
	subs[k.Sub] = b
}

// clearBuffer empties the write buffer.
func (p *Pebble) clearBuffer() {
	clear(p.buf)
	p.bufLen = 0
	p.nextWrite = p.writeAt
}

// pebbleItem is a buffered write with its key.
type pebbleItem struct {
	kg  int
	key Cell
	pebbleBuffered
}

// compareKeys orders keys by (key group, ns, key, sub), the order of the encoding.
func compareKeys(akg int, a Cell, bkg int, b Cell) int {
	switch {
	case akg != bkg:
		return cmpInt(akg, bkg)
	case a.NS != b.NS:
		return cmpInt(a.NS, b.NS)
	case a.Key != b.Key:
		return cmpInt(a.Key, b.Key)
	default:
		return cmpInt(a.Sub, b.Sub)
	}
}

func cmpInt[T int | uint32 | uint64 | int64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// sortedBuffer returns the buffered writes in key order.
func (p *Pebble) sortedBuffer() []pebbleItem {
	items := make([]pebbleItem, 0, p.bufLen)
	for pre, subs := range p.buf {
		for sub, b := range subs {
			items = append(items, pebbleItem{kg: pre.kg, key: Cell{NS: pre.ns, Key: pre.key, Sub: sub}, pebbleBuffered: b})
		}
	}
	slices.SortFunc(items, func(a, b pebbleItem) int { return compareKeys(a.kg, a.key, b.kg, b.key) })
	return items
}

// ScanKey calls fn for the entries of (ns, key) in key group kg in Sub order,
// until fn returns false. The scan sees the entries as of its start: fn may
// modify the state.
func (p *Pebble) ScanKey(kg int, ns uint32, key uint64, fn func(sub, value int64) bool) {
	p.check(kg)
	p.mustRead("scan")
	var buffered []pebbleItem
	for sub, b := range p.buf[pebblePrefix{kg, ns, key}] {
		buffered = append(buffered, pebbleItem{kg: kg, key: Cell{NS: ns, Key: key, Sub: sub}, pebbleBuffered: b})
	}
	slices.SortFunc(buffered, func(a, b pebbleItem) int { return cmpInt(a.key.Sub, b.key.Sub) })
	var lower, upper [pebbleKeyLen]byte
	encodePebbleKey(lower[:], kg, Cell{NS: ns, Key: key, Sub: math.MinInt64})
	encodePebbleKey(upper[:], kg, Cell{NS: ns, Key: key, Sub: math.MaxInt64})
	// The upper bound is exclusive: extend the largest key by one byte.
	out, err := p.merge(&pebble.IterOptions{LowerBound: lower[:], UpperBound: append(upper[:], 0)}, buffered)
	if err != nil {
		panic(&IOError{Op: "scan", Err: err})
	}
	for _, e := range out {
		if !fn(e.Sub, e.Value) {
			return
		}
	}
}

// Entries returns every entry sorted by (key group, ns, key, sub).
func (p *Pebble) Entries() []Entry {
	p.mustRead("entries")
	out, err := p.merge(nil, p.sortedBuffer())
	if err != nil {
		panic(&IOError{Op: "entries", Err: err})
	}
	return out
}

// merge returns the entries of the database within the bounds of o, updated by
// the buffered writes (sorted, within the same bounds).
func (p *Pebble) merge(o *pebble.IterOptions, buffered []pebbleItem) ([]Entry, error) {
	var out []Entry
	i := 0
	emitBuffered := func(limit func(b *pebbleItem) bool) {
		for ; i < len(buffered) && limit(&buffered[i]); i++ {
			if b := &buffered[i]; !b.deleted {
				out = append(out, Entry{KeyGroup: b.kg, Cell: b.key, Value: b.value})
			}
		}
	}
	err := p.guard(func() error {
		it, err := p.db.NewIter(o)
		if err != nil {
			return err
		}
		for it.First(); it.Valid(); it.Next() {
			kg, k, err := decodePebbleKey(it.Key())
			if err != nil {
				return errors.Join(err, it.Close())
			}
			emitBuffered(func(b *pebbleItem) bool { return compareKeys(b.kg, b.key, kg, k) < 0 })
			if i < len(buffered) && compareKeys(buffered[i].kg, buffered[i].key, kg, k) == 0 {
				continue // the buffered write supersedes the stored value
			}
			v, err := it.ValueAndErr()
			if err == nil {
				var x int64
				x, err = decodePebbleValue(v)
				out = append(out, Entry{KeyGroup: kg, Cell: k, Value: x})
			}
			if err != nil {
				return errors.Join(err, it.Close())
			}
		}
		return it.Close()
	})
	if err != nil {
		return nil, err
	}
	emitBuffered(func(*pebbleItem) bool { return true })
	return out, nil
}

// writeBuffer writes the buffered writes out as an sstable and ingests it; the
// buffer is emptied only when the ingestion succeeded. When the database then
// holds more than pebbleMaxFiles sstables, it rewrites the whole state.
func (p *Pebble) writeBuffer() error {
	if err := p.usable(); err != nil {
		return err
	}
	if p.bufLen == 0 {
		return nil
	}
	if err := p.ingest(p.sortedBuffer()); err != nil {
		return err
	}
	p.clearBuffer()
	levels, err := p.tables()
	if err != nil {
		return err
	}
	n := 0
	for _, l := range levels {
		n += len(l)
	}
	if n <= pebbleMaxFiles {
		return nil
	}
	// Move the state into the buffer first: whatever fails below, the
	// buffer and the database together still hold it.
	entries, err := p.merge(nil, nil)
	if err != nil {
		return err
	}
	for _, e := range entries {
		p.buffer(e.KeyGroup, e.Cell, pebbleBuffered{value: e.Value})
	}
	if err := p.reopen(); err != nil {
		return err
	}
	if err := p.ingest(p.sortedBuffer()); err != nil {
		return err
	}
	p.clearBuffer()
	return nil
}

// Close closes the database (a database abandoned after a fatal error stays
// open). The files stay on the disk until the directory is reused.
func (p *Pebble) Close() error {
	if p.db == nil {
		return nil
	}
	db := p.db
	p.db = nil
	return p.guard(db.Close)
}

var _ Backend = (*Pebble)(nil)
