package prune

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/driftcheck/driftcheck/internal/textfile"
)

// Metric names the prune writes (docs/operations.md lists them and the
// names they replaced).
const (
	MetricOutcome     = "driftcheck_prune_outcome"
	MetricGateOpen    = "driftcheck_prune_gate_open"
	MetricReclaimed   = "driftcheck_prune_reclaimed_bytes"
	MetricDeleted     = "driftcheck_prune_deleted_objects"
	MetricDiskUsed    = "driftcheck_prune_disk_used_ratio"
	MetricDryRun      = "driftcheck_prune_dry_run"
	MetricLastRun     = "driftcheck_prune_last_run_timestamp_seconds"
	MetricLastSuccess = "driftcheck_prune_last_success_timestamp_seconds"
	MetricDuration    = "driftcheck_prune_duration_seconds"
)

// Every gate the prune evaluates; a gate a run never reached is written as
// closed (0), so each series exists after every run.
var allGates = []string{GateDrift, GateLock, GatePressure, GateBusy, GateConverging}

// WriteMetrics writes the report as a Prometheus text file for
// node_exporter's textfile collector, atomically (textfile.Write). The last
// success time is carried over from the previous file when this run did not
// succeed. The file's directory must exist.
func WriteMetrics(path string, r *Report) error {
	// An unreadable old file must not stop the new one from being
	// written: the last success is then unknown (0).
	prev, _, _ := textfile.Gauge(path, MetricLastSuccess)
	return textfile.Write(path, MetricsRegistry(r, prev))
}

// MetricsRegistry holds the report's metrics as gauges. prevSuccess is the
// last successful run's start (Unix seconds) before this one, 0 if none.
func MetricsRegistry(r *Report, prevSuccess float64) *prometheus.Registry {
	reg := textfile.NewGauges()
	gauge, vec := reg.Gauge, reg.Vec

	outcome := vec(MetricOutcome, "Outcome of the last prune run: 1 for the outcome it had, 0 for the others.", "outcome")
	for _, o := range []string{OutcomePruned, OutcomeNothingToDo, OutcomeSkipped, OutcomeBlocked, OutcomeUnderPressure, OutcomeError} {
		outcome.WithLabelValues(o).Set(boolFloat(r.Outcome == o))
	}
	gates := vec(MetricGateOpen, "Whether each gate was open at the last run's first evaluation (0 when not reached).", "gate")
	for _, name := range allGates {
		gates.WithLabelValues(name).Set(0)
	}
	for _, g := range r.Gates {
		gates.WithLabelValues(g.Name).Set(boolFloat(g.Open))
	}
	gauge(MetricReclaimed, "Bytes the objects deleted in the last run held, by the daemon's estimate.").Set(float64(r.BytesReclaimed))
	deleted := vec(MetricDeleted, "Objects deleted in the last run, by kind.", "kind")
	for _, k := range []Kind{KindContainer, KindImage, KindBuildCache} {
		deleted.WithLabelValues(string(k)).Set(float64(countDeleted(r.Actions, k)))
	}
	disk := vec(MetricDiskUsed, "Used fraction (0-1) of the Docker root's file system before and after the last run.", "resource", "phase")
	disk.WithLabelValues("bytes", "before").Set(r.Disk.BeforePct / 100)
	disk.WithLabelValues("bytes", "after").Set(r.Disk.AfterPct / 100)
	disk.WithLabelValues("inodes", "before").Set(r.Disk.InodesBeforePct / 100)
	disk.WithLabelValues("inodes", "after").Set(r.Disk.InodesAfterPct / 100)
	gauge(MetricDryRun, "Whether the last run was a dry run.").Set(boolFloat(r.DryRun))
	started := float64(r.StartedAt.UnixNano()) / 1e9
	gauge(MetricLastRun, "When the last prune run started (Unix seconds).").Set(started)
	success := prevSuccess
	if r.ExitCode() == ExitOK {
		success = started
	}
	gauge(MetricLastSuccess, "When the last run that exited 0 (pruned, nothing to do, skipped) started (Unix seconds); 0 if none is known.").Set(success)
	gauge(MetricDuration, "How long the last prune run took.").Set(r.DurationSeconds)
	return reg.Registry
}

func countDeleted(actions []Action, k Kind) int {
	n := 0
	for _, a := range actions {
		if a.Kind == k && a.Result == ResultDeleted {
			n++
		}
	}
	return n
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
