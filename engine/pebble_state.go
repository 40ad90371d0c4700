package engine

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/objstorage/objstorageprovider"
	"github.com/cockroachdb/pebble/v2/sstable"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
)

// PebbleBackend is the name of the pebble state backend, as in StateSnapshot.Backend.
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

// PebbleState is the pebble state backend: the keyed state of one subtask in an
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
// Entries read the disk and panic with a *StateIOError when a read fails, because
// KeyedState has no error results; a task may recover it and fail. Pebble treats
// some failures (a failed MANIFEST write) as fatal and would exit the process:
// the backend turns them into errors, abandons that database (without closing
// it: its internal locks may be held) and becomes unusable (reads panic with a
// *StateIOError, Snapshot fails) until Restore starts a fresh database.
type PebbleState struct {
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
	prev map[string]StateFile
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

// StateIOError is the panic value of a state backend read (Get, ScanKey, Entries)
// that failed with an I/O error of the node's disk, or on a backend that lost its
// database to such an error.
type StateIOError struct {
	// Op is the operation that failed.
	Op string
	// Err is the underlying error.
	Err error
}

// Error implements error.
func (e *StateIOError) Error() string { return "engine: state backend " + e.Op + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *StateIOError) Unwrap() error { return e.Err }

// pebbleFatalError is an error Pebble considers fatal: its database cannot be
// used any more.
type pebbleFatalError struct {
	msg string
	err error // the first error among the message's arguments
}

func (e *pebbleFatalError) Error() string { return "engine: pebble fatal error: " + e.msg }

// Unwrap returns the error that caused the fatal error, if known.
func (e *pebbleFatalError) Unwrap() error { return e.err }

// pebbleLogger discards Pebble's log messages and panics with a
// *pebbleFatalError on fatal errors, which the backend recovers (Pebble's default
// logger would exit the process).
type pebbleLogger struct{}

func (pebbleLogger) Infof(string, ...any)  {}
func (pebbleLogger) Errorf(string, ...any) {}
func (pebbleLogger) Fatalf(format string, args ...any) {
	e := &pebbleFatalError{msg: fmt.Sprintf(format, args...)}
	for _, a := range args {
		if err, ok := a.(error); ok {
			e.err = err
			break
		}
	}
	panic(e)
}

// pebbleFS is the filesystem Pebble runs on: the node's disk without file locks.
// A backend owns its directory, and a database abandoned after a fatal error
// keeps its lock forever (MemFS locks are names in a map, not files).
type pebbleFS struct{ vfs.FS }

// Lock does not lock.
func (pebbleFS) Lock(string) (io.Closer, error) { return pebbleNoLock{}, nil }

type pebbleNoLock struct{}

func (pebbleNoLock) Close() error { return nil }

// pebbleOptions returns the options of a backend database on fs.
func pebbleOptions(fs vfs.FS) *pebble.Options {
	o := &pebble.Options{
		FS:                          pebbleFS{fs},
		Logger:                      pebbleLogger{},
		FormatMajorVersion:          pebble.FormatNewest,
		DisableWAL:                  true,
		DisableAutomaticCompactions: true,
		DisableTableStats:           true,
		// The memtable is never written to (see PebbleState); a large one makes
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

// NewPebbleState returns an empty pebble backend for the key groups of rng, with
// its database in dir on fs (a node's sim.Disk filesystem). Whatever dir holds is
// deleted first: local state never outlives its backend.
func NewPebbleState(fs vfs.FS, dir string, rng KeyGroupRange) (*PebbleState, error) {
	if rng.Start < 0 || rng.End > math.MaxUint16+1 || rng.Start > rng.End {
		return nil, fmt.Errorf("engine: pebble backend: key group range %v outside [0, 65536)", rng)
	}
	p := &PebbleState{
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
func (p *PebbleState) guard(f func() error) (err error) {
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
func (p *PebbleState) usable() error {
	switch {
	case p.broken != nil:
		return p.broken
	case p.db == nil:
		return errors.New("engine: pebble backend used after Close")
	}
	return nil
}

// reopen replaces the database by a fresh, empty one in a wiped directory (a
// broken database is abandoned, not closed). The write buffer is kept.
func (p *PebbleState) reopen() error {
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
		p.broken = fmt.Errorf("engine: pebble backend: clearing %s: %w", p.dir, err)
		return p.broken
	}
	if err := p.fs.MkdirAll(p.dir, 0o755); err != nil {
		p.broken = fmt.Errorf("engine: pebble backend: creating %s: %w", p.dir, err)
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
		p.broken = fmt.Errorf("engine: pebble backend: opening %s: %w", p.dir, err)
		return p.broken
	}
	return nil
}

// Range is the key groups the backend holds.
func (p *PebbleState) Range() KeyGroupRange { return p.rng }

// encodePebbleKey writes the encoding of (kg, k) to dst: big-endian fields, the
// sub-key with its sign bit flipped, so that byte order is (kg, ns, key, sub) order.
func encodePebbleKey(dst []byte, kg int, k StateKey) {
	binary.BigEndian.PutUint16(dst[0:], uint16(kg))
	binary.BigEndian.PutUint32(dst[2:], k.NS)
	binary.BigEndian.PutUint64(dst[6:], k.Key)
	binary.BigEndian.PutUint64(dst[14:], uint64(k.Sub)^(1<<63))
}

// decodePebbleKey is the inverse of encodePebbleKey.
func decodePebbleKey(b []byte) (int, StateKey, error) {
	if len(b) != pebbleKeyLen {
		return 0, StateKey{}, fmt.Errorf("engine: pebble backend: key of %d bytes, want %d", len(b), pebbleKeyLen)
	}
	return int(binary.BigEndian.Uint16(b[0:])), StateKey{
		NS:  binary.BigEndian.Uint32(b[2:]),
		Key: binary.BigEndian.Uint64(b[6:]),
		Sub: int64(binary.BigEndian.Uint64(b[14:]) ^ (1 << 63)),
	}, nil
}

// decodePebbleValue decodes an encoded value.
func decodePebbleValue(b []byte) (int64, error) {
	if len(b) != pebbleValueLen {
		return 0, fmt.Errorf("engine: pebble backend: value of %d bytes, want %d", len(b), pebbleValueLen)
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

// check panics when kg is outside the range.
func (p *PebbleState) check(kg int) {
	if !p.rng.Contains(kg) {
		panic(fmt.Sprintf("engine: key group %d outside the backend's range %v", kg, p.rng))
	}
}

// mustRead panics with a *StateIOError when the database cannot be read.
func (p *PebbleState) mustRead(op string) {
	if err := p.usable(); err != nil {
		panic(&StateIOError{Op: op, Err: err})
	}
}

// Get returns the value stored under k in key group kg.
func (p *PebbleState) Get(kg int, k StateKey) (int64, bool) {
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
		panic(&StateIOError{Op: "get", Err: err})
	}
	return x, found
}

// Put stores v under k in key group kg.
func (p *PebbleState) Put(kg int, k StateKey, v int64) {
	p.write(kg, k, pebbleBuffered{value: v})
}

// Delete removes k from key group kg.
func (p *PebbleState) Delete(kg int, k StateKey) {
	p.write(kg, k, pebbleBuffered{deleted: true})
}

// write buffers one write, and writes the buffer out when it is full.
func (p *PebbleState) write(kg int, k StateKey, b pebbleBuffered) {
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
func (p *PebbleState) buffer(kg int, k StateKey, b pebbleBuffered) {
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
func (p *PebbleState) clearBuffer() {
	clear(p.buf)
	p.bufLen = 0
	p.nextWrite = p.writeAt
}

// pebbleItem is a buffered write with its key.
type pebbleItem struct {
	kg  int
	key StateKey
	pebbleBuffered
}

// compareKeys orders keys by (key group, ns, key, sub), the order of the encoding.
func compareKeys(akg int, a StateKey, bkg int, b StateKey) int {
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
func (p *PebbleState) sortedBuffer() []pebbleItem {
	items := make([]pebbleItem, 0, p.bufLen)
	for pre, subs := range p.buf {
		for sub, b := range subs {
			items = append(items, pebbleItem{kg: pre.kg, key: StateKey{NS: pre.ns, Key: pre.key, Sub: sub}, pebbleBuffered: b})
		}
	}
	slices.SortFunc(items, func(a, b pebbleItem) int { return compareKeys(a.kg, a.key, b.kg, b.key) })
	return items
}

// ScanKey calls fn for the entries of (ns, key) in key group kg in Sub order,
// until fn returns false. The scan sees the entries as of its start: fn may
// modify the state.
func (p *PebbleState) ScanKey(kg int, ns uint32, key uint64, fn func(sub, value int64) bool) {
	p.check(kg)
	p.mustRead("scan")
	var buffered []pebbleItem
	for sub, b := range p.buf[pebblePrefix{kg, ns, key}] {
		buffered = append(buffered, pebbleItem{kg: kg, key: StateKey{NS: ns, Key: key, Sub: sub}, pebbleBuffered: b})
	}
	slices.SortFunc(buffered, func(a, b pebbleItem) int { return cmpInt(a.key.Sub, b.key.Sub) })
	var lower, upper [pebbleKeyLen]byte
	encodePebbleKey(lower[:], kg, StateKey{NS: ns, Key: key, Sub: math.MinInt64})
	encodePebbleKey(upper[:], kg, StateKey{NS: ns, Key: key, Sub: math.MaxInt64})
	// The upper bound is exclusive: extend the largest key by one byte.
	out, err := p.merge(&pebble.IterOptions{LowerBound: lower[:], UpperBound: append(upper[:], 0)}, buffered)
	if err != nil {
		panic(&StateIOError{Op: "scan", Err: err})
	}
	for _, e := range out {
		if !fn(e.Sub, e.Value) {
			return
		}
	}
}

// Entries returns every entry sorted by (key group, ns, key, sub).
func (p *PebbleState) Entries() []StateEntry {
	p.mustRead("entries")
	out, err := p.merge(nil, p.sortedBuffer())
	if err != nil {
		panic(&StateIOError{Op: "entries", Err: err})
	}
	return out
}

// merge returns the entries of the database within the bounds of o, updated by
// the buffered writes (sorted, within the same bounds).
func (p *PebbleState) merge(o *pebble.IterOptions, buffered []pebbleItem) ([]StateEntry, error) {
	var out []StateEntry
	i := 0
	emitBuffered := func(limit func(b *pebbleItem) bool) {
		for ; i < len(buffered) && limit(&buffered[i]); i++ {
			if b := &buffered[i]; !b.deleted {
				out = append(out, StateEntry{KeyGroup: b.kg, StateKey: b.key, Value: b.value})
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
				out = append(out, StateEntry{KeyGroup: kg, StateKey: k, Value: x})
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
func (p *PebbleState) writeBuffer() error {
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
		p.buffer(e.KeyGroup, e.StateKey, pebbleBuffered{value: e.Value})
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

// tables returns the database's live sstables by level.
func (p *PebbleState) tables() ([][]pebble.SSTableInfo, error) {
	var levels [][]pebble.SSTableInfo
	err := p.guard(func() error {
		var err error
		levels, err = p.db.SSTables()
		return err
	})
	return levels, err
}

// ingest writes items (sorted, distinct keys) as an sstable, on the caller's
// goroutine, and ingests it into the database.
func (p *PebbleState) ingest(items []pebbleItem) error {
	path := p.fs.PathJoin(p.dir, pebbleIngestFile)
	if err := p.writeTable(path, items); err != nil {
		_ = p.fs.Remove(path)
		return fmt.Errorf("engine: pebble backend: writing an sstable: %w", err)
	}
	err := p.guard(func() error { return p.db.Ingest(context.Background(), []string{path}) })
	// Ingestion links the file into the database, so the original name can go
	// whether or not it succeeded. A file left behind by a failed removal is
	// overwritten by the next ingestion.
	_ = p.fs.Remove(path)
	if err != nil {
		return fmt.Errorf("engine: pebble backend: ingesting an sstable: %w", err)
	}
	p.ingested = true
	return nil
}

// writeTable writes items to a new sstable at path.
func (p *PebbleState) writeTable(path string, items []pebbleItem) error {
	f, err := p.fs.Create(path, vfs.WriteCategoryUnspecified)
	if err != nil {
		return err
	}
	w := sstable.NewWriter(objstorageprovider.NewFileWritable(f), p.opts.MakeWriterOptions(0, p.db.TableFormat()))
	var k [pebbleKeyLen]byte
	var v [pebbleValueLen]byte
	for _, it := range items {
		encodePebbleKey(k[:], it.kg, it.key)
		if it.deleted {
			err = w.Delete(k[:])
		} else {
			binary.BigEndian.PutUint64(v[:], uint64(it.value))
			err = w.Set(k[:], v[:])
		}
		if err != nil {
			return errors.Join(err, w.Close())
		}
	}
	return w.Close()
}

// Snapshot writes the buffered writes out and captures the database's live
// sstables. The files are listed oldest first (deeper levels first, then L0 in
// sequence-number order), so that a key in a later file supersedes the same key
// in an earlier one; SnapshotEntries relies on it. File names are unique within
// the backend ("<database generation>-<Pebble file number>.sst"). An incremental
// snapshot marks the files of the previous snapshot of this backend as Shared;
// they keep their Data (the same immutable byte slices, not copies) so that every
// snapshot can be restored on its own, but only new files count in
// IncrementalSize. A full snapshot reads every file again and counts all of them.
// After a rewrite of the state (see PebbleState) or a Restore, every file is new.
func (p *PebbleState) Snapshot(id int64, incremental bool) (*StateSnapshot, error) {
	if err := p.writeBuffer(); err != nil {
		return nil, fmt.Errorf("checkpoint %d: %w", id, err)
	}
	levels, err := p.tables()
	if err != nil {
		return nil, fmt.Errorf("engine: pebble backend: checkpoint %d: listing sstables: %w", id, err)
	}
	var tables []pebble.SSTableInfo
	for l := len(levels) - 1; l >= 1; l-- {
		tables = append(tables, levels[l]...)
	}
	if len(levels) > 0 {
		l0 := slices.Clone(levels[0])
		slices.SortFunc(l0, func(a, b pebble.SSTableInfo) int {
			if c := cmpInt(uint64(a.LargestSeqNum), uint64(b.LargestSeqNum)); c != 0 {
				return c
			}
			return cmpInt(uint64(a.FileNum), uint64(b.FileNum))
		})
		tables = append(tables, l0...)
	}
	s := &StateSnapshot{Backend: PebbleBackend, Range: p.rng, Files: make([]StateFile, 0, len(tables))}
	cur := make(map[string]StateFile, len(tables))
	for _, t := range tables {
		if t.Virtual || t.BackingType != pebble.BackingTypeLocal {
			return nil, fmt.Errorf("engine: pebble backend: checkpoint %d: unexpected sstable %v", id, t.FileNum)
		}
		file := fmt.Sprintf("%06d.sst", uint64(t.BackingSSTNum))
		name := fmt.Sprintf("%d-%s", p.gen, file)
		f, ok := p.prev[name]
		if ok && incremental {
			f.Shared = true
		} else {
			data, err := p.readFile(file)
			if err != nil {
				return nil, fmt.Errorf("engine: pebble backend: checkpoint %d: %w", id, err)
			}
			f = StateFile{Name: name, Size: int64(len(data)), Data: data}
			s.IncrementalSize += f.Size
		}
		s.FullSize += f.Size
		s.Files = append(s.Files, f)
		f.Shared = false
		cur[name] = f
	}
	p.prev = cur
	return s, nil
}

// readFile reads a file of the database directory.
func (p *PebbleState) readFile(name string) ([]byte, error) {
	f, err := p.fs.Open(p.fs.PathJoin(p.dir, name))
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return data, nil
}

// Restore replaces the state with the entries of snaps (of any backend) that fall
// in the backend's key-group range; when several snapshots hold the same key, the
// later one wins. A backend that holds data, or lost its database, starts a fresh
// database; the entries are written as one sstable and ingested. The next
// snapshot shares no file with earlier ones. On error the backend's state is
// undefined and it should be restored again or closed.
func (p *PebbleState) Restore(snaps []*StateSnapshot) error {
	var items []pebbleItem
	for _, s := range snaps {
		if s == nil {
			continue
		}
		entries, err := SnapshotEntries(s)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if p.rng.Contains(e.KeyGroup) {
				items = append(items, pebbleItem{kg: e.KeyGroup, key: e.StateKey, pebbleBuffered: pebbleBuffered{value: e.Value}})
			}
		}
	}
	slices.SortStableFunc(items, func(a, b pebbleItem) int { return compareKeys(a.kg, a.key, b.kg, b.key) })
	// Keep the last of equal keys.
	n := 0
	for i := range items {
		if i+1 < len(items) && compareKeys(items[i].kg, items[i].key, items[i+1].kg, items[i+1].key) == 0 {
			continue
		}
		items[n] = items[i]
		n++
	}
	items = items[:n]

	p.clearBuffer()
	p.prev = nil
	if p.db == nil || p.ingested {
		if err := p.reopen(); err != nil {
			return err
		}
	}
	if len(items) == 0 {
		return nil
	}
	return p.ingest(items)
}

// Close closes the database (a database abandoned after a fatal error stays
// open). The files stay on the disk until the directory is reused.
func (p *PebbleState) Close() error {
	if p.db == nil {
		return nil
	}
	db := p.db
	p.db = nil
	return p.guard(db.Close)
}

func init() { RegisterSnapshotReader(PebbleBackend, readPebbleSnapshot) }

// readPebbleSnapshot returns the entries of a pebble snapshot: it reads the
// snapshot's sstables, oldest first, straight from their Data (which it never
// modifies: Pebble's MemFS would, in invariant-checking builds, scribble over
// the buffers written to it).
func readPebbleSnapshot(s *StateSnapshot) ([]StateEntry, error) {
	state := map[[pebbleKeyLen]byte]int64{}
	for _, f := range s.Files {
		if f.Data == nil && f.Size > 0 {
			return nil, fmt.Errorf("engine: pebble snapshot file %s has no data", f.Name)
		}
		if err := readPebbleTable(f.Data, state); err != nil {
			return nil, fmt.Errorf("engine: pebble snapshot file %s: %w", f.Name, err)
		}
	}
	out := make([]StateEntry, 0, len(state))
	for k, v := range state {
		kg, key, err := decodePebbleKey(k[:])
		if err != nil {
			return nil, err
		}
		out = append(out, StateEntry{KeyGroup: kg, StateKey: key, Value: v})
	}
	SortEntries(out)
	return out, nil
}

// readPebbleTable applies the sstable data to state: values set, deletions
// removed. Within the table, the first version of a key is its newest.
func readPebbleTable(data []byte, state map[[pebbleKeyLen]byte]int64) (err error) {
	readable, err := sstable.NewSimpleReadable(bytesFile{bytes.NewReader(data)})
	if err != nil {
		return err
	}
	r, err := sstable.NewReader(context.Background(), readable, pebbleReaderOptions)
	if err != nil {
		readable.Close()
		return err
	}
	defer func() { err = errors.Join(err, r.Close()) }()
	it, err := r.NewIter(sstable.NoTransforms, nil, nil, sstable.AssertNoBlobHandles)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, it.Close()) }()
	var last []byte
	for kv := it.First(); kv != nil; kv = it.Next() {
		uk := kv.K.UserKey
		if last != nil && bytes.Equal(uk, last) {
			continue
		}
		last = append(last[:0], uk...)
		if len(uk) != pebbleKeyLen {
			return fmt.Errorf("key of %d bytes, want %d", len(uk), pebbleKeyLen)
		}
		k := [pebbleKeyLen]byte(uk)
		switch kv.Kind() {
		case pebble.InternalKeyKindSet, pebble.InternalKeyKindSetWithDelete:
			v, _, err := kv.Value(nil)
			if err != nil {
				return err
			}
			x, err := decodePebbleValue(v)
			if err != nil {
				return err
			}
			state[k] = x
		case pebble.InternalKeyKindDelete, pebble.InternalKeyKindSingleDelete, pebble.InternalKeyKindDeleteSized:
			delete(state, k)
		default:
			return fmt.Errorf("unexpected key kind %v", kv.Kind())
		}
	}
	return it.Error()
}

// bytesFile is a read-only file over a byte slice, for sstable.NewSimpleReadable.
type bytesFile struct{ *bytes.Reader }

func (bytesFile) Close() error                  { return nil }
func (f bytesFile) Stat() (vfs.FileInfo, error) { return bytesFileInfo(f.Size()), nil }

// bytesFileInfo describes a bytesFile of the given size.
type bytesFileInfo int64

func (bytesFileInfo) Name() string           { return "snapshot.sst" }
func (i bytesFileInfo) Size() int64          { return int64(i) }
func (bytesFileInfo) Mode() os.FileMode      { return 0o444 }
func (bytesFileInfo) ModTime() time.Time     { return time.Time{} }
func (bytesFileInfo) IsDir() bool            { return false }
func (bytesFileInfo) Sys() any               { return nil }
func (bytesFileInfo) DeviceID() vfs.DeviceID { return vfs.DeviceID{} }

var _ KeyedState = (*PebbleState)(nil)
