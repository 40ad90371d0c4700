// Command simrun runs ckptsim's simulations from the command line: named fault
// scenarios and scenario files, under any registered checkpoint protocol, with a
// verdict that can be replayed exactly. See package simrun (and simrun --help).
//
// Exit codes: 0 when every check a run promises passed (or its expected failure
// happened), 1 when a check failed, 2 for usage and input errors.
package main

import (
	"os"

	"github.com/ckptsim/ckptsim/simrun"
)

func main() {
	os.Exit(simrun.Main(os.Args[1:]))
}
