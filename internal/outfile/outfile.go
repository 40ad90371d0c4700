// Package outfile is the one way ckptsim writes an output file, and the checks
// that tell, before any work starts, whether a path can be written.
//
// A regular file (or a path that does not exist yet) is replaced atomically: the
// data goes to a temporary file in the same directory, is synced, and is renamed
// over the path, so a reader sees the old file or the new one, never half of one.
// A path that exists and is not a regular file — a device such as /dev/null or
// /dev/stdout, a FIFO — is written in place and never replaced. A symbolic link is
// followed and its target replaced atomically; the link itself stays.
package outfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// maxLinks bounds the symbolic links followed to resolve one path (as Linux's
// MAXSYMLINKS).
const maxLinks = 40

// Write writes data to path: atomically for a regular or new file, in place for an
// existing device or FIFO (see the package documentation).
func Write(path string, data []byte) error {
	target, proc, err := resolve(path)
	if err != nil {
		return err
	}
	st, err := os.Stat(target)
	switch {
	case err == nil && st.IsDir():
		return fmt.Errorf("%s is a directory", path)
	case err == nil && (proc || !st.Mode().IsRegular()):
		return writeInPlace(path, target, data, st.Mode().IsRegular())
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return err
	}
	mode := fs.FileMode(0o644)
	if st != nil {
		mode = st.Mode().Perm()
	}
	return replace(target, data, mode)
}

// replace writes data to a temporary file beside target, syncs it and renames it
// over target, then syncs the directory so the rename survives a crash.
func replace(target string, data []byte, mode fs.FileMode) error {
	dir := filepath.Dir(target)
	f, err := os.CreateTemp(dir, "."+filepath.Base(target)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Chmod(mode); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, target); err != nil {
		os.Remove(tmp)
		return err
	}
	syncDir(dir)
	return nil
}

// syncDir makes a rename in dir durable. File systems that cannot sync a
// directory are not an error: the data itself was synced.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// writeInPlace writes data to an existing device or FIFO, or through a /proc link
// (/dev/stdout) to whatever the link designates, truncating a regular file; a
// short or failed write (ENOSPC on /dev/full, a closed FIFO) is an error.
func writeInPlace(path, target string, data []byte, regular bool) error {
	flags := os.O_WRONLY
	if regular {
		flags |= os.O_TRUNC
	}
	f, err := os.OpenFile(target, flags, 0)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, unwrapPath(err))
	}
	return f.Close()
}

// unwrapPath drops the *fs.PathError wrapping, whose text repeats the path.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// resolve follows symbolic links until path names something that is not a link,
// or nothing: the file Write writes. A link under /proc (/dev/stdout leads to
// /proc/self/fd/1) designates an open file rather than a path, so it is not
// followed: proc reports it, and the file is written in place through it.
func resolve(path string) (target string, proc bool, err error) {
	for range maxLinks {
		st, err := os.Lstat(path)
		if err != nil || st.Mode()&fs.ModeSymlink == 0 {
			return path, false, nil
		}
		if abs, err := filepath.Abs(path); err == nil && strings.HasPrefix(abs, "/proc/") {
			return path, true, nil
		}
		link, err := os.Readlink(path)
		if err != nil {
			return "", false, err
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(filepath.Dir(path), link)
		}
		path = link
	}
	return "", false, fmt.Errorf("too many levels of symbolic links")
}

// CheckFile reports why Write(path, ...) would fail, without writing path: a
// directory, a missing or unwritable directory, a device or FIFO that cannot be
// opened for writing. Call it before the work whose result goes to path. (A
// device that fails only when written, such as /dev/full, fails at Write.)
func CheckFile(path string) error {
	if path == "" {
		return fmt.Errorf("empty path")
	}
	target, proc, err := resolve(path)
	if err != nil {
		return err
	}
	st, err := os.Stat(target)
	switch {
	case err == nil && st.IsDir():
		return fmt.Errorf("is a directory")
	case err == nil && (proc || !st.Mode().IsRegular()):
		return checkInPlace(target)
	case err != nil && !missing(err):
		return unwrapPath(err)
	}
	dir := filepath.Dir(target)
	dst, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("directory %s does not exist", dir)
	}
	if !dst.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	return probe(dir)
}

// checkInPlace checks that a device or FIFO may be written, without opening it:
// opening a FIFO, even without blocking, would show its reader an end of file.
func checkInPlace(target string) error {
	if err := syscall.Access(target, 2 /* W_OK */); err != nil {
		return fmt.Errorf("cannot be written: %v", err)
	}
	return nil
}

// CheckDir reports why files could not be written into dir: it exists and is not
// a directory, or it (or, when it does not exist yet, the directory it would be
// created in) does not take new files. It creates nothing.
func CheckDir(dir string) error {
	if dir == "" {
		return fmt.Errorf("empty path")
	}
	for d := dir; ; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err == nil {
			if !st.IsDir() {
				if d == dir {
					return fmt.Errorf("is not a directory")
				}
				return fmt.Errorf("%s is not a directory", d)
			}
			return probe(d)
		}
		if !missing(err) {
			return unwrapPath(err)
		}
		if parent := filepath.Dir(d); parent == d {
			return fmt.Errorf("no directory of %s exists", dir)
		}
	}
}

// missing reports whether err says a path does not exist (or could not, because
// a file stands where a directory of it should be).
func missing(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// probe creates and removes a file in dir.
func probe(dir string) error {
	f, err := os.CreateTemp(dir, ".simrun-probe-*")
	if err != nil {
		return fmt.Errorf("cannot create files in %s: %v", dir, unwrapPath(err))
	}
	f.Close()
	return os.Remove(f.Name())
}
