package simrun

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// suiteOutputs are the names suite --out writes into its directory. A suite into
// the directory of an earlier one removes them first, so that no trace, figure or
// table of a run that no longer exists stays beside the new report. A new output
// of the suite must be listed here.
var suiteOutputs = []string{"index.html", "results.json", "summary.txt", "wall-clock.json", "data", "figures", "scenarios", "sweeps", "traces"}

// suiteMarker is the file that marks a directory as an earlier suite's output.
const suiteMarker = "results.json"

// prepareSuiteDir readies dir for suite --out: a missing or empty directory as it
// is; an earlier suite's output with its outputs removed; any other non-empty
// directory refused, unless force (then only the suite's own names are removed
// and everything else stays).
func prepareSuiteDir(dir string, force bool) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) || err == nil && len(ents) == 0 {
		return nil
	}
	if err != nil {
		return usageErr("--out %s: %v", dir, err)
	}
	if _, err := os.Stat(filepath.Join(dir, suiteMarker)); err != nil && !force {
		return usageErr("--out %s is not empty and holds no earlier suite's output (no %s): "+
			"give an empty or new directory, or --force to write into it (only the suite's own %s are replaced)",
			dir, suiteMarker, strings.Join(suiteOutputs, ", "))
	}
	for _, name := range suiteOutputs {
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			return usageErr("--out %s: clearing the earlier suite's output: %v", dir, err)
		}
	}
	return nil
}

// clearSweepOutputs removes what an earlier sweep of the same name wrote into dir
// (NAME.csv, NAME.json and the NAME--* figures with their data), so that a figure
// the new rows no longer support does not stay behind. Other files stay.
func clearSweepOutputs(dir, name string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return usageErr("--out %s: %v", dir, err)
	}
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || !(n == name+".csv" || n == name+".json" || strings.HasPrefix(n, name+"--")) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, n)); err != nil {
			return usageErr("--out %s: clearing the earlier sweep's output: %v", dir, err)
		}
	}
	return nil
}
