package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/driftcheck/driftcheck/internal/live"
	"github.com/driftcheck/driftcheck/internal/sdsandbox"
)

// runSnapshotCLI runs the driftcheck command line as main does, with
// captured streams.
func TestSnapshotCommandAgainstSandbox(t *testing.T) {
	t.Parallel()
	sb := sdsandbox.New(t, sdsandbox.Options{Layout: sdsandbox.NixOSLike, Units: []sdsandbox.Unit{
		{Name: "docker-prune.timer", WantedBy: []string{"timers.target"},
			Content: "[Timer]\nOnCalendar=weekly\nPersistent=true\nUnit=docker-prune.service\n"},
		{Name: "docker-prune.service", Content: "[Service]\nType=oneshot\nExecStart=/bin/true\n"},
		{Name: "ci-docker-prune.service", Content: "[Service]\nType=oneshot\nExecStart=/bin/true\n"},
	}})
	bus := "--bus-address=" + sb.BusAddress()

	t.Run("json", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, "snapshot", bus, "--root", sb.RootFS(),
			"--scope", "*docker-prune*", "--unit", "absent.service")
		if code != 0 || stderr != "" {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
		snap, err := live.ReadSnapshot(strings.NewReader(stdout))
		if err != nil {
			t.Fatalf("output is not a snapshot: %v\n%s", err, stdout)
		}
		got := map[string]string{}
		for _, u := range snap.Units {
			got[u.Name] = u.LoadState + "/" + u.ActiveState + "/" + u.UnitFileState
		}
		want := map[string]string{
			"absent.service":          "not-found/inactive/",
			"ci-docker-prune.service": "loaded/inactive/linked",
			"docker-prune.service":    "loaded/inactive/linked",
			"docker-prune.timer":      "loaded/active/enabled",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("units (-want +got):\n%s", diff)
		}
		if snap.Host != "" {
			t.Errorf("host = %q for an explicit bus, want none", snap.Host)
		}
		for _, u := range snap.Units {
			if u.Name == "docker-prune.timer" && !strings.HasPrefix(u.StorePath, sb.StoreDir()) {
				t.Errorf("docker-prune.timer store path %q not under %s", u.StorePath, sb.StoreDir())
			}
		}
	})

	t.Run("text", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, "snapshot", bus, "--format", "text", "--unit", "docker-prune.timer")
		if code != 0 || stderr != "" {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
		for _, want := range []string{"1 units read", "docker-prune.timer", "enabled", "Mon *-*-* 00:00:00 -> docker-prune.service (persistent)"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("text output lacks %q:\n%s", want, stdout)
			}
		}
	})

	t.Run("names from the declared units of a revision", func(t *testing.T) {
		repo, revA, revB := checkIncidentRepo(t)
		code, stdout, stderr := runCLI(t, "snapshot", bus, "--repo", repo.Dir, "--rev", revA)
		if code != 0 || stderr != "" {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
		snap, err := live.ReadSnapshot(strings.NewReader(stdout))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, u := range snap.Units {
			names = append(names, u.Name)
		}
		// revision A declares docker-prune.{service,timer}; virtualisation.docker
		// brings the stock docker-prune.service too. The rename probes a
		// check uses find ci-docker-prune.service.
		if diff := cmp.Diff([]string{"ci-docker-prune.service", "docker-prune.service", "docker-prune.timer"}, names); diff != "" {
			t.Errorf("units read (-want +got):\n%s", diff)
		}

		// A check of the snapshot file says what a check on the host says,
		// renames included, for either revision.
		for _, rev := range []string{revA, revB} {
			_, snapOut, _ := runCLI(t, "snapshot", bus, "--repo", repo.Dir, "--rev", rev)
			file := filepath.Join(t.TempDir(), "host.json")
			if err := os.WriteFile(file, []byte(snapOut), 0o644); err != nil {
				t.Fatal(err)
			}
			_, onHost, _ := runCheckCLI(t, bus, "--repo", repo.Dir, "--rev", rev, "--format", "json")
			_, fromFile, _ := runCheckCLI(t, "--live", file, "--repo", repo.Dir, "--rev", rev, "--format", "json")
			hostKinds := findingKinds(t, onHost)
			t.Logf("%.12s on the host: %q", rev, hostKinds)
			if len(hostKinds) == 0 {
				t.Fatalf("%.12s: no findings on the host; the comparison below would prove nothing", rev)
			}
			if diff := cmp.Diff(hostKinds, findingKinds(t, fromFile)); diff != "" {
				t.Errorf("%.12s: check of the snapshot differs from the check on the host (-host +file):\n%s", rev, diff)
			}
		}
	})

	t.Run("unreadable unit exits 3 and still writes the snapshot", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, "snapshot", bus, "--unit", "template@.service", "--unit", "docker-prune.timer")
		if code != exitIncomplete {
			t.Fatalf("exit %d, want %d; stderr %q", code, exitIncomplete, stderr)
		}
		snap, err := live.ReadSnapshot(strings.NewReader(stdout))
		if err != nil {
			t.Fatal(err)
		}
		if len(snap.Units) != 1 || len(snap.Errors) != 1 || snap.Errors[0].Unit != "template@.service" {
			t.Errorf("units %v errors %v, want docker-prune.timer read and template@.service in errors", snap.Units, snap.Errors)
		}
	})
}

func TestSnapshotCommandCannotRun(t *testing.T) {
	t.Parallel()
	noBus := "unix:path=" + t.TempDir() + "/none"
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no bus", []string{"--bus-address", noBus, "--unit", "a.service"}, "connect to bus"},
		{"nothing to read", []string{"--bus-address", noBus}, "nothing to read"},
		{"bad format", []string{"--unit", "a.service", "--format", "yaml"}, `--format "yaml"`},
		{"bad unit name", []string{"--unit", "a/b.service"}, `--unit "a/b.service"`},
		{"bad glob", []string{"--scope", "[", "--bus-address", noBus}, `--scope "["`},
		{"unknown flag", []string{"--nope"}, "unknown flag"},
		{"not a repository", []string{"--repo", t.TempDir(), "--bus-address", noBus}, "repository"},
		{"escape in unit name is not printed raw", []string{"--unit", "x\x1b[2J.service"}, `--unit "x\x1b[2J.service"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, append([]string{"snapshot"}, tt.args...)...)
			if code != exitCannotRun {
				t.Errorf("exit %d, want %d", code, exitCannotRun)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			if strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tt.wantErr) || strings.Contains(stderr, "\x1b") {
				t.Errorf("stderr %q, want one safe line containing %q", stderr, tt.wantErr)
			}
		})
	}
}

// findingKinds is "kind unit -> live unit" for each finding of a check
// report, in the report's order.
func findingKinds(t *testing.T, report string) []string {
	t.Helper()
	var r struct {
		Findings []struct {
			Kind     string `json:"kind"`
			Unit     string `json:"unit"`
			LiveUnit string `json:"live_unit"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(report), &r); err != nil {
		t.Fatalf("not a check report: %v\n%s", err, report)
	}
	var out []string
	for _, f := range r.Findings {
		out = append(out, f.Kind+" "+f.Unit+" -> "+f.LiveUnit)
	}
	return out
}
