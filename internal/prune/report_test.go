package prune

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftcheck/driftcheck/internal/textfile"
	"github.com/driftcheck/driftcheck/internal/textfile/textfiletest"
)

func sampleReport() *Report {
	return &Report{
		Schema: ReportSchema, Outcome: OutcomePruned, StartedAt: now,
		Gates:   []Gate{{Name: GateDrift, Open: true, Reason: "in sync"}, {Name: GatePressure, Open: true, Reason: "bytes 83%"}},
		Actions: []Action{{Kind: KindImage, ID: "sha256:aa", Ref: "evil\x1b[31mname", Bytes: 123, Result: ResultDeleted, Reason: "untagged"}},
		Disk:    DiskReport{Path: "/var/lib/docker", BeforePct: 83.1, AfterPct: 71, InodesBeforePct: 12, InodesAfterPct: 11},
		Store:   StoreGraphdriver, APIVersion: "1.41", BytesReclaimed: 123, ObjectsDeleted: 1,
	}
}

func TestReportJSONSchema(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleReport().WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"schema", "dry_run", "outcome", "gates", "actions", "disk", "store", "api_version", "bytes_reclaimed"} {
		if _, ok := got[key]; !ok {
			t.Errorf("JSON lacks %q: %s", key, buf.String())
		}
	}
	disk := got["disk"].(map[string]any)
	for _, key := range []string{"path", "before_pct", "after_pct", "inodes_before_pct", "inodes_after_pct"} {
		if _, ok := disk[key]; !ok {
			t.Errorf("disk lacks %q", key)
		}
	}
	a := got["actions"].([]any)[0].(map[string]any)
	for _, key := range []string{"kind", "id", "ref", "bytes", "result", "reason"} {
		if _, ok := a[key]; !ok {
			t.Errorf("action lacks %q", key)
		}
	}
}

func TestReportTextIsTerminalSafe(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleReport().WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsRune(buf.String(), 0x1b) {
		t.Fatalf("raw escape in text output: %q", buf.String())
	}
	if !strings.Contains(buf.String(), "sha256:aa") {
		t.Fatalf("text output lacks the action: %s", buf.String())
	}
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		outcome, err string
		want         int
	}{
		{OutcomePruned, "", 0}, {OutcomeNothingToDo, "", 0}, {OutcomeSkipped, "", 0},
		{OutcomeBlocked, "", 1}, {OutcomeUnderPressure, "", 4}, {OutcomeError, "daemon gone", 2}, {OutcomeBlocked, "drift check failed", 2},
	}
	for _, tt := range tests {
		if got := (&Report{Outcome: tt.outcome, Error: tt.err}).ExitCode(); got != tt.want {
			t.Errorf("%s/%q: exit %d, want %d", tt.outcome, tt.err, got, tt.want)
		}
	}
}

func TestMetricsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "driftcheck_prune.prom")
	if err := WriteMetrics(path, sampleReport()); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		`driftcheck_prune_outcome{outcome="pruned"} 1`,
		`driftcheck_prune_outcome{outcome="blocked"} 0`,
		`driftcheck_prune_gate_open{gate="drift"} 1`,
		`driftcheck_prune_gate_open{gate="lock"} 0`, // not in the report: written as closed
		`driftcheck_prune_reclaimed_bytes 123`,
		`driftcheck_prune_deleted_objects{kind="image"} 1`,
		`driftcheck_prune_disk_used_ratio{phase="before",resource="bytes"} 0.831`,
		`driftcheck_prune_last_run_timestamp_seconds 1.7954352e+09`,
		`driftcheck_prune_last_success_timestamp_seconds 1.7954352e+09`,
	} {
		if !strings.Contains(string(data), line+"\n") {
			t.Errorf("metrics lack %q:\n%s", line, data)
		}
	}
	for _, old := range []string{"driftcheck_prune_bytes_reclaimed", "driftcheck_prune_objects_deleted", "driftcheck_prune_disk_used_percent"} {
		if strings.Contains(string(data), old) {
			t.Errorf("metrics still use the old name %s", old)
		}
	}
	textfiletest.PromtoolCheck(t, path)
}

// A failed run keeps the previous success time: "prune failing" and
// "prune stopped running" alerts need it across failures.
func TestMetricsKeepLastSuccess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "driftcheck_prune.prom")
	ok := sampleReport()
	if err := WriteMetrics(path, ok); err != nil {
		t.Fatal(err)
	}
	failed := sampleReport()
	failed.Outcome, failed.Error = OutcomeError, "docker daemon unreachable"
	failed.StartedAt = ok.StartedAt.Add(24 * time.Hour)
	if err := WriteMetrics(path, failed); err != nil {
		t.Fatal(err)
	}
	success, found, err := textfile.Gauge(path, MetricLastSuccess)
	if err != nil || !found || success != float64(ok.StartedAt.Unix()) {
		t.Fatalf("last success %v (found %v, err %v), want the first run's %d", success, found, err, ok.StartedAt.Unix())
	}
	run, _, _ := textfile.Gauge(path, MetricLastRun)
	if run != float64(failed.StartedAt.Unix()) {
		t.Fatalf("last run %v, want the failed run's %d", run, failed.StartedAt.Unix())
	}
}
