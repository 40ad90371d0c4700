package myprotocol

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/ckptsim/ckptsim/check"
	"github.com/ckptsim/ckptsim/simrun"
)

// TestCapped runs ckptsim's battery on the protocol: the named scenarios, random
// cases, and every crash point of a small backpressured job.
func TestCapped(t *testing.T) {
	check.Protocol(t, Capped{MaxBlocked: 2}, check.Budget(8))
}

// TestBroken is the battery on the broken variant: it fails, so it runs only when
// asked — by a replay command a failure printed, or CKPTSIM_SHOW_BROKEN=1 to see
// the report.
func TestBroken(t *testing.T) {
	if !check.Replaying() && os.Getenv("CKPTSIM_SHOW_BROKEN") == "" {
		t.Skip("fails on purpose: run with CKPTSIM_SHOW_BROKEN=1 to see the report")
	}
	check.Protocol(t, Broken{MaxBlocked: 2}, check.Budget(8))
}

// TestBrokenIsCaught: each search of the battery catches the broken variant —
// the random cases with a shrunk fault schedule, the crash points at a named
// point — and the replay command it prints, run as printed, fails the same way.
func TestBrokenIsCaught(t *testing.T) {
	for _, c := range []struct {
		part string
		opts []check.Option
	}{
		{check.PartExplore, []check.Option{check.Scenarios(), check.CrashPoints(""), check.Budget(24)}},
		{check.PartCrash, []check.Option{check.Scenarios(), check.Budget(0)}},
	} {
		t.Run(c.part, func(t *testing.T) {
			rep, err := check.Run(Broken{MaxBlocked: 2}, append(c.opts, check.FailFast(), check.TestName("TestBroken"))...)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK() {
				t.Fatalf("the broken variant passed: %s", rep.Summary())
			}
			f := rep.Failures[0]
			t.Logf("caught:\n%s", f)
			if f.Part != c.part || (f.Part == check.PartExplore && len(f.Shrunk) == 0) {
				t.Fatalf("want a %s failure (shrunk, for random cases), got %s", c.part, f)
			}
			replay(t, f)
		})
	}
}

// replay runs a failure's replay command — "go test -run '^TestBroken$'
// -ckptsim.replay=CASE" — on this test binary, which is what go test builds, and
// checks that it fails the same check.
func replay(t *testing.T, f check.Failure) {
	t.Helper()
	if !strings.HasPrefix(f.Replay, "go test -run '^TestBroken$' -ckptsim.replay=") {
		t.Fatalf("replay command %q", f.Replay)
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestBroken$", "-ckptsim.replay="+f.Case)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err == nil {
		t.Fatalf("the replay passed:\n%s", out.String())
	}
	if !strings.Contains(out.String(), f.Case+" failed "+f.Check) {
		t.Fatalf("the replay did not fail %s again:\n%s", f.Check, out.String())
	}
}

// TestSimrunWithTheProtocol: the module's own simrun (cmd/simrun-capped) runs a
// named scenario under the protocol, by name.
func TestSimrunWithTheProtocol(t *testing.T) {
	var out, errOut bytes.Buffer
	code := simrun.Run([]string{"run", "crash-during-alignment", "--protocol", "aligned-capped"}, &out, &errOut,
		Capped{MaxBlocked: 2}, Broken{MaxBlocked: 2})
	if code != 0 || !strings.Contains(out.String(), "under aligned-capped") {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
}
