package simrun

import (
	"os"
	"runtime/pprof"

	"github.com/spf13/cobra"
)

// profileFlags are run's and explore's hidden profiling flags (docs/performance.md): a CPU
// profile of the whole command, and a heap profile of the live objects at the
// last garbage collection before the run ended (what the simulation still held,
// not what it had freed).
type profileFlags struct {
	cpu, mem string
}

func (p *profileFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&p.cpu, "cpuprofile", "", "write a pprof CPU profile of the run to FILE")
	c.Flags().StringVar(&p.mem, "memprofile", "", "write a pprof heap profile at the end of the run to FILE")
	_ = c.Flags().MarkHidden("cpuprofile")
	_ = c.Flags().MarkHidden("memprofile")
}

// start begins the CPU profile; the returned function stops it and writes the
// heap profile. Errors are input errors (a file that cannot be created).
func (p *profileFlags) start() (stop func() error, err error) {
	var cpu *os.File
	if p.cpu != "" {
		if cpu, err = os.Create(p.cpu); err != nil {
			return nil, usageErr("--cpuprofile: %v", err)
		}
		if err := pprof.StartCPUProfile(cpu); err != nil {
			cpu.Close()
			return nil, usageErr("--cpuprofile: %v", err)
		}
	}
	return func() error {
		if cpu != nil {
			pprof.StopCPUProfile()
			if err := cpu.Close(); err != nil {
				return usageErr("--cpuprofile: %v", err)
			}
		}
		if p.mem == "" {
			return nil
		}
		f, err := os.Create(p.mem)
		if err != nil {
			return usageErr("--memprofile: %v", err)
		}
		// No runtime.GC() first: the profile is as of the last collection, taken
		// while the run still held its data.
		if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
			f.Close()
			return usageErr("--memprofile: %v", err)
		}
		return f.Close()
	}, nil
}
