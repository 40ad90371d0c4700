package state

import (
	"fmt"
	"io"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// IOError is the panic value of a state backend read (Get, ScanKey, Entries)
// that failed with an I/O error of the node's disk, or on a backend that lost its
// database to such an error.
type IOError struct {
	// Op is the operation that failed.
	Op string
	// Err is the underlying error.
	Err error
}

// Error implements error.
func (e *IOError) Error() string { return "state backend " + e.Op + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *IOError) Unwrap() error { return e.Err }

// pebbleFatalError is an error Pebble considers fatal: its database cannot be
// used any more.
type pebbleFatalError struct {
	msg string
	err error // the first error among the message's arguments
}

func (e *pebbleFatalError) Error() string { return "state: pebble fatal error: " + e.msg }

// Unwrap returns the error that caused the fatal error, if known.
func (e *pebbleFatalError) Unwrap() error { return e.err }

// pebbleLogger discards Pebble's log messages and panics with a
// *pebbleFatalError on fatal errors, which the backend recovers (Pebble's default
// logger would exit the process).
type pebbleLogger struct{}

func (pebbleLogger) Infof(string, ...any)  {}
func (pebbleLogger) Errorf(string, ...any) {}
func (pebbleLogger) Fatalf(format string, args ...any) {
	e := &pebbleFatalError{msg: fmt.Sprintf(format, args...)}
	for _, a := range args {
		if err, ok := a.(error); ok {
			e.err = err
			break
		}
	}
	panic(e)
}

// pebbleFS is the filesystem Pebble runs on: the node's disk without file locks.
// A backend owns its directory, and a database abandoned after a fatal error
// keeps its lock forever (MemFS locks are names in a map, not files).
type pebbleFS struct{ vfs.FS }

// Lock does not lock.
func (pebbleFS) Lock(string) (io.Closer, error) { return pebbleNoLock{}, nil }

type pebbleNoLock struct{}

func (pebbleNoLock) Close() error { return nil }
