package textout

import (
	"errors"
	"strings"
	"testing"
)

type failAfter struct {
	n   int
	buf strings.Builder
}

func (f *failAfter) Write(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("disk full")
	}
	f.n--
	return f.buf.Write(p)
}

func TestWriterKeepsTheFirstError(t *testing.T) {
	dst := &failAfter{n: 1}
	w := New(dst)
	w.Printf("a%d\n", 1)
	w.Printf("b\n")
	w.Printf("c\n")
	if err := w.Err(); err == nil || err.Error() != "disk full" {
		t.Fatalf("Err = %v, want the first write error", err)
	}
	if dst.buf.String() != "a1\n" {
		t.Errorf("written %q, want only what came before the failure", dst.buf.String())
	}
}
