package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/driftcheck/driftcheck/internal/prune"
	"github.com/driftcheck/driftcheck/internal/prune/prunetest"
	"github.com/driftcheck/driftcheck/internal/testreq"
)

func TestPruneBadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"threshold", []string{"--threshold", "120"}, "--threshold"},
		{"threshold NaN", []string{"--threshold", "NaN"}, "--threshold"},
		{"threshold +Inf", []string{"--threshold", "+Inf"}, "--threshold"},
		{"threshold -Inf", []string{"--threshold", "-Inf"}, "--threshold"},
		{"format", []string{"--format", "xml"}, "--format"},
		{"busy pattern", []string{"--busy-pattern", "("}, "--busy-pattern"},
		{"until", []string{"--until", "-1h"}, "--until"},
		{"unknown flag", []string{"--all"}, "unknown flag"},
		{"argument", []string{"volumes"}, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runPruneCLI(t, append(tt.args, "--state-dir", t.TempDir(), "--no-drift-gate",
				"--docker-host", "unix://"+filepath.Join(t.TempDir(), "none.sock"))...)
			if code != exitCannotRun || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d, stderr %q; want exit 2 and one line naming %q", code, stderr, tt.want)
			}
			if stdout != "" {
				t.Fatalf("a rejected flag must print no report; stdout %q", stdout)
			}
		})
	}
}

// When the drift check cannot vouch for the host (here: --repo is not a
// repository), the prune stops before it builds a Docker client.
func TestPruneDriftGateFirst(t *testing.T) {
	host, conns := prunetest.CountingSocket(t)
	code, stdout, stderr := runPruneCLI(t, "--repo", t.TempDir(), "--docker-host", host, "--state-dir", t.TempDir(), "--threshold", "0")
	if code == exitOK || code == exitPressure {
		t.Fatalf("exit %d with a drift gate that cannot pass; stdout %s", code, stdout)
	}
	if !strings.Contains(stdout, "drift") || !strings.Contains(stdout, "CLOSED") {
		t.Fatalf("report does not show the closed drift gate:\n%s\nstderr %s", stdout, stderr)
	}
	time.Sleep(100 * time.Millisecond)
	if n := conns.Load(); n != 0 {
		t.Fatalf("%d connections to the Docker socket with the drift gate closed", n)
	}
}

func TestPruneDaemonUnreachable(t *testing.T) {
	code, stdout, stderr := runPruneCLI(t, "--no-drift-gate", "--docker-host", "unix://"+filepath.Join(t.TempDir(), "none.sock"),
		"--state-dir", t.TempDir())
	if code != exitCannotRun || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "docker daemon") {
		t.Fatalf("exit %d, stderr %q; want exit 2 with one line about the daemon", code, stderr)
	}
	if !strings.Contains(stdout, "WARNING") {
		t.Fatalf("--no-drift-gate must warn loudly:\n%s", stdout)
	}
}

// Against the host's daemon, read-only (a dry run): JSON report, metrics
// file, exit 0 on "no pressure" (threshold 100 %: the Docker root's
// filesystem is not full).
func TestPruneJSONAndMetrics(t *testing.T) {
	testreq.Command(t, "dockerd", "docker.io")
	if _, err := os.Stat("/var/run/docker.sock"); err != nil {
		testreq.Missing(t, "no Docker daemon socket (run scripts/ensure-dockerd): %v", err)
	}
	metrics := filepath.Join(t.TempDir(), "prune.prom")
	code, stdout, stderr := runPruneCLI(t, "--no-drift-gate", "--format", "json", "--dry-run", "--threshold", "100",
		"--state-dir", t.TempDir(), "--metrics-file", metrics)
	if code != exitOK {
		t.Fatalf("exit %d, stderr %s, stdout %s", code, stderr, stdout)
	}
	var rep prune.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout)
	}
	if rep.Schema != prune.ReportSchema || rep.Outcome != prune.OutcomeSkipped || !rep.DryRun || rep.APIVersion == "" || len(rep.Warnings) == 0 {
		t.Fatalf("report %+v: want schema, skipped (no pressure), dry run, API version, drift-gate warning", rep)
	}
	data, err := os.ReadFile(metrics)
	if err != nil || !strings.Contains(string(data), `driftcheck_prune_outcome{outcome="skipped"} 1`) {
		t.Fatalf("metrics file: %v\n%s", err, data)
	}
}

// A deploy lock whose directory does not exist is a bad configuration:
// exit 2, one line naming the path, and no directory created.
func TestPruneLockDirectoryMustExist(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nonexistent", "dir")
	code, _, stderr := runPruneCLI(t, "--no-drift-gate", "--lock", filepath.Join(dir, "x.lock"),
		"--docker-host", "unix://"+filepath.Join(t.TempDir(), "none.sock"), "--state-dir", t.TempDir())
	if code != exitCannotRun || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, dir) {
		t.Fatalf("exit %d, stderr %q; want exit 2 and one line naming %s", code, stderr, dir)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Fatalf("prune created the lock's directory %s", dir)
	}
}

// Exit 2 after the run started (here: the daemon is unreachable) still
// writes the report on stdout, as docs/exit-codes.md says: a run that
// fails midway may already have deleted objects, and a JSON consumer needs
// one parseable document with outcome "error". The reason is also the one
// line on stderr.
func TestPruneExitTwoWritesTheReport(t *testing.T) {
	code, stdout, stderr := runPruneCLI(t, "--no-drift-gate", "--format", "json",
		"--docker-host", "unix://"+filepath.Join(t.TempDir(), "none.sock"), "--state-dir", t.TempDir())
	if code != exitCannotRun || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("exit %d, stderr %q; want exit 2 and one line", code, stderr)
	}
	var rep prune.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("stdout at exit 2 is not one JSON report: %v\n%s", err, stdout)
	}
	if rep.Outcome != prune.OutcomeError || !strings.Contains(rep.Error, "docker daemon") {
		t.Fatalf("report outcome %q error %q; want outcome error naming the daemon", rep.Outcome, rep.Error)
	}
	doc, err := os.ReadFile("../../docs/exit-codes.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "`prune` still writes its report") {
		t.Fatal("docs/exit-codes.md does not state that prune writes its report at exit 2")
	}
}

// The shipped binary has no hidden flags: test hooks live in the tests'
// fakes, not behind flags a user could find and misuse.
func TestNoHiddenFlags(t *testing.T) {
	var visit func(c *cobra.Command)
	visit = func(c *cobra.Command) {
		for _, fs := range []*pflag.FlagSet{c.LocalFlags(), c.PersistentFlags()} {
			fs.VisitAll(func(f *pflag.Flag) {
				if f.Hidden {
					t.Errorf("%s: hidden flag --%s", c.CommandPath(), f.Name)
				}
			})
		}
		for _, sub := range c.Commands() {
			visit(sub)
		}
	}
	root := newRootCmd(streams{In: strings.NewReader(""), Out: io.Discard, Err: io.Discard})
	if len(root.Commands()) == 0 {
		t.Fatal("root command has no subcommands: the walk would prove nothing")
	}
	visit(root)
}
