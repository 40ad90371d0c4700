package outfile

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// noTemp fails when a temporary file of Write is left in dir.
func noTemp(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp") || strings.HasPrefix(e.Name(), ".simrun-probe") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

// TestWriteRegular: a new file is created 0644; an existing one is replaced by a
// new inode (atomically) and keeps its mode.
func TestWriteRegular(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.json")
	if err := Write(p, []byte("one")); err != nil {
		t.Fatal(err)
	}
	st1, _ := os.Stat(p)
	if read(t, p) != "one" || st1.Mode().Perm() != 0o644 {
		t.Fatalf("got %q mode %v", read(t, p), st1.Mode())
	}
	if err := os.Chmod(p, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Write(p, []byte("two")); err != nil {
		t.Fatal(err)
	}
	st2, _ := os.Stat(p)
	if read(t, p) != "two" || st2.Mode().Perm() != 0o600 {
		t.Errorf("got %q mode %v", read(t, p), st2.Mode())
	}
	if os.SameFile(st1, st2) {
		t.Error("the file was written in place, not replaced")
	}
	noTemp(t, dir)
}

// TestWriteSymlink: the link stays a link and its target (even a dangling one) is
// written.
func TestWriteSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target.json")
	link := filepath.Join(dir, "link.json")
	os.WriteFile(target, []byte("old"), 0o644)
	if err := os.Symlink("target.json", link); err != nil {
		t.Fatal(err)
	}
	if err := CheckFile(link); err != nil {
		t.Fatal(err)
	}
	if err := Write(link, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Lstat(link); st.Mode()&os.ModeSymlink == 0 {
		t.Error("the link was replaced by a file")
	}
	if read(t, target) != "new" {
		t.Errorf("target holds %q", read(t, target))
	}
	dangling := filepath.Join(dir, "dangling")
	os.Symlink(filepath.Join(dir, "new-target"), dangling)
	if err := Write(dangling, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if read(t, filepath.Join(dir, "new-target")) != "x" {
		t.Error("a dangling link's target was not created")
	}
	loop := filepath.Join(dir, "loop")
	os.Symlink("loop", loop)
	if err := Write(loop, nil); err == nil || !strings.Contains(err.Error(), "symbolic links") {
		t.Errorf("a link to itself: %v", err)
	}
	noTemp(t, dir)
}

// TestWriteFIFO: a FIFO is written in place (a reader gets the data) and stays a
// FIFO.
func TestWriteFIFO(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	if err := CheckFile(p); err != nil {
		t.Fatalf("a FIFO without a reader yet: %v", err)
	}
	got := make(chan string)
	go func() {
		f, err := os.Open(p)
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(f)
		f.Close()
		got <- string(b)
	}()
	if err := Write(p, []byte("through the fifo")); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "through the fifo" {
		t.Errorf("the reader got %q", s)
	}
	if st, _ := os.Lstat(p); st.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the FIFO became %v", st.Mode())
	}
	noTemp(t, dir)
}

// TestWriteDevices: /dev/null takes the data and stays a device; /dev/full fails.
func TestWriteDevices(t *testing.T) {
	if _, err := os.Stat("/dev/null"); err != nil {
		t.Skip("no /dev/null")
	}
	if err := CheckFile("/dev/null"); err != nil {
		t.Fatal(err)
	}
	if err := Write("/dev/null", []byte("gone")); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat("/dev/null"); st.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("/dev/null is now %v", st.Mode())
	}
	if _, err := os.Stat("/dev/full"); err == nil {
		if err := Write("/dev/full", []byte("x")); err == nil || !strings.Contains(err.Error(), "no space") {
			t.Errorf("/dev/full: %v", err)
		}
		if st, _ := os.Stat("/dev/full"); st.Mode()&os.ModeCharDevice == 0 {
			t.Fatalf("/dev/full is now %v", st.Mode())
		}
	}
}

// TestWriteProcLink: a /proc link (what /dev/stdout leads to) is written through,
// not followed and replaced.
func TestWriteProcLink(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "stdout.txt")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	link := "/proc/self/fd/" + strconv.Itoa(int(f.Fd()))
	if _, err := os.Lstat(link); err != nil {
		t.Skip("no /proc:", err)
	}
	st1, _ := f.Stat()
	if err := Write(link, []byte("via the descriptor")); err != nil {
		t.Fatal(err)
	}
	st2, _ := os.Stat(p)
	if !os.SameFile(st1, st2) || read(t, p) != "via the descriptor" {
		t.Errorf("the open file was replaced or not written: %q", read(t, p))
	}
}

// TestChecks: what cannot be written is reported before any work.
func TestChecks(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o644)
	for _, c := range []struct {
		name, path string
		dir        bool
		want       string
	}{
		{"a directory as a file", dir, false, "is a directory"},
		{"missing directory", filepath.Join(dir, "no", "f"), false, "does not exist"},
		{"a file as a directory", filepath.Join(file, "f"), false, "is not a directory"},
		{"/proc", "/proc/x.md", false, "cannot create files in /proc"},
		{"out is a file", file, true, "is not a directory"},
		{"out under a file", filepath.Join(file, "sub"), true, "is not a directory"},
		{"out in /proc", "/proc/x", true, "cannot create files in /proc"},
	} {
		var err error
		if c.dir {
			err = CheckDir(c.path)
		} else {
			err = CheckFile(c.path)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s (%s): %v, want %q", c.name, c.path, err, c.want)
		}
	}
	for _, ok := range []string{dir, filepath.Join(dir, "new", "deeper")} {
		if err := CheckDir(ok); err != nil {
			t.Errorf("CheckDir(%s): %v", ok, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "new")); err == nil {
		t.Error("CheckDir created a directory")
	}
	noTemp(t, dir)
}
