package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftcheck/driftcheck/internal/checkmetrics"
	"github.com/driftcheck/driftcheck/internal/textfile"
	"github.com/driftcheck/driftcheck/internal/textfile/textfiletest"
)

// check --metrics-file writes the verdict of every run, including one
// that could not run, and the file passes promtool check metrics.
func TestCheckMetricsFile(t *testing.T) {
	repo, revA, revB := checkIncidentRepo(t)
	snap := writeSnapshot(t, checkIncidentHost())
	metrics := filepath.Join(t.TempDir(), "driftcheck.prom")
	read := func() string {
		t.Helper()
		data, err := os.ReadFile(metrics)
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}

	code, _, stderr := runCheckCLI(t, "--repo", repo.Dir, "--rev", revA, "--live", snap, "--metrics-file", metrics)
	if code != exitFindings {
		t.Fatalf("revision A: exit %d (%s), want drift", code, stderr)
	}
	text := read()
	for _, line := range []string{`driftcheck_check_verdict{verdict="drift"} 1`, `driftcheck_findings{kind="renamed",severity="drift"} 2`,
		`rev="` + revA + `"`} {
		if !strings.Contains(text, line) {
			t.Errorf("revision A metrics lack %q:\n%s", line, text)
		}
	}
	textfiletest.PromtoolCheck(t, metrics)

	if code, _, stderr := runCheckCLI(t, "--repo", repo.Dir, "--rev", revB, "--live", snap, "--metrics-file", metrics); code != exitOK {
		t.Fatalf("revision B: exit %d (%s), want in sync", code, stderr)
	}
	if text := read(); !strings.Contains(text, `driftcheck_check_verdict{verdict="in-sync"} 1`) {
		t.Fatalf("revision B metrics:\n%s", text)
	}
	success, _, _ := textfile.Gauge(metrics, checkmetrics.MetricLastSuccess)

	// Could not run (not a repository): exit 2, verdict error, the last
	// success kept.
	if code, _, _ := runCheckCLI(t, "--repo", t.TempDir(), "--live", snap, "--metrics-file", metrics); code != exitCannotRun {
		t.Fatalf("not a repository: exit %d, want 2", code)
	}
	if text := read(); !strings.Contains(text, `driftcheck_check_verdict{verdict="error"} 1`) {
		t.Fatalf("metrics of a check that could not run:\n%s", text)
	}
	if kept, _, _ := textfile.Gauge(metrics, checkmetrics.MetricLastSuccess); kept != success || success == 0 {
		t.Fatalf("last success %v after a failed run, want %v kept", kept, success)
	}
}

// A metrics file in a missing directory is exit 2 with one line naming it,
// and no directory is created.
func TestCheckMetricsFileDirectoryMustExist(t *testing.T) {
	repo, _, revB := checkIncidentRepo(t)
	dir := filepath.Join(t.TempDir(), "missing")
	code, stdout, stderr := runCheckCLI(t, "--repo", repo.Dir, "--rev", revB, "--live", writeSnapshot(t, checkIncidentHost()),
		"--metrics-file", filepath.Join(dir, "driftcheck.prom"))
	if code != exitCannotRun || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, dir) || stdout != "" {
		t.Fatalf("exit %d stdout %q stderr %q; want exit 2, one line naming %s, no report", code, stdout, stderr, dir)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Fatalf("%s was created", dir)
	}
}
