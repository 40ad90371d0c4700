// Command simrun runs ckptsim's simulations from the command line.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// exitError carries the exit code a command wants: 1 for a failed check, 2 for
// usage or input errors.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

func usageErr(format string, args ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, args...)}
}

func main() {
	root := &cobra.Command{
		Use:           "simrun",
		Short:         "Deterministic simulation testbed for stream-processing checkpoint protocols",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitError{code: 2, err: err}
	})
	root.AddCommand(demoCmd())
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "simrun:", err)
		var ee *exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		os.Exit(2)
	}
}
