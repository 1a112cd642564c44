// Package unitdiff compares the systemd units a revision declares with the
// units a host runs and explains every difference as a finding. It is pure:
// callers gather the facts (declared units, a live snapshot, history,
// hygiene checks) and unitdiff only reasons about them.
package unitdiff

import (
	"encoding/json"
	"strings"
)

// Kind names what a finding is about. The set is closed; docs/findings.md
// describes each kind with an example and its fix.
type Kind string

const (
	// KindMissing: declared and enabled at the revision, absent (or masked) on the host.
	KindMissing Kind = "missing"
	// KindUndeclared: a live unit in scope that the revision does not declare.
	KindUndeclared Kind = "undeclared"
	// KindRenamed: a missing declared unit paired with a similar live undeclared unit.
	KindRenamed Kind = "renamed"
	// KindStale: a live unit an earlier revision declared and the revision no longer does.
	KindStale Kind = "stale"
	// KindMismatch: declared and live, but different (calendar, enablement, load error, reload pending).
	KindMismatch Kind = "mismatch"
	// KindUnresolved: something could not be read or compared; the check is incomplete.
	KindUnresolved Kind = "unresolved"
	// KindDirty: module files differ between the work tree and the revision.
	KindDirty Kind = "dirty"
	// KindSourceDiffers: the copy the host was built from differs from the revision.
	KindSourceDiffers Kind = "source-differs"
	// KindRevision: the host's configurationRevision is not the revision.
	KindRevision Kind = "revision"
	// KindToplevel: the host's system (/run/current-system) is not the
	// store path the revision builds, or the revision's did not evaluate.
	KindToplevel Kind = "toplevel"
)

// Severity says how a finding affects the verdict.
type Severity string

const (
	// SeverityDrift findings make the verdict "drift".
	SeverityDrift Severity = "drift"
	// SeverityIncomplete findings make the verdict "incomplete" unless there is drift.
	SeverityIncomplete Severity = "incomplete"
	// SeverityWarning findings (hygiene) count as drift only in strict mode.
	SeverityWarning Severity = "warning"
)

// HostState is how systemd reported the unit; empty when the host has no
// such unit or the finding is not about a live unit.
type HostState struct {
	Load      string `json:"load"`
	Active    string `json:"active"`
	FileState string `json:"file_state"`
}

// String is the one-line form findings print: "load loaded, active
// inactive, file linked"; an unknown state is "-", an unknown file state is
// left out.
func (h HostState) String() string {
	parts := []string{"load " + orDash(h.Load), "active " + orDash(h.Active)}
	if h.FileState != "" {
		parts = append(parts, "file "+h.FileState)
	}
	return strings.Join(parts, ", ")
}

// Finding is one difference between the revision and the host.
type Finding struct {
	Kind       Kind      `json:"kind"`
	Unit       string    `json:"unit"`        // the declared unit, or the live one when nothing is declared
	LiveUnit   string    `json:"live_unit"`   // the live counterpart when its name differs (renamed)
	DeclaredAt string    `json:"declared_at"` // "file:line" at the revision (stale: at the commit that last declared it)
	Host       HostState `json:"host"`
	Detail     string    `json:"detail"`
	Fix        string    `json:"fix"`
	Severity   Severity  `json:"severity"`
	// Property and HostValue are set on a mismatch of one declared
	// property (Description, OnCalendar, Persistent, Unit): its JSON name
	// and the host's value (a string, a bool, or a list of strings).
	Property  string          `json:"property,omitempty"`
	HostValue json.RawMessage `json:"host_value,omitempty"`
}

// Verdicts of a check.
const (
	VerdictInSync     = "in-sync"
	VerdictDrift      = "drift"
	VerdictIncomplete = "incomplete"
)

// Verdict sums findings up: drift if any finding is drift (hygiene warnings
// too when strict), else incomplete if anything could not be read or
// compared, else in-sync.
func Verdict(findings []Finding, strict bool) string {
	incomplete := false
	for _, f := range findings {
		switch EffectiveSeverity(f, strict) {
		case SeverityDrift:
			return VerdictDrift
		case SeverityIncomplete:
			incomplete = true
		}
	}
	if incomplete {
		return VerdictIncomplete
	}
	return VerdictInSync
}

// EffectiveSeverity is f's severity once strict mode has promoted hygiene
// warnings to drift.
func EffectiveSeverity(f Finding, strict bool) Severity {
	if strict && f.Severity == SeverityWarning {
		return SeverityDrift
	}
	return f.Severity
}
