// Package live reads the systemd units a host runs, over D-Bus, read-only.
package live

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
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
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// ReadSnapshot decodes a snapshot and checks its schema.
func ReadSnapshot(r io.Reader) (*Snapshot, error) {
	var s Snapshot
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("decode snapshot: %w", err)
	}
	if s.Schema != SnapshotSchema {
		return nil, fmt.Errorf("snapshot schema is %q, want %q", s.Schema, SnapshotSchema)
	}
	return &s, nil
}
