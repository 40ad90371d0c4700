package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/ckptsim/ckptsim/simrun"
)

// badInput is one attack on simrun: the arguments (DIR stands for a fresh
// temporary directory), what to prepare in DIR first, the exit code and a piece
// of the error (or of the output) it must give, and what must hold afterwards.
type badInput struct {
	name    string
	args    []string
	prepare func(t *testing.T, dir string)
	code    int
	stderr  string // a piece of the error; "" when the run succeeds
	stdout  string // a piece of the output, when it must say something
	quick   bool   // the error comes before any run: nothing is printed on standard output
	errs    func(t *testing.T, stderr string)
	after   func(t *testing.T, dir string)
	stdoutW func() io.Writer // standard output, when not a buffer
}

// failingWriter is a standard output that refuses every write, as /dev/full.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, syscall.ENOSPC }

func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
}

// readFIFO reads the FIFO at path in the background until its writer closes it.
func readFIFO(path string) <-chan string {
	got := make(chan string, 1)
	go func() {
		f, err := os.Open(path)
		if err != nil {
			got <- "open: " + err.Error()
			return
		}
		b, _ := io.ReadAll(f)
		f.Close()
		got <- string(b)
	}()
	return got
}

func isDevice(t *testing.T, path string) {
	t.Helper()
	st, err := os.Lstat(path)
	if err != nil || st.Mode()&os.ModeDevice == 0 {
		t.Fatalf("%s is no longer a device: %v %v", path, st.Mode(), err)
	}
}

func needs(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Skip("needs", path)
	}
}

func badInputs() []badInput {
	var fifoGot <-chan string
	return []badInput{
		// Output paths: devices and FIFOs are written in place, symbolic links
		// followed, unwritable paths refused before the work.
		{name: "trace to /dev/full", args: []string{"run", "steady", "--trace", "/dev/full"},
			prepare: func(t *testing.T, _ string) { needs(t, "/dev/full") },
			code:    2, stderr: "--trace /dev/full: writing /dev/full: no space left on device",
			after: func(t *testing.T, _ string) { isDevice(t, "/dev/full") }},
		{name: "trace to /dev/null", args: []string{"run", "steady", "--trace", "/dev/null"},
			prepare: func(t *testing.T, _ string) { needs(t, "/dev/null") },
			code:    0, stdout: "chrome trace   /dev/null",
			after: func(t *testing.T, _ string) { isDevice(t, "/dev/null") }},
		{name: "trace to a FIFO", args: []string{"run", "steady", "--trace", "DIR/fifo"},
			prepare: func(t *testing.T, dir string) {
				mkfifo(t, filepath.Join(dir, "fifo"))
				fifoGot = readFIFO(filepath.Join(dir, "fifo"))
			},
			code: 0,
			after: func(t *testing.T, dir string) {
				if got := <-fifoGot; !strings.HasPrefix(got, `{"traceEvents":`) {
					t.Errorf("the FIFO's reader got %.60q", got)
				}
				if st, _ := os.Lstat(filepath.Join(dir, "fifo")); st.Mode()&os.ModeNamedPipe == 0 {
					t.Errorf("the FIFO was replaced by %v", st.Mode())
				}
			}},
		{name: "trace through a symlink", args: []string{"run", "steady", "--trace", "DIR/link.json"},
			prepare: func(t *testing.T, dir string) {
				os.WriteFile(filepath.Join(dir, "target.json"), []byte("old"), 0o644)
				if err := os.Symlink("target.json", filepath.Join(dir, "link.json")); err != nil {
					t.Fatal(err)
				}
			},
			code: 0,
			after: func(t *testing.T, dir string) {
				if st, _ := os.Lstat(filepath.Join(dir, "link.json")); st.Mode()&os.ModeSymlink == 0 {
					t.Errorf("the link was replaced by %v", st.Mode())
				}
				if b, _ := os.ReadFile(filepath.Join(dir, "target.json")); !bytes.HasPrefix(b, []byte(`{"traceEvents":`)) {
					t.Errorf("the link's target holds %.60q", b)
				}
			}},
		{name: "trace into a missing directory", args: []string{"run", "steady", "--trace", "DIR/no/t.json"},
			code: 2, stderr: "--trace DIR/no/t.json: directory DIR/no does not exist", quick: true},
		{name: "run --out /proc/x", args: []string{"run", "steady", "--out", "/proc/x"},
			prepare: func(t *testing.T, _ string) { needs(t, "/proc/self") },
			code:    2, stderr: "--out /proc/x: cannot create files in /proc", quick: true},
		{name: "run --out a file", args: []string{"run", "steady", "--out", "DIR/file"},
			prepare: func(t *testing.T, dir string) { os.WriteFile(filepath.Join(dir, "file"), nil, 0o644) },
			code:    2, stderr: "--out DIR/file: is not a directory", quick: true},
		{name: "sweep --out a file", args: []string{"sweep", "steady", "--param", "execution.checkpointing.interval=1 s", "--out", "DIR/file"},
			prepare: func(t *testing.T, dir string) { os.WriteFile(filepath.Join(dir, "file"), nil, 0o644) },
			code:    2, stderr: "--out DIR/file: is not a directory", quick: true},
		{name: "flink-benchmark --write /proc/x.md", args: []string{"flink-benchmark", "--write", "/proc/x.md"},
			prepare: func(t *testing.T, _ string) { needs(t, "/proc/self") },
			code:    2, stderr: "--write /proc/x.md: cannot create files in /proc", quick: true},
		{name: "rescale under uncoordinated", args: []string{"run", "rescale-on-restore", "--protocol", "uncoordinated"},
			code: 2, stderr: "cannot be restored at a new parallelism", quick: true},
		{name: "rescale under cic", args: []string{"run", "rescale-on-restore", "--protocol", "cic"},
			code: 2, stderr: "cannot be restored at a new parallelism", quick: true},
		{name: "checkmate --write /proc/x.md", args: []string{"checkmate", "--write", "/proc/x.md"},
			prepare: func(t *testing.T, _ string) { needs(t, "/proc/self") },
			code:    2, stderr: "--write /proc/x.md: cannot create files in /proc", quick: true},
		{name: "checkmate --parallel 0", args: []string{"checkmate", "--parallel", "0"},
			code: 2, stderr: "--parallel must be at least 1, got 0", quick: true},
		{name: "standard output full", args: []string{"run", "steady"}, stdoutW: func() io.Writer { return failingWriter{} },
			code: 2, stderr: "writing to standard output: no space left on device"},
		{name: "suite --out a foreign non-empty directory", args: []string{"suite", "--out", "DIR"},
			prepare: func(t *testing.T, dir string) { os.WriteFile(filepath.Join(dir, "notes.txt"), nil, 0o644) },
			code:    2, stderr: "--out DIR is not empty and holds no earlier suite's output", quick: true,
			after: func(t *testing.T, dir string) {
				if _, err := os.Stat(filepath.Join(dir, "notes.txt")); err != nil {
					t.Error("the refused directory lost a file:", err)
				}
			}},

		// Scenario files: every unknown key at once, in file order; the project's
		// words; a byte order mark; binary files not echoed.
		{name: "unknown keys in file order", args: []string{"run", "--file", "DIR/keys.yaml"},
			prepare: writeFile("keys.yaml", smallJob+"owner: me\ncolour: blue\ncluster: {workerz: 2}\n"),
			code:    2, stderr: "DIR/keys.yaml:9:1: unknown key \"owner\" in the scenario", quick: true,
		},
		{name: "60000 unknown keys", args: []string{"run", "--file", "DIR/big.yaml"},
			prepare: writeFile("big.yaml", smallJob+manyKeys(60000)),
			code:    2, stderr: "DIR/big.yaml:9:1: unknown key \"k0\" in the scenario", quick: true,
			errs: inFileOrder(60000, 9)}, // its speed: scenarios.BenchmarkLoadManyUnknownKeys
		{name: "a string for the job", args: []string{"run", "--file", "DIR/job.yaml"},
			prepare: writeFile("job.yaml", "name: x\njob: \"x\"\n"),
			code:    2, stderr: `DIR/job.yaml:2:6: job must be a mapping (max-parallelism, sources, operators), got the string "x"`, quick: true},
		{name: "a string for a number", args: []string{"run", "--file", "DIR/n.yaml"},
			prepare: writeFile("n.yaml", strings.Replace(smallJob, "records: 10", "records: ten", 1)),
			code:    2, stderr: `records must be a whole number, got the string "ten"`, quick: true},
		{name: "a byte order mark", args: []string{"run", "--file", "DIR/bom.yaml"},
			prepare: writeFile("bom.yaml", "\ufeff"+smallJob), code: 0},
		{name: "a binary file", args: []string{"run", "--file", "DIR/a.out"},
			prepare: writeFile("a.out", "\x7fELF\x02\x01\x01\x00\x00\x00\x00name: x\n"),
			code:    2, stderr: "DIR/a.out:1:1: not a scenario file: it holds the control character U+007F, as binary files do (a scenario is YAML text)", quick: true,
		},

		// True verdicts.
		{name: "checkpointing off checks nothing", args: []string{"run", "steady", "--set", "execution.checkpointing.interval=0 ms"},
			code: 0, stdout: "– exactly-once-output: not checked: checkpointing is off"},
		{name: "an at-least-once sink under an exactly-once protocol", args: []string{"run", "--file", "DIR/alo.yaml"},
			prepare: writeFile("alo.yaml", strings.Replace(smallJob, "input: agg}", "input: agg, sink: at-least-once}", 1)+
				"faults:\n  - {at: 1 ms, kind: crash-task, task: \"agg[0]\"}\n"),
			code: 0, stdout: "guarantee    at-least-once: the protocol is exactly-once, but sink out is an at-least-once sink"},
		{name: "a fault that never fires", args: []string{"run", "--file", "DIR/late.yaml"},
			prepare: writeFile("late.yaml", smallJob+"faults:\n  - {at: 90 s, kind: crash-task, task: \"agg[0]\"}\n"),
			code:    1, stderr: "failed faults-fired", stdout: "✗ faults-fired: fault 1 (at 90 s: crash-task task=agg[0]) never fired: the job finished at"},

		// Limits: named, before any work.
		{name: "a billion seeds", args: []string{"sweep", "steady", "--param", "execution.checkpointing.interval=1 s,2 s", "--seeds", "1000000000"},
			code: 2, stderr: "6000000000 runs (2 values of execution.checkpointing.interval × 3 protocols × 1000000000 seeds), more than the limit of 100000 runs", quick: true},
		{name: "checkpoint interval of 1 ns", args: []string{"run", "steady", "--set", "execution.checkpointing.interval=1 ns"},
			code: 2, stderr: `config.execution.checkpointing.interval: must be 0 (checkpointing off) or at least 10 ms, as in Flink, got "1 ns"`, quick: true},
		{name: "checkpoint interval of 9 ms in a sweep", args: []string{"sweep", "steady", "--param", "execution.checkpointing.interval=1 s,9 ms"},
			code: 2, stderr: `execution.checkpointing.interval=9 ms, protocol aligned: scenario "steady": config.execution.checkpointing.interval: must be 0 (checkpointing off) or at least 10 ms`, quick: true},
		{name: "100000 h of simulated time", args: []string{"run", "steady", "--set", "duration=100000 h"},
			code: 2, stderr: `duration must be at most 24 h of simulated time, got "100000 h"`, quick: true},
		{name: "parallelism 2000", args: []string{"run", "steady", "--set", "totals.parallelism=2000"},
			code: 2, stderr: "parallelism must be at most 1024, got 2000", quick: true},
		{name: "a million network channels", args: []string{"run", "--file", "DIR/wide.yaml"},
			prepare: func(t *testing.T, dir string) { os.WriteFile(filepath.Join(dir, "wide.yaml"), []byte(wideJob), 0o644) },
			code:    2, stderr: "DIR/wide.yaml:5:7: the job has 1049600 network channels (the largest exchange src → agg: 1024 × 1024), more than the 262144 a run can hold", quick: true},
		{name: "too many keys", args: []string{"run", "--file", "DIR/keys.yaml"},
			prepare: func(t *testing.T, dir string) {
				os.WriteFile(filepath.Join(dir, "keys.yaml"), []byte(strings.Replace(wideJob, "parallelism: 1024", "parallelism: 2", -1)+
					"      keys: {count: 100000000}\n"), 0o644)
			},
			code: 2, stderr: "key count must be at most 16777216, got 100000000", quick: true},
		{name: "a 2000×2000 grid", args: []string{"sweep", "steady", "--param", "orders.records=" + values(2000), "--param", "totals.parallelism=" + values(2000)},
			code: 2, stderr: "more than the limit of 100000 runs", quick: true},
	}
}

// errorLines counts the lines of an error, without the excerpt of a scenario file
// and the list of its further problems (indented) that follow a file:line:column
// error.
func errorLines(s string) int {
	n := 0
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		if !excerpt.MatchString(l) {
			n++
		}
	}
	return n
}

var excerpt = regexp.MustCompile(`^ +((\d+ )?\| |\S)`)

// wideJob is an all-to-all exchange of 1024 × 1024 subtasks.
const wideJob = `name: wide
job:
  max-parallelism: 4096
  operators:
    - {name: agg, type: sum, input: src, parallelism: 1024}
    - {name: out, type: sink, input: agg, parallelism: 1024}
  sources:
    - name: src
      splits: 1024
      parallelism: 1024
      records: 10
`

// smallJob is a valid scenario file of a few runs' milliseconds.
const smallJob = `name: small
job:
  sources:
    - name: src
      records: 10
  operators:
    - {name: agg, type: sum, input: src}
    - {name: out, type: sink, input: agg}
`

// manyKeys is n unknown top-level keys, k0 to k(n-1).
func manyKeys(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "k%d: 1\n", i)
	}
	return b.String()
}

// inFileOrder checks an error about manyKeys(n) starting at line first: the first
// key in the error, then the count of the others, then as many as are listed, in
// the file's order, and how many more.
func inFileOrder(n, first int) func(*testing.T, string) {
	return func(t *testing.T, stderr string) {
		lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
		var listed []string
		for _, l := range lines {
			if m := listedKey.FindStringSubmatch(l); m != nil {
				listed = append(listed, m[1]+" "+m[2])
			}
		}
		if !strings.Contains(stderr, fmt.Sprintf("and %d more problems:", n-1)) || len(listed) == 0 {
			t.Fatalf("the error does not count the %d other keys:\n%s", n-1, stderr)
		}
		for i, l := range listed {
			if want := fmt.Sprintf("%d k%d", first+1+i, 1+i); l != want {
				t.Fatalf("further problem %d is at line and key %q, want %q (file order)", i+1, l, want)
			}
		}
		if want := fmt.Sprintf("  ... and %d more", n-1-len(listed)); lines[len(lines)-1] != want {
			t.Errorf("the error ends with %q, want %q", lines[len(lines)-1], want)
		}
	}
}

var listedKey = regexp.MustCompile(`^  DIR/\S+:(\d+):1: unknown key "(k\d+)" in the scenario$`)

// writeFile prepares DIR/name with content.
func writeFile(name, content string) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// values is "1,2,...,n".
func values(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		if i > 1 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(i))
	}
	return b.String()
}

// TestBadInput: every bad input gives one clear error and exit 2 (or, for an
// output path that is a device, a FIFO or a link, the run succeeds and the path
// keeps what it is), without a panic.
func TestBadInput(t *testing.T) {
	for _, c := range badInputs() {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if c.prepare != nil {
				c.prepare(t, dir)
			}
			args := make([]string, len(c.args))
			for i, a := range c.args {
				args[i] = strings.ReplaceAll(a, "DIR", dir)
			}
			var out, errb bytes.Buffer
			var stdout io.Writer = &out
			if c.stdoutW != nil {
				stdout = c.stdoutW()
			}
			code := simrun.Run(args, stdout, &errb)
			stderr := strings.ReplaceAll(errb.String(), dir, "DIR")
			if code != c.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, c.code, out.String(), stderr)
			}
			if c.stderr != "" && !strings.Contains(stderr, c.stderr) {
				t.Errorf("stderr %q does not say %q", stderr, c.stderr)
			}
			if c.code == 2 && errorLines(stderr) > 1 {
				t.Errorf("more than one line of error:\n%s", stderr)
			}
			if c.stdout != "" && !strings.Contains(out.String(), c.stdout) {
				t.Errorf("stdout does not say %q:\n%s", c.stdout, out.String())
			}
			// before the work: nothing printed (a run prints its summary first)
			if c.quick && out.Len() > 0 {
				t.Errorf("%d bytes of output before the error: not before the work:\n%s", out.Len(), out.String())
			}
			if c.errs != nil {
				c.errs(t, stderr)
			}
			if s := out.String() + errb.String(); strings.Contains(s, "panic") || regexp.MustCompile(`goroutine \d+ \[`).MatchString(s) {
				t.Errorf("output looks like a crash:\n%s", s)
			}
			if s := errb.String(); strings.Contains(s, "Go struct") || strings.Contains(s, "unmarshal") || strings.ContainsAny(s, "\x00\x01\x02\x7f\ufeff") {
				t.Errorf("the error leaks the decoder's wording or the file's bytes:\n%q", s)
			}
			if c.after != nil {
				c.after(t, dir)
			}
		})
	}
}
