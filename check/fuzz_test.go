package check

import (
	"os"
	"testing"

	"github.com/ckptsim/ckptsim/checkpoint"
)

// FuzzSchedule is coverage-guided search of fault schedules: the fuzzer's bytes
// are a job and configuration from explore's random family and a fault schedule
// (DecodeSchedule), run under every oracle. $CKPTSIM_FUZZ_PROTOCOL names the
// protocol (a mutant, to measure how fast the search finds it); by default the
// bytes choose a correct built-in one. The corpus is testdata/fuzz/FuzzSchedule:
//
//	go test -run '^$' -fuzz '^FuzzSchedule$' -fuzztime 60s ./check/
func FuzzSchedule(f *testing.F) {
	var p checkpoint.Protocol
	if name := os.Getenv("CKPTSIM_FUZZ_PROTOCOL"); name != "" {
		var err error
		if p, err = checkpoint.Lookup(name); err != nil {
			f.Fatalf("$CKPTSIM_FUZZ_PROTOCOL: %v", err)
		}
	}
	Fuzz(f, p)
}
