package prune

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/driftcheck/driftcheck/internal/termsafe"
)

// ReportSchema identifies the prune report JSON format.
const ReportSchema = "driftcheck.prune/v1"

// Outcomes of a run.
const (
	OutcomePruned        = "pruned"
	OutcomeNothingToDo   = "nothing-to-do"
	OutcomeSkipped       = "skipped"
	OutcomeBlocked       = "blocked"
	OutcomeUnderPressure = "still-under-pressure"
	OutcomeError         = "error"
)

// Results of an action.
const (
	ResultDeleted = "deleted"
	ResultPlanned = "planned"
	ResultSkipped = "skipped"
	ResultFailed  = "failed"
)

// Exit codes of the prune command (docs/exit-codes.md).
const (
	ExitOK       = 0
	ExitBlocked  = 1
	ExitError    = 2
	ExitPressure = 4
)

// Report is the record of one run; its JSON form is --format json.
type Report struct {
	Schema          string       `json:"schema"`
	DryRun          bool         `json:"dry_run"`
	Outcome         string       `json:"outcome"`
	Reason          string       `json:"reason,omitempty"`
	Gates           []Gate       `json:"gates"`
	Rechecks        []StepCheck  `json:"rechecks,omitempty"`
	Actions         []Action     `json:"actions"`
	Protected       []Protection `json:"protected,omitempty"`
	Disk            DiskReport   `json:"disk"`
	Store           Store        `json:"store,omitempty"`
	StoreNote       string       `json:"store_note,omitempty"`
	APIVersion      string       `json:"api_version,omitempty"`
	BytesReclaimed  int64        `json:"bytes_reclaimed"`
	ObjectsDeleted  int          `json:"objects_deleted"`
	Warnings        []string     `json:"warnings,omitempty"`
	Error           string       `json:"error,omitempty"`
	StartedAt       time.Time    `json:"started_at"`
	DurationSeconds float64      `json:"duration_seconds"`
}

// StepCheck is the gate re-check right before a destructive step.
type StepCheck struct {
	Before string `json:"before"`
	Gates  []Gate `json:"gates"`
}

// Action is one planned or executed deletion.
type Action struct {
	Kind   Kind   `json:"kind"`
	ID     string `json:"id"`
	Ref    string `json:"ref"`
	Bytes  int64  `json:"bytes"`
	Result string `json:"result"`
	Reason string `json:"reason"`
}

// DiskReport is the usage of the Docker root's filesystem around the run.
type DiskReport struct {
	Path            string  `json:"path"`
	BeforePct       float64 `json:"before_pct"`
	AfterPct        float64 `json:"after_pct"`
	InodesBeforePct float64 `json:"inodes_before_pct"`
	InodesAfterPct  float64 `json:"inodes_after_pct"`
}

func actionOf(c Candidate, result, reason string) Action {
	return Action{Kind: c.Kind, ID: c.ID, Ref: c.Ref, Bytes: c.Bytes, Result: result, Reason: reason}
}

// ExitCode maps the outcome to the prune command's exit code.
func (r *Report) ExitCode() int {
	switch {
	case r.Error != "":
		return ExitError
	case r.Outcome == OutcomeBlocked:
		return ExitBlocked
	case r.Outcome == OutcomeUnderPressure:
		return ExitPressure
	default:
		return ExitOK
	}
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := termsafe.NewJSONEncoder(w)
	enc.SetIndent("", "  ")
	if r.Actions == nil {
		r.Actions = []Action{} // "actions": [] rather than null
	}
	return enc.Encode(r)
}

// WriteText writes the report for a terminal. Every name the daemon or the
// repository supplied goes through termsafe.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	mode := ""
	if r.DryRun {
		mode = " (dry run: nothing deleted)"
	}
	fmt.Fprintf(&b, "prune: %s%s\n", r.Outcome, mode)
	if r.Reason != "" {
		fmt.Fprintf(&b, "  %s\n", safe(r.Reason))
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(&b, "WARNING: %s\n", safe(warn))
	}
	if r.Error != "" {
		fmt.Fprintf(&b, "error: %s\n", safe(r.Error))
	}
	b.WriteString("gates:\n")
	writeGates(&b, r.Gates, "  ")
	for _, c := range r.Rechecks {
		fmt.Fprintf(&b, "re-checked before %s:\n", c.Before)
		writeGates(&b, c.Gates, "  ")
	}
	if r.Store != "" {
		fmt.Fprintf(&b, "store: %s (API %s)\n  %s\n", r.Store, safe(r.APIVersion), r.StoreNote)
	}
	if r.Disk.Path != "" {
		fmt.Fprintf(&b, "disk %s: bytes %.1f%% -> %.1f%%, inodes %.1f%% -> %.1f%%\n", safe(r.Disk.Path),
			r.Disk.BeforePct, r.Disk.AfterPct, r.Disk.InodesBeforePct, r.Disk.InodesAfterPct)
	}
	if len(r.Actions) > 0 {
		b.WriteString("actions:\n")
	}
	for _, a := range r.Actions {
		ref := ""
		if a.Ref != "" {
			ref = " " + safe(a.Ref)
		}
		fmt.Fprintf(&b, "  %-8s %-11s %s%s (%d bytes): %s\n", a.Result, a.Kind, safe(a.ID), ref, a.Bytes, safe(a.Reason))
	}
	if r.DryRun {
		fmt.Fprintf(&b, "kept %d objects; would delete %d\n", len(r.Protected), len(r.Actions))
	} else {
		fmt.Fprintf(&b, "kept %d objects; deleted %d objects, %d bytes by the daemon's estimate\n",
			len(r.Protected), r.ObjectsDeleted, r.BytesReclaimed)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeGates(b *strings.Builder, gates []Gate, indent string) {
	for _, g := range gates {
		verdict := "open"
		if !g.Open {
			verdict = "CLOSED"
		}
		fmt.Fprintf(b, "%s%-18s %-6s %s\n", indent, g.Name, verdict, safe(g.Reason))
	}
}

func safe(s string) string { return termsafe.String(s) }
