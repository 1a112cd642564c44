package prune

import (
	"fmt"
	"sort"
	"strings"
)

// WriteMetrics writes the report as a Prometheus text file for
// node_exporter's textfile collector, atomically (temporary file, rename),
// so the collector never reads half a file.
func WriteMetrics(path string, r *Report) error {
	return writeFileAtomic(path, []byte(FormatMetrics(r)))
}

// FormatMetrics renders the report in the Prometheus text format.
func FormatMetrics(r *Report) string {
	var b strings.Builder
	metric := func(name, help, typ string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	}
	outcomes := []string{OutcomePruned, OutcomeNothingToDo, OutcomeSkipped, OutcomeBlocked, OutcomeUnderPressure, OutcomeError}
	metric("driftcheck_prune_outcome", "Outcome of the last prune run (1 for the outcome it had).", "gauge")
	for _, o := range outcomes {
		fmt.Fprintf(&b, "driftcheck_prune_outcome{outcome=%q} %d\n", o, boolInt(r.Outcome == o))
	}
	metric("driftcheck_prune_gate_open", "Whether each gate was open in the last run's first evaluation.", "gauge")
	gates := append([]Gate(nil), r.Gates...)
	sort.SliceStable(gates, func(i, j int) bool { return gates[i].Name < gates[j].Name })
	for _, g := range gates {
		fmt.Fprintf(&b, "driftcheck_prune_gate_open{gate=%q} %d\n", g.Name, boolInt(g.Open))
	}
	metric("driftcheck_prune_bytes_reclaimed", "Bytes the deleted objects held, by the daemon's estimate.", "gauge")
	fmt.Fprintf(&b, "driftcheck_prune_bytes_reclaimed %d\n", r.BytesReclaimed)
	metric("driftcheck_prune_objects_deleted", "Objects deleted in the last run, by kind.", "gauge")
	for _, k := range []Kind{KindContainer, KindImage, KindBuildCache} {
		fmt.Fprintf(&b, "driftcheck_prune_objects_deleted{kind=%q} %d\n", k, countDeleted(r.Actions, k))
	}
	metric("driftcheck_prune_disk_used_percent", "Usage of the Docker root's filesystem before and after the run.", "gauge")
	fmt.Fprintf(&b, "driftcheck_prune_disk_used_percent{resource=\"bytes\",phase=\"before\"} %g\n", r.Disk.BeforePct)
	fmt.Fprintf(&b, "driftcheck_prune_disk_used_percent{resource=\"bytes\",phase=\"after\"} %g\n", r.Disk.AfterPct)
	fmt.Fprintf(&b, "driftcheck_prune_disk_used_percent{resource=\"inodes\",phase=\"before\"} %g\n", r.Disk.InodesBeforePct)
	fmt.Fprintf(&b, "driftcheck_prune_disk_used_percent{resource=\"inodes\",phase=\"after\"} %g\n", r.Disk.InodesAfterPct)
	metric("driftcheck_prune_dry_run", "Whether the last run was a dry run.", "gauge")
	fmt.Fprintf(&b, "driftcheck_prune_dry_run %d\n", boolInt(r.DryRun))
	metric("driftcheck_prune_last_run_timestamp_seconds", "When the last prune run started.", "gauge")
	fmt.Fprintf(&b, "driftcheck_prune_last_run_timestamp_seconds %d\n", r.StartedAt.Unix())
	return b.String()
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

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
