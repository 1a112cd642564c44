// Package checkmetrics turns one `driftcheck check` into Prometheus
// metrics for node_exporter's textfile collector (docs/operations.md lists
// them), so that a fleet's verdicts reach Prometheus and Alertmanager.
package checkmetrics

import (
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/driftcheck/driftcheck/internal/drift"
	"github.com/driftcheck/driftcheck/internal/textfile"
	"github.com/driftcheck/driftcheck/internal/unitdiff"
)

// Metric names.
const (
	MetricVerdict       = "driftcheck_check_verdict"
	MetricFindings      = "driftcheck_findings"
	MetricLastRun       = "driftcheck_check_last_run_timestamp_seconds"
	MetricLastSuccess   = "driftcheck_check_last_success_timestamp_seconds"
	MetricDuration      = "driftcheck_check_duration_seconds"
	MetricRevisionInfo  = "driftcheck_revision_info"
	MetricToplevelMatch = "driftcheck_toplevel_match"
)

// VerdictError is the verdict label of a check that could not run (exit 2).
const VerdictError = "error"

// Verdicts are every value of the verdict label; each is written, 1 for the
// current one.
var Verdicts = []string{unitdiff.VerdictInSync, unitdiff.VerdictDrift, unitdiff.VerdictIncomplete, VerdictError}

// kinds and severities are written for every combination, 0 when absent,
// so that a finding appearing is a value change, not a new series.
var (
	kinds = []unitdiff.Kind{unitdiff.KindMissing, unitdiff.KindUndeclared, unitdiff.KindRenamed, unitdiff.KindStale,
		unitdiff.KindMismatch, unitdiff.KindUnresolved, unitdiff.KindDirty, unitdiff.KindSourceDiffers, unitdiff.KindRevision,
		unitdiff.KindToplevel}
	severities = []unitdiff.Severity{unitdiff.SeverityDrift, unitdiff.SeverityIncomplete, unitdiff.SeverityWarning}
)

// Run is one check as the metrics describe it.
type Run struct {
	Report   *drift.Report // nil when the check could not run (verdict "error")
	Host     string        // the host checked: the revision_info label
	Started  time.Time
	Duration time.Duration
}

// toplevelMatch says whether the host runs the system toplevel the
// revision evaluates to; ok is false unless the check evaluated the
// revision with Nix and read the host's current system (docs/eval.md), and
// driftcheck_toplevel_match is then not written.
func (r Run) toplevelMatch() (match, ok bool) {
	if r.Report == nil || r.Report.Toplevel == nil {
		return false, false
	}
	t := r.Report.Toplevel
	if t.Revision == "" || t.Host == "" {
		return false, false
	}
	return t.Match, true
}

// Verdict is the run's verdict label.
func (r Run) Verdict() string {
	if r.Report == nil {
		return VerdictError
	}
	return r.Report.Verdict
}

// Write writes the run's metrics to path atomically. The last success time
// is carried over from the previous file when this run could not check.
func Write(path string, run Run) error {
	// An unreadable old file must not stop the new one from being written:
	// the last success is then unknown (0).
	prev, _, _ := textfile.Gauge(path, MetricLastSuccess)
	return textfile.Write(path, Registry(run, prev))
}

// Registry holds the run's metrics as gauges. prevSuccess is the last
// successful check's start (Unix seconds) before this run, 0 if none.
// A check succeeds when it reaches a verdict (exit 0, 1 or 3): drift is a
// successful check that found drift.
func Registry(run Run, prevSuccess float64) *prometheus.Registry {
	reg := textfile.NewGauges()
	gauge, vec := reg.Gauge, reg.Vec

	verdict := vec(MetricVerdict, "Verdict of the last check: 1 for the current one, 0 for the others.", "verdict")
	for _, v := range Verdicts {
		verdict.WithLabelValues(v).Set(boolFloat(run.Verdict() == v))
	}
	findings := vec(MetricFindings, "Findings of the last check by kind and severity (docs/findings.md).", "kind", "severity")
	for _, k := range kinds {
		for _, s := range severities {
			findings.WithLabelValues(string(k), string(s)).Set(0)
		}
	}
	if run.Report != nil {
		for _, f := range run.Report.Findings {
			findings.WithLabelValues(string(f.Kind), string(f.Severity)).Inc()
		}
	}
	started := float64(run.Started.UnixNano()) / 1e9
	gauge(MetricLastRun, "When the last check started (Unix seconds).").Set(started)
	success := prevSuccess
	if run.Report != nil {
		success = started
	}
	gauge(MetricLastSuccess, "When the last check that reached a verdict (exit 0, 1 or 3) started (Unix seconds); 0 if none is known.").Set(success)
	gauge(MetricDuration, "How long the last check took.").Set(run.Duration.Seconds())
	if run.Report != nil {
		info := vec(MetricRevisionInfo, "The revision the last check compared the host with (always 1).", "rev", "host")
		// client_golang escapes \\, " and newlines as the exposition format
		// requires, but refuses bytes that are not UTF-8: those become U+FFFD.
		info.WithLabelValues(strings.ToValidUTF8(run.Report.Rev, "\uFFFD"), strings.ToValidUTF8(run.Host, "\uFFFD")).Set(1)
	}
	if match, ok := run.toplevelMatch(); ok {
		gauge(MetricToplevelMatch, "Whether the host runs the system toplevel the revision evaluates to (checks with --declared eval or both).").Set(boolFloat(match))
	}
	return reg.Registry
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
