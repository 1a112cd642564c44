// Package textfiletest checks metrics files with Prometheus's own linter.
package textfiletest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/driftcheck/driftcheck/internal/testreq"
)

// PromtoolCheck runs `promtool check metrics` (Debian's prometheus
// package) on the file at path and fails the test on any problem it
// reports: naming conventions, units, HELP, duplicate series.
func PromtoolCheck(t testing.TB, path string) {
	t.Helper()
	promtool := testreq.Command(t, "promtool", "prometheus")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("promtool check metrics %s: %v\n%s\nfile:\n%s", path, err, out, data)
	}
}
