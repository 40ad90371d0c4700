package simrun

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ckptsim/ckptsim/internal/outfile"
)

// Every file simrun writes goes through outfile.Write (atomic for regular files,
// in place for devices and FIFOs, through symbolic links), and every output path
// is checked with checkOutputs before the work that produces it starts.

// outFile is an output file named by a flag; an empty path is not asked for.
type outFile struct{ flag, path string }

// outDir is an output directory named by a flag; an empty path is not asked for.
type outDir struct{ flag, path string }

// checkOutputs reports, as a usage error naming the flag, the first output path
// that cannot be written.
func checkOutputs(outs ...any) error {
	for _, o := range outs {
		switch o := o.(type) {
		case outFile:
			if o.path != "" {
				if err := outfile.CheckFile(o.path); err != nil {
					return usageErr("%s %s: %v", o.flag, o.path, err)
				}
			}
		case outDir:
			if o.path != "" {
				if err := outfile.CheckDir(o.path); err != nil {
					return usageErr("%s %s: %v", o.flag, o.path, err)
				}
			}
		}
	}
	return nil
}

// writeJSON writes v as indented JSON to w.
func writeJSON(w io.Writer, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return failErr("encoding the result: %v", err)
	}
	_, err = w.Write(append(data, '\n'))
	return err
}

// writeJSONFile writes v as indented JSON to dir/name.
func writeJSONFile(dir, name string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return failErr("encoding %s: %v", name, err)
	}
	return writeOut(dir, name, append(data, '\n'))
}

// writeOut creates dir if needed and writes dir/name; a failure is an error of
// the output (exit status 2), not of a check.
func writeOut(dir, name string, data []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return usageErr("%v", err)
	}
	if err := outfile.Write(filepath.Join(dir, name), data); err != nil {
		return usageErr("%v", err)
	}
	return nil
}

// checkedWriter remembers the first error writing to w (standard output full,
// closed, or a device that refuses), so that output lost is an error, not exit 0.
type checkedWriter struct {
	w   io.Writer
	err error
}

func (c *checkedWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	if err != nil {
		c.err = err
	}
	return n, err
}

// outputErr is the usage error for output that could not be written to standard
// output.
func outputErr(err error) error {
	return usageErr("writing to standard output: %v", unwrapPathErr(err))
}

// unwrapPathErr drops the "write /dev/stdout:" prefix of an *os.PathError.
func unwrapPathErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return fmt.Errorf("%w", pe.Err)
	}
	return err
}
