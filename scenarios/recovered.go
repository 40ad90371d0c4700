package scenarios

import (
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
)

// PanicError is a run that panicked: in a protocol's barrier handler, an
// operator or the engine. Its message names the panic and where it happened.
type PanicError struct {
	Value any
	// Stack is the goroutine's stack at the panic.
	Stack string
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("the run panicked: %v (at %s)", e.Value, panicSite(e.Stack))
}

// panicSite is the first frame of a stack below the runtime's and this file's.
func panicSite(stack string) string {
	lines := strings.Split(stack, "\n")
	for i := 1; i+1 < len(lines); i += 2 {
		fn, file := strings.TrimSpace(lines[i]), strings.TrimSpace(lines[i+1])
		if strings.HasPrefix(fn, "runtime") || strings.HasPrefix(fn, "panic(") || strings.Contains(fn, "debug.Stack") ||
			strings.Contains(fn, "scenarios.RunRecovered") || strings.Contains(fn, "scenarios.(*PanicError)") {
			continue
		}
		if j := strings.LastIndex(file, " +0x"); j > 0 {
			file = file[:j]
		}
		return fn + " " + file
	}
	return "unknown"
}

// RunRecovered is Run that turns a panic into a *PanicError: a search that runs
// thousands of cases (explore, exhaustive crash points, a user's check) reports
// the case that panicked instead of dying with it.
func RunRecovered(setup *Setup, opts RunOptions) (res *Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, &PanicError{Value: r, Stack: string(debug.Stack())}
		}
	}()
	return Run(setup, opts)
}

// errCheck names the check a run error fails: "panic" or "run".
func errCheck(err error) string {
	var pe *PanicError
	if errors.As(err, &pe) {
		return "panic"
	}
	return "run"
}
