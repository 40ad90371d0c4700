package simrun

import (
	"fmt"

	"github.com/ckptsim/ckptsim/internal/outfile"
	"github.com/spf13/cobra"
)

// checkReportFlags validates the flags shared by the commands that generate a
// Markdown report (flink-benchmark, checkmate): --parallel and --write.
func checkReportFlags(parallel int, write string) error {
	if parallel < 1 {
		return usageErr("--parallel must be at least 1, got %d", parallel)
	}
	return checkOutputs(outFile{"--write", write})
}

// writeReport puts a generated report in the file named by --write (atomically),
// or on standard output when write is empty.
func writeReport(cmd *cobra.Command, write string, report []byte) error {
	if write == "" {
		_, err := cmd.OutOrStdout().Write(report)
		return err
	}
	if err := outfile.Write(write, report); err != nil {
		return usageErr("--write %s: %v", write, err)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s\n", write)
	return nil
}
