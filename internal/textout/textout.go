// Package textout holds what every text report shares: a writer that keeps
// the first write error, so that rendering stays a straight line of prints
// and checks once at the end.
package textout

import (
	"fmt"
	"io"
)

// Writer writes to W until a write fails; then every further write is
// skipped and Err returns the first error.
type Writer struct {
	W   io.Writer
	err error
}

// New returns a Writer on w.
func New(w io.Writer) *Writer { return &Writer{W: w} }

// Write implements io.Writer (for fmt.Fprintf and tabwriter).
func (e *Writer) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.W.Write(p)
	e.err = err
	return n, err
}

// Printf is fmt.Fprintf on the writer.
func (e *Writer) Printf(format string, args ...any) {
	fmt.Fprintf(e, format, args...)
}

// Err is the first write error, or nil.
func (e *Writer) Err() error { return e.err }
