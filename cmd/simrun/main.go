// Command simrun runs ckptsim's simulations from the command line: named fault
// scenarios and scenario files, under any registered checkpoint protocol, with a
// verdict that can be replayed exactly.
//
// Exit codes: 0 when every check a run promises passed (or its expected failure
// happened), 1 when a check failed, 2 for usage and input errors.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

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

func main() {
	os.Exit(execute(os.Args[1:], os.Stdout, os.Stderr))
}

// execute runs simrun with args, writing to stdout and stderr, and returns the exit
// code. Tests call it in process.
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
	root.AddCommand(listCmd(), showCmd(), protocolsCmd(), runCmd(), replayCmd(), suiteCmd(), sweepCmd(), flinkBenchmarkCmd(), exploreCmd(), demoCmd())
	if args == nil {
		args = []string{} // nil would make cobra read os.Args
	}
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "simrun:", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 2 // cobra's own errors: unknown command, wrong number of arguments
}
