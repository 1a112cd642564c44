package prune

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
		`driftcheck_prune_bytes_reclaimed 123`,
		`driftcheck_prune_objects_deleted{kind="image"} 1`,
		`driftcheck_prune_disk_used_percent{resource="bytes",phase="before"} 83.1`,
		`driftcheck_prune_last_run_timestamp_seconds 1795`,
	} {
		if !strings.Contains(string(data), line) {
			t.Errorf("metrics lack %q:\n%s", line, data)
		}
	}
}
