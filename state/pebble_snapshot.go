package state

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/objstorage/objstorageprovider"
	"github.com/cockroachdb/pebble/v2/sstable"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// tables returns the database's live sstables by level.
func (p *Pebble) tables() ([][]pebble.SSTableInfo, error) {
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
func (p *Pebble) ingest(items []pebbleItem) error {
	path := p.fs.PathJoin(p.dir, pebbleIngestFile)
	if err := p.writeTable(path, items); err != nil {
		_ = p.fs.Remove(path)
		return fmt.Errorf("state: pebble backend: writing an sstable: %w", err)
	}
	err := p.guard(func() error { return p.db.Ingest(context.Background(), []string{path}) })
	// Ingestion links the file into the database, so the original name can go
	// whether or not it succeeded. A file left behind by a failed removal is
	// overwritten by the next ingestion.
	_ = p.fs.Remove(path)
	if err != nil {
		return fmt.Errorf("state: pebble backend: ingesting an sstable: %w", err)
	}
	p.ingested = true
	return nil
}

// writeTable writes items to a new sstable at path.
func (p *Pebble) writeTable(path string, items []pebbleItem) error {
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
// After a rewrite of the state (see Pebble) or a Restore, every file is new.
func (p *Pebble) Snapshot(id int64, incremental bool) (*Snapshot, error) {
	if err := p.writeBuffer(); err != nil {
		return nil, fmt.Errorf("checkpoint %d: %w", id, err)
	}
	levels, err := p.tables()
	if err != nil {
		return nil, fmt.Errorf("state: pebble backend: checkpoint %d: listing sstables: %w", id, err)
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
	s := &Snapshot{Backend: PebbleBackend, Range: p.rng, Files: make([]File, 0, len(tables))}
	cur := make(map[string]File, len(tables))
	for _, t := range tables {
		if t.Virtual || t.BackingType != pebble.BackingTypeLocal {
			return nil, fmt.Errorf("state: pebble backend: checkpoint %d: unexpected sstable %v", id, t.FileNum)
		}
		file := fmt.Sprintf("%06d.sst", uint64(t.BackingSSTNum))
		name := fmt.Sprintf("%d-%s", p.gen, file)
		f, ok := p.prev[name]
		if ok && incremental {
			f.Shared = true
		} else {
			data, err := p.readFile(file)
			if err != nil {
				return nil, fmt.Errorf("state: pebble backend: checkpoint %d: %w", id, err)
			}
			f = File{Name: name, Size: int64(len(data)), Data: data}
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
func (p *Pebble) readFile(name string) ([]byte, error) {
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
func (p *Pebble) Restore(snaps []*Snapshot) error {
	var items []pebbleItem
	for _, s := range snaps {
		if s == nil {
			continue
		}
		entries, err := SnapshotEntriesAnyOrder(s) // sorted below
		if err != nil {
			return err
		}
		for _, e := range entries {
			if p.rng.Contains(e.KeyGroup) {
				items = append(items, pebbleItem{kg: e.KeyGroup, key: e.Cell, pebbleBuffered: pebbleBuffered{value: e.Value}})
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

func init() { RegisterSnapshotReader(PebbleBackend, readPebbleSnapshot) }

// readPebbleSnapshot returns the entries of a pebble snapshot: it reads the
// snapshot's sstables, oldest first, straight from their Data (which it never
// modifies: Pebble's MemFS would, in invariant-checking builds, scribble over
// the buffers written to it).
func readPebbleSnapshot(s *Snapshot) ([]Entry, error) {
	state := map[[pebbleKeyLen]byte]int64{}
	for _, f := range s.Files {
		if f.Data == nil && f.Size > 0 {
			return nil, fmt.Errorf("state: pebble snapshot file %s has no data", f.Name)
		}
		if err := readPebbleTable(f.Data, state); err != nil {
			return nil, fmt.Errorf("state: pebble snapshot file %s: %w", f.Name, err)
		}
	}
	out := make([]Entry, 0, len(state))
	for k, v := range state {
		kg, key, err := decodePebbleKey(k[:])
		if err != nil {
			return nil, err
		}
		out = append(out, Entry{KeyGroup: kg, Cell: key, Value: v})
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
