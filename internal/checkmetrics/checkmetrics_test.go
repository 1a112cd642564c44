package checkmetrics

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/driftcheck/driftcheck/internal/drift"
	"github.com/driftcheck/driftcheck/internal/textfile"
	"github.com/driftcheck/driftcheck/internal/textfile/textfiletest"
	"github.com/driftcheck/driftcheck/internal/unitdiff"
)

var started = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func driftRun() Run {
	return Run{
		Report: &drift.Report{Rev: "3f2c1e0", Verdict: unitdiff.VerdictDrift, Findings: []unitdiff.Finding{
			{Kind: unitdiff.KindRenamed, Unit: "docker-prune.service", Severity: unitdiff.SeverityDrift},
			{Kind: unitdiff.KindRenamed, Unit: "docker-prune.timer", Severity: unitdiff.SeverityDrift},
			{Kind: unitdiff.KindDirty, Severity: unitdiff.SeverityWarning},
		}},
		Host: "ci-1", Started: started, Duration: 1500 * time.Millisecond,
	}
}

func write(t *testing.T, run Run) (path, text string) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "driftcheck.prom")
	if err := Write(path, run); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, string(data)
}

func TestMetricsOfADriftedHost(t *testing.T) {
	path, text := write(t, driftRun())
	for _, line := range []string{
		`driftcheck_check_verdict{verdict="drift"} 1`,
		`driftcheck_check_verdict{verdict="in-sync"} 0`,
		`driftcheck_check_verdict{verdict="incomplete"} 0`,
		`driftcheck_check_verdict{verdict="error"} 0`,
		`driftcheck_findings{kind="renamed",severity="drift"} 2`,
		`driftcheck_findings{kind="dirty",severity="warning"} 1`,
		`driftcheck_findings{kind="missing",severity="drift"} 0`, // absent kinds are 0, not missing
		`driftcheck_findings{kind="revision",severity="warning"} 0`,
		`driftcheck_check_last_run_timestamp_seconds 1.7954244e+09`,
		`driftcheck_check_last_success_timestamp_seconds 1.7954244e+09`,
		`driftcheck_check_duration_seconds 1.5`,
		`driftcheck_revision_info{host="ci-1",rev="3f2c1e0"} 1`,
	} {
		if !strings.Contains(text, line+"\n") {
			t.Errorf("metrics lack %q:\n%s", line, text)
		}
	}
	if strings.Contains(text, MetricToplevelMatch) {
		t.Errorf("%s written without an evaluation", MetricToplevelMatch)
	}
	if n := strings.Count(text, "driftcheck_findings{"); n != len(kinds)*len(severities) {
		t.Errorf("%d findings series, want every kind x severity (%d)", n, len(kinds)*len(severities))
	}
	textfiletest.PromtoolCheck(t, path)
}

// A check that could not run is verdict "error", keeps the previous
// success time and says nothing about a revision.
func TestMetricsOfACheckThatCouldNotRun(t *testing.T) {
	path, _ := write(t, driftRun())
	failed := Run{Host: "ci-1", Started: started.Add(24 * time.Hour), Duration: time.Second}
	if err := Write(path, failed); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	text := string(data)
	if !strings.Contains(text, `driftcheck_check_verdict{verdict="error"} 1`+"\n") || strings.Contains(text, MetricRevisionInfo) {
		t.Fatalf("want verdict error and no revision_info:\n%s", text)
	}
	success, _, _ := textfile.Gauge(path, MetricLastSuccess)
	last, _, _ := textfile.Gauge(path, MetricLastRun)
	if success != float64(started.Unix()) || last != float64(started.Add(24*time.Hour).Unix()) {
		t.Fatalf("last success %v, last run %v: want the first run's start and the failed run's", success, last)
	}
	textfiletest.PromtoolCheck(t, path)
}

// Host names and revisions come from outside: quotes, backslashes,
// newlines, tabs and bytes that are not UTF-8 must leave a file that
// parses and carries the value (Go's %q would have written \t and \xff,
// which the exposition format does not know).
func TestLabelValuesAreEscaped(t *testing.T) {
	run := driftRun()
	run.Host = "evil\"host\\\n\tname\xff"
	run.Report.Rev = "rev\"\n"
	path, text := write(t, run)
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("file does not parse: %v\n%s", err, text)
	}
	labels := map[string]string{}
	for _, l := range families[MetricRevisionInfo].GetMetric()[0].GetLabel() {
		labels[l.GetName()] = l.GetValue()
	}
	if labels["host"] != "evil\"host\\\n\tname\uFFFD" || labels["rev"] != "rev\"\n" {
		t.Fatalf("labels read back %q", labels)
	}
	textfiletest.PromtoolCheck(t, path)
}

func TestToplevelMatchWhenEvaluated(t *testing.T) {
	run := driftRun()
	run.Report.Toplevel = &drift.Toplevel{Revision: "/nix/store/aaaa-nixos-system", Host: "/nix/store/bbbb-nixos-system"}
	_, text := write(t, run)
	if !strings.Contains(text, MetricToplevelMatch+" 0\n") {
		t.Fatalf("want %s 0:\n%s", MetricToplevelMatch, text)
	}
	run.Report.Toplevel = &drift.Toplevel{Revision: "/nix/store/aaaa-nixos-system", Host: "/nix/store/aaaa-nixos-system", Match: true}
	if _, text = write(t, run); !strings.Contains(text, MetricToplevelMatch+" 1\n") {
		t.Fatalf("want %s 1:\n%s", MetricToplevelMatch, text)
	}
	// The revision did not evaluate: nothing is known, nothing is written.
	run.Report.Toplevel = &drift.Toplevel{Host: "/nix/store/aaaa-nixos-system", Error: "eval failed"}
	if _, text = write(t, run); strings.Contains(text, MetricToplevelMatch) {
		t.Fatalf("%s written without an evaluated toplevel:\n%s", MetricToplevelMatch, text)
	}
}
