package check

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestExampleModuleIsTidy: examples/myprotocol is a module of its own whose
// go.mod lists the root module's dependencies, so a change of the root go.mod
// (a new or upgraded dependency) leaves it stale, and its tests then refuse to
// build. This test is in the root module so that go test ./... catches it, and
// says what to run.
func TestExampleModuleIsTidy(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("..", "examples", "myprotocol"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Skipf("no example module here: %v", err)
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command on PATH: %v", err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(goTool, "mod", "tidy", "-diff")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	if stdout.Len() > 0 {
		t.Fatalf("examples/myprotocol/go.mod is stale (the root go.mod changed): run\n\n"+
			"    cd examples/myprotocol && go mod tidy\n\n"+
			"and commit examples/myprotocol/go.mod and go.sum with your change. The difference:\n%s", stdout.String())
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		// tidy failed without a difference to show: it could not resolve the
		// modules (no network and no module cache, say), which is not what this
		// test checks; make test's example-tidy step reports it.
		t.Skipf("go mod tidy -diff in examples/myprotocol could not run: %v\n%s", err, stderr.String())
	}
	if err != nil {
		t.Fatal(err)
	}
}
