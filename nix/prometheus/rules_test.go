// Package prometheus_test tests the shipped Prometheus rules: with
// promtool (rule unit tests) and on a real Prometheus server scraping real
// node_exporters (engine_test.go).
package prometheus_test

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"testing"
	"time"

	"github.com/driftcheck/driftcheck/internal/testreq"
)

const (
	rulesFile     = "driftcheck.rules.yml"
	rulesTestFile = "driftcheck.rules.test.yml"
)

func promtool(t *testing.T, args ...string) string {
	t.Helper()
	bin := testreq.Command(t, "promtool", "prometheus")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// The rules file is valid, and promtool's rule unit tests (series in,
// alerts out) pass.
func TestRulesPassPromtool(t *testing.T) {
	promtool(t, "check", "rules", rulesFile)
	promtool(t, "test", "rules", rulesTestFile)
}

// Every alert the file ships has a promtool case, and so does every
// recording rule: an untested rule is a rule nobody has seen fire.
func TestEveryRuleHasACase(t *testing.T) {
	rules, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	cases, err := os.ReadFile(rulesTestFile)
	if err != nil {
		t.Fatal(err)
	}
	alerts := regexp.MustCompile(`(?m)^\s*- alert: (\S+)$`).FindAllSubmatch(rules, -1)
	records := regexp.MustCompile(`(?m)^\s*- record: (\S+)$`).FindAllSubmatch(rules, -1)
	if len(alerts) < 7 || len(records) < 1 {
		t.Fatalf("found %d alerts and %d recording rules in %s: the pattern no longer matches the file", len(alerts), len(records), rulesFile)
	}
	for _, a := range alerts {
		if !regexp.MustCompile(`(?m)^\s*- alertname: ` + regexp.QuoteMeta(string(a[1])) + `$`).Match(cases) {
			t.Errorf("alert %s has no case in %s", a[1], rulesTestFile)
		}
	}
	for _, r := range records {
		if !regexp.MustCompile(`(?m)^\s*- expr: ` + regexp.QuoteMeta(string(r[1])) + `$`).Match(cases) {
			t.Errorf("recording rule %s has no promql_expr_test in %s", r[1], rulesTestFile)
		}
	}
}
