// Package live reads the systemd units a host runs, over D-Bus, read-only.
package live

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"
	"time"

	"github.com/driftcheck/driftcheck/internal/termsafe"
)

// SnapshotSchema identifies the snapshot JSON format.
const SnapshotSchema = "driftcheck.snapshot/v1"

// Snapshot is what was read from one host at one moment. It can be written
// to a file and compared later on another machine (check --live FILE).
type Snapshot struct {
	Schema         string      `json:"schema"`
	Host           string      `json:"host,omitempty"`
	TakenAt        time.Time   `json:"taken_at"`
	SystemdVersion string      `json:"systemd_version,omitempty"`
	Scope          []string    `json:"scope,omitempty"` // globs that were listed
	Units          []Unit      `json:"units"`
	Errors         []ReadError `json:"errors,omitempty"` // what could not be read: makes a check incomplete
}

// Unit is one unit as systemd reports it.
type Unit struct {
	Name             string `json:"name"`
	LoadState        string `json:"load"`                 // loaded, not-found, masked, bad-setting, error
	ActiveState      string `json:"active"`               // active, inactive, failed, activating, …
	SubState         string `json:"sub,omitempty"`        // running, waiting, dead, exited, …
	UnitFileState    string `json:"file_state"`           // fresh from disk: enabled, linked, disabled, masked, static, ""
	Preset           string `json:"preset,omitempty"`     // enabled, disabled, ignored
	FragmentPath     string `json:"fragment,omitempty"`   // search-path path of the unit file
	StorePath        string `json:"store_path,omitempty"` // what FragmentPath resolves to (one symlink level)
	NeedDaemonReload bool   `json:"need_daemon_reload,omitempty"`
	LoadError        string `json:"load_error,omitempty"`
	Description      string `json:"description,omitempty"`
	Timer            *Timer `json:"timer,omitempty"`
}

// Timer holds a timer's trigger settings as systemd normalizes them.
type Timer struct {
	Calendar   []string `json:"calendar,omitempty"` // e.g. "*-*-* 00:00:00" for "daily"
	Unit       string   `json:"unit,omitempty"`     // the unit it activates
	Persistent bool     `json:"persistent,omitempty"`
}

// ReadError records a unit (or a whole listing) that could not be read.
type ReadError struct {
	Unit    string `json:"unit,omitempty"`
	Message string `json:"message"`
}

// WriteJSON writes s as indented JSON.
func (s *Snapshot) WriteJSON(w io.Writer) error {
	enc := termsafe.NewJSONEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// MaxSnapshotBytes bounds a snapshot file. A real host's snapshot is
// kilobytes to a few megabytes (about 0.5 KB per unit); decoding costs
// about six times the file in memory, so a larger file is refused rather
// than read.
const MaxSnapshotBytes = 64 << 20

// ReadSnapshot decodes one snapshot document of at most MaxSnapshotBytes,
// checks its schema and its units: a unit listed twice, or data after the
// document, makes the file unusable (an error); a unit whose load state is
// missing or not one systemd reports is moved to Errors, so that a check
// of the file is incomplete rather than trusting a unit it cannot place.
func ReadSnapshot(r io.Reader) (*Snapshot, error) {
	if f, ok := r.(interface{ Stat() (fs.FileInfo, error) }); ok {
		if info, err := f.Stat(); err == nil && info.Mode().IsRegular() && info.Size() > MaxSnapshotBytes {
			return nil, errSnapshotTooLarge
		}
	}
	var s Snapshot
	dec := json.NewDecoder(&boundedReader{r: r, left: MaxSnapshotBytes})
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, decodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		if errors.Is(err, errSnapshotTooLarge) {
			return nil, err
		}
		return nil, errors.New("decode snapshot: data after the snapshot document (one JSON document per file)")
	}
	if s.Schema != SnapshotSchema {
		return nil, fmt.Errorf("snapshot schema is %s, want %q", quoteExcerpt(s.Schema), SnapshotSchema)
	}
	if err := s.checkUnits(); err != nil {
		return nil, err
	}
	return &s, nil
}

var errSnapshotTooLarge = fmt.Errorf("snapshot is larger than %d MiB", MaxSnapshotBytes>>20)

// decodeError bounds a decoding error's message: encoding/json repeats an
// unknown field's name whole.
func decodeError(err error) error {
	if errors.Is(err, errSnapshotTooLarge) {
		return err
	}
	msg := err.Error()
	if len(msg) > 4*maxEcho {
		msg = strings.ToValidUTF8(msg[:4*maxEcho], "") + "…"
	}
	return fmt.Errorf("decode snapshot: %s", msg)
}

// checkUnits rejects a unit listed twice (which entry would be the host's?)
// or named longer than systemd allows, turns a unit without a known load
// state or with an overlong string into a read error, and cuts overlong
// read error messages.
func (s *Snapshot) checkUnits() error {
	seen := make(map[string]bool, len(s.Units))
	kept := s.Units[:0]
	var unreadable []ReadError
	for _, u := range s.Units {
		if len(u.Name) > maxUnitName {
			return fmt.Errorf("snapshot lists a unit named %s, longer than %d bytes", quoteExcerpt(u.Name), maxUnitName)
		}
		if seen[u.Name] {
			return fmt.Errorf("snapshot lists unit %s more than once", quoteExcerpt(u.Name))
		}
		seen[u.Name] = true
		err := checkLoadState(u.LoadState)
		if err == nil {
			err = u.checkStrings()
		}
		if err != nil {
			unreadable = append(unreadable, ReadError{Unit: u.Name, Message: "snapshot: " + err.Error()})
			continue
		}
		kept = append(kept, u)
	}
	s.Units = kept
	for i, e := range s.Errors {
		if len(e.Unit) > maxUnitName {
			return fmt.Errorf("snapshot has an error about a unit named %s, longer than %d bytes", quoteExcerpt(e.Unit), maxUnitName)
		}
		if len(e.Message) > MaxUnitString {
			s.Errors[i].Message = strings.ToValidUTF8(e.Message[:MaxUnitString], "") + "…"
		}
	}
	s.Errors = append(s.Errors, unreadable...)
	return nil
}

// boundedReader reads at most left bytes, then fails with
// errSnapshotTooLarge instead of returning EOF.
type boundedReader struct {
	r    io.Reader
	left int64
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a file of exactly the limit from a longer one.
		var one [1]byte
		if n, err := b.r.Read(one[:]); n > 0 {
			return 0, errSnapshotTooLarge
		} else if err != nil {
			return 0, err
		}
		return 0, nil
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}

// Unread returns the names, in their order, that s holds neither a unit
// nor a read error for.
func (s *Snapshot) Unread(names []string) []string {
	seen := s.names()
	var out []string
	for _, n := range names {
		if !seen[n] {
			out = append(out, n)
		}
	}
	return out
}

// Add adds the units and errors of a later read of other names to s,
// keeping both lists in name order. A unit s already holds a unit or an
// error for is kept as s read it, so a snapshot never lists a unit twice.
func (s *Snapshot) Add(later *Snapshot) {
	seen := s.names()
	for _, u := range later.Units {
		if !seen[u.Name] {
			s.Units = append(s.Units, u)
		}
	}
	for _, e := range later.Errors {
		if e.Unit == "" || !seen[e.Unit] {
			s.Errors = append(s.Errors, e)
		}
	}
	sort.SliceStable(s.Units, func(i, j int) bool { return s.Units[i].Name < s.Units[j].Name })
	sort.SliceStable(s.Errors, func(i, j int) bool { return s.Errors[i].Unit < s.Errors[j].Unit })
}

// names is the set of units s holds a unit or a read error for.
func (s *Snapshot) names() map[string]bool {
	seen := make(map[string]bool, len(s.Units)+len(s.Errors))
	for _, u := range s.Units {
		seen[u.Name] = true
	}
	for _, e := range s.Errors {
		if e.Unit != "" {
			seen[e.Unit] = true
		}
	}
	return seen
}
