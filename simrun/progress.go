package simrun

import (
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress shows a suite's progress bar when w is a terminal; on anything else (a
// pipe, a file, a test's buffer) it shows nothing.
type progress struct {
	bar *progressbar.ProgressBar // nil: not a terminal
}

func newProgress(w io.Writer, total int) progress {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return progress{}
	}
	return progress{bar: progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("runs"),
		progressbar.OptionShowCount(),
		progressbar.OptionFullWidth(),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)}
}

// done counts one finished run; it is safe for concurrent use.
func (p progress) done() {
	if p.bar != nil {
		p.bar.Add(1)
	}
}

// finish clears the bar.
func (p progress) finish() {
	if p.bar != nil {
		p.bar.Finish()
	}
}
