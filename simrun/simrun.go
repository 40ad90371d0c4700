// Package simrun is the simrun command line: ckptsim's simulations run from a
// terminal — named fault scenarios and scenario files, under any registered
// checkpoint protocol, with a verdict that can be replayed exactly. The command
// cmd/simrun is Main; a module with a protocol of its own gets the same tool by
// calling Main from its own main with that protocol added:
//
//	func main() { os.Exit(simrun.Main(os.Args[1:], myprotocol.New())) }
//
// Exit codes: 0 when every check a run promises passed (or its expected failure
// happened), 1 when a check failed, 2 for usage and input errors.
package simrun

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/ckptsim/ckptsim/checkpoint"
	_ "github.com/ckptsim/ckptsim/protocol" // registers the built-in protocols
	"github.com/spf13/cobra"
)

// exitError carries the exit code a command wants: 1 for a failed check, 2 for
// usage or input errors.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErr(format string, args ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, args...)}
}

func failErr(format string, args ...any) error {
	return &exitError{code: 1, err: fmt.Errorf(format, args...)}
}

// Main runs simrun with args (without the program name) on the process's standard
// output and error, with protocols registered beside the built-in ones, and
// returns the exit code: 0 all checks passed, 1 a check failed, 2 a usage or
// input error (a protocol whose name is already taken by another is one).
func Main(args []string, protocols ...checkpoint.Protocol) int {
	return Run(args, os.Stdout, os.Stderr, protocols...)
}

// Run is Main writing to stdout and stderr; tests call it in process.
func Run(args []string, stdout, stderr io.Writer, protocols ...checkpoint.Protocol) int {
	if err := register(protocols); err != nil {
		fmt.Fprintln(stderr, "simrun:", err)
		return 2
	}
	return execute(args, stdout, stderr)
}

// register adds protocols to the engine's registry; registering the same protocol
// again is not an error, another one under a taken name is.
func register(protocols []checkpoint.Protocol) error {
	for _, p := range protocols {
		if p == nil {
			return fmt.Errorf("a nil protocol was passed to simrun.Main")
		}
		if have, err := checkpoint.Lookup(p.Name()); err == nil {
			if !sameProtocol(have, p) {
				return fmt.Errorf("protocol %q is already registered (pick another name)", p.Name())
			}
			continue
		}
		checkpoint.Register(p)
	}
	return nil
}

// sameProtocol compares two protocol values; values of types that cannot be
// compared are different.
func sameProtocol(a, b checkpoint.Protocol) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a == b
}

// execute runs simrun with args, writing to stdout and stderr, and returns the exit
// code.
func execute(args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		// A last resort: runs recover their own panics and name the replay command;
		// whatever else panics still gets one line and no stack trace.
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "simrun: internal error: %v\n", r)
			code = 1
		}
	}()
	root := &cobra.Command{
		Use:           "simrun",
		Short:         "Deterministic simulation testbed for stream-processing checkpoint protocols",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitError{code: 2, err: fmt.Errorf("%w (see %s --help)", err, c.CommandPath())}
	})
	root.AddCommand(listCmd(), showCmd(), protocolsCmd(), runCmd(), replayCmd(), suiteCmd(), sweepCmd(), flinkBenchmarkCmd(), checkmateCmd(), exploreCmd(), mutantsCmd(), demoCmd())
	if args == nil {
		args = []string{} // nil would make cobra read os.Args
	}
	out := &checkedWriter{w: stdout}
	root.SetArgs(args)
	root.SetOut(out)
	root.SetErr(stderr)
	err := root.Execute()
	if err != nil && (out.err == nil || !errors.Is(err, out.err)) {
		fmt.Fprintln(stderr, "simrun:", err)
	}
	if out.err != nil {
		// whatever the verdict, the output it was printed in is lost
		fmt.Fprintln(stderr, "simrun:", outputErr(out.err))
		return 2
	}
	return exitCode(err)
}

// exitCode is the exit status of a command's error.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 2 // cobra's own errors: unknown command, wrong number of arguments
}
