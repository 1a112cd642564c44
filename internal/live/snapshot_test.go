package live

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const snapshotHead = `{"schema":"driftcheck.snapshot/v1","taken_at":"2026-11-23T09:00:00Z","units":`

// TestReadSnapshotLoadState: a unit whose load state is missing, empty or
// not one systemd reports, or with a string longer than MaxUnitString, is a
// read error for that unit (the check of the file is incomplete); it never
// counts as present. Overlong error messages are cut.
func TestReadSnapshotLoadState(t *testing.T) {
	t.Parallel()
	in := snapshotHead + `[
		{"name":"absent.service","active":"active","file_state":"enabled"},
		{"name":"empty.service","load":"","active":"active","file_state":"enabled"},
		{"name":"odd.service","load":"Loaded","active":"active","file_state":"enabled"},
		{"name":"fine.service","load":"loaded","active":"active","file_state":"enabled"},
		{"name":"stub.service","load":"stub","active":"inactive","file_state":""},
		{"name":"gone.service","load":"not-found","active":"inactive","file_state":""},
		{"name":"long.service","load":"loaded","active":"active","file_state":"enabled","description":"` + strings.Repeat("d", MaxUnitString+1) + `"}
	],"errors":[{"unit":"other.service","message":"timeout"},{"unit":"chatty.service","message":"` + strings.Repeat("m", 1<<20) + `"}]}`
	snap, err := ReadSnapshot(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"fine.service", "stub.service", "gone.service"}, unitNames(snap)); diff != "" {
		t.Errorf("units kept (-want +got):\n%s", diff)
	}
	want := []ReadError{
		{Unit: "other.service", Message: "timeout"},
		{Unit: "chatty.service", Message: strings.Repeat("m", MaxUnitString) + "…"},
		{Unit: "absent.service", Message: "snapshot: no load state"},
		{Unit: "empty.service", Message: "snapshot: no load state"},
		{Unit: "odd.service", Message: `snapshot: unknown load state "Loaded"`},
		{Unit: "long.service", Message: "snapshot: description is 8193 bytes, more than 8192"},
	}
	if diff := cmp.Diff(want, snap.Errors); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

// TestReadSnapshotRejects: files that do not say one thing about each unit
// are refused whole, with a one-line error that repeats no unbounded value.
func TestReadSnapshotRejects(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("z", 1<<20)
	one := snapshotHead + `[{"name":"a.service","load":"loaded","active":"active","file_state":"enabled"}]}`
	tests := []struct {
		name, in, want string
	}{
		{"unit listed twice", snapshotHead + `[
			{"name":"a.service","load":"loaded","active":"active","file_state":"enabled"},
			{"name":"a.service","load":"not-found","active":"inactive","file_state":""}]}`,
			`lists unit "a.service" more than once`},
		{"second document", one + "\n" + one, "data after the snapshot document"},
		{"trailing garbage", one + " x", "data after the snapshot document"},
		{"trailing bracket", one + "]", "data after the snapshot document"},
		{"long schema", `{"schema":"` + long + `","units":[]}`, "snapshot schema is"},
		{"long unknown field", `{"schema":"driftcheck.snapshot/v1","` + long + `":1}`, "unknown field"},
		{"long name", snapshotHead + `[{"name":"` + long + `","load":"loaded"},{"name":"` + long + `","load":"loaded"}]}`,
			"longer than 255 bytes"},
		{"long name in errors", snapshotHead + `[],"errors":[{"unit":"` + long + `","message":"x"}]}`, "longer than 255 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap, err := ReadSnapshot(strings.NewReader(tt.in))
			if err == nil {
				t.Fatalf("accepted: %d units, %d errors", len(snap.Units), len(snap.Errors))
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want %q", err, tt.want)
			}
			if len(err.Error()) > 300 || strings.Contains(err.Error(), "\n") {
				t.Errorf("error is %d bytes or several lines; want one bounded line", len(err.Error()))
			}
		})
	}
	t.Run("trailing white space is fine", func(t *testing.T) {
		if _, err := ReadSnapshot(strings.NewReader(one + "\n\n  \t\n")); err != nil {
			t.Error(err)
		}
	})
}

// TestReadSnapshotSizeLimit: a snapshot larger than MaxSnapshotBytes is
// refused, from a file (before reading it) and from a stream (after
// reading no more than the limit and one byte).
func TestReadSnapshotSizeLimit(t *testing.T) {
	t.Parallel()
	// Valid documents padded with white space up to a given size.
	const doc = snapshotHead + `[{"name":"a.service","load":"loaded","active":"active","file_state":"enabled"}]`
	padded := func(size int) io.Reader {
		return io.MultiReader(strings.NewReader(doc), io.LimitReader(repeatReader(' '), int64(size-len(doc)-1)), strings.NewReader("}"))
	}
	t.Run("stream", func(t *testing.T) {
		r := &countingReader{r: padded(MaxSnapshotBytes + 1)}
		_, err := ReadSnapshot(r)
		if !errors.Is(err, errSnapshotTooLarge) || !strings.Contains(err.Error(), "64 MiB") {
			t.Fatalf("error %v, want the size limit", err)
		}
		if r.n > MaxSnapshotBytes+1 {
			t.Errorf("read %d bytes, want at most the limit and one", r.n)
		}
	})
	t.Run("exactly the limit is read", func(t *testing.T) {
		r := &countingReader{r: padded(MaxSnapshotBytes)}
		snap, err := ReadSnapshot(r)
		if err != nil || len(snap.Units) != 1 || r.n != MaxSnapshotBytes {
			t.Fatalf("%v after %d bytes, want the unit read", err, r.n)
		}
	})
	t.Run("file", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "big.json")
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := f.Truncate(200 << 20); err != nil { // sparse: costs no disk
			t.Fatal(err)
		}
		if _, err := ReadSnapshot(f); !errors.Is(err, errSnapshotTooLarge) {
			t.Fatalf("error %v, want the size limit", err)
		}
		if off, _ := f.Seek(0, io.SeekCurrent); off != 0 {
			t.Errorf("read %d bytes of a file over the limit, want none", off)
		}
	})
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

type repeatReader byte

func (b repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

func TestQuoteExcerpt(t *testing.T) {
	tests := []struct{ in, want string }{
		{"short", `"short"`},
		{strings.Repeat("a", maxEcho), `"` + strings.Repeat("a", maxEcho) + `"`},
		{strings.Repeat("a", maxEcho+1), `"` + strings.Repeat("a", maxEcho) + `"… (65 bytes)`},
		// A multi-byte rune across the cut is dropped whole, not split.
		{strings.Repeat("a", maxEcho-1) + "é" + "b", `"` + strings.Repeat("a", maxEcho-1) + `"… (66 bytes)`},
	}
	for _, tt := range tests {
		if got := quoteExcerpt(tt.in); got != tt.want {
			t.Errorf("quoteExcerpt(%d bytes) = %s, want %s", len(tt.in), got, tt.want)
		}
	}
}

// TestSnapshotAdd: a later read of other names joins the snapshot in name
// order; a name the snapshot already holds (a unit or a read error) is
// kept as first read, so no unit is listed twice.
func TestSnapshotAdd(t *testing.T) {
	s := &Snapshot{
		Units:  []Unit{{Name: "b.service", LoadState: "loaded"}, {Name: "d.service", LoadState: "loaded"}},
		Errors: []ReadError{{Unit: "c.service", Message: "first"}},
	}
	if diff := cmp.Diff([]string{"a.service", "e.service"}, s.Unread([]string{"a.service", "b.service", "c.service", "e.service"})); diff != "" {
		t.Errorf("Unread (-want +got):\n%s", diff)
	}
	s.Add(&Snapshot{
		Units: []Unit{{Name: "a.service", LoadState: "not-found"}, {Name: "b.service", LoadState: "masked"},
			{Name: "c.service", LoadState: "loaded"}},
		Errors: []ReadError{{Unit: "e.service", Message: "later"}, {Message: "a listing failed"}},
	})
	want := &Snapshot{
		Units: []Unit{{Name: "a.service", LoadState: "not-found"}, {Name: "b.service", LoadState: "loaded"},
			{Name: "d.service", LoadState: "loaded"}},
		Errors: []ReadError{{Message: "a listing failed"}, {Unit: "c.service", Message: "first"}, {Unit: "e.service", Message: "later"}},
	}
	if diff := cmp.Diff(want, s); diff != "" {
		t.Errorf("after Add (-want +got):\n%s", diff)
	}
}
