// Command simrun-capped is ckptsim's simrun with this module's protocols added:
// every subcommand (run, suite, explore --exhaustive, replay, ...) accepts
// --protocol aligned-capped, and aligned-capped-broken to see a failure.
//
//	go run ./cmd/simrun-capped run crash-during-alignment --protocol aligned-capped
package main

import (
	"os"

	"example.com/myprotocol"
	"github.com/ckptsim/ckptsim/simrun"
)

func main() {
	os.Exit(simrun.Main(os.Args[1:], myprotocol.Capped{MaxBlocked: 2}, myprotocol.Broken{MaxBlocked: 2}))
}
