package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/driftcheck/driftcheck/internal/gitrev/gittest"
	"github.com/driftcheck/driftcheck/internal/live"
	"github.com/driftcheck/driftcheck/internal/testreq"
)

// runCheckCLI runs "driftcheck check args..." as main does, with captured
// streams.
// checkJSON is the part of the JSON report the tests read.
type checkJSON struct {
	Schema   string `json:"schema"`
	Rev      string `json:"rev"`
	Verdict  string `json:"verdict"`
	Findings []struct {
		Kind       string `json:"kind"`
		Unit       string `json:"unit"`
		LiveUnit   string `json:"live_unit"`
		DeclaredAt string `json:"declared_at"`
		Host       struct {
			Load      string `json:"load"`
			Active    string `json:"active"`
			FileState string `json:"file_state"`
		} `json:"host"`
		Detail    string          `json:"detail"`
		Fix       string          `json:"fix"`
		Severity  string          `json:"severity"`
		Property  string          `json:"property"`
		HostValue json.RawMessage `json:"host_value"`
	} `json:"findings"`
	Notes    []string `json:"notes"`
	Declared string   `json:"declared"`
	Toplevel *struct {
		Revision      string `json:"revision"`
		Host          string `json:"host"`
		CurrentSystem string `json:"current_system"`
		Match         bool   `json:"match"`
		Error         string `json:"error"`
	} `json:"toplevel"`
	Fidelity []struct {
		Unit         string `json:"unit"`
		Scope        string `json:"scope"`
		Kind         string `json:"kind"`
		Detail       string `json:"detail"`
		StaticReason string `json:"static_reason"`
	} `json:"fidelity"`
}

func decodeCheck(t *testing.T, stdout string) checkJSON {
	t.Helper()
	var r checkJSON
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("output is not a check report: %v\n%s", err, stdout)
	}
	if r.Schema != "driftcheck.check/v1" || r.Findings == nil {
		t.Fatalf("schema %q, findings %v: want driftcheck.check/v1 and an array", r.Schema, r.Findings)
	}
	return r
}

// kinds lists findings as "kind unit[->live unit]" for comparison.
func (r checkJSON) kinds() []string {
	out := []string{}
	for _, f := range r.Findings {
		s := f.Kind + " " + f.Unit
		if f.LiveUnit != "" {
			s += "->" + f.LiveUnit
		}
		out = append(out, s)
	}
	return out
}

// The incident's modules. Docker is enabled, so NixOS defines the stock
// docker-prune.service at every revision.
const (
	checkDockerModule = `{ ... }:
{
  virtualisation.docker.enable = true;
}
`
	checkPruneModuleA = `{ pkgs, ... }:
{
  systemd.services.docker-prune = {
    serviceConfig.Type = "oneshot";
    script = "docker system prune -f --filter until=24h";
  };

  systemd.timers.docker-prune = {
    wantedBy = [ "timers.target" ];
    timerConfig = {
      OnCalendar = "daily";
      Persistent = true;
    };
  };
}
`
	checkPruneModuleB = `{ pkgs, ... }:
{
  systemd.services.ci-docker-prune = {
    serviceConfig.Type = "oneshot";
    script = "docker system prune -f --filter until=24h";
  };

  systemd.timers.ci-docker-prune = {
    wantedBy = [ "timers.target" ];
    timerConfig = {
      OnCalendar = "daily";
      Persistent = true;
    };
  };
}
`
)

// checkIncidentRepo commits revision A (declares docker-prune.*) and then
// B (renamed to ci-docker-prune.*); HEAD is B.
func checkIncidentRepo(t *testing.T) (repo *gittest.Repo, revA, revB string) {
	t.Helper()
	repo = gittest.New(t)
	revA = repo.Commit("docker prune", map[string]string{
		"nix/modules/docker.nix":       checkDockerModule,
		"nix/modules/docker-prune.nix": checkPruneModuleA,
	})
	revB = repo.Commit("rename the prune units", map[string]string{
		"nix/modules/docker-prune.nix": checkPruneModuleB,
	})
	return repo, revA, revB
}

// checkIncidentHost is the host of the incident: it runs
// ci-docker-prune.{service,timer}, built from an uncommitted copy, next to
// the stock docker-prune.service; docker-prune.timer does not exist.
func checkIncidentHost() live.Snapshot {
	return live.Snapshot{
		Schema:  live.SnapshotSchema,
		TakenAt: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC),
		Scope:   []string{"*docker-prune*"}, // as "driftcheck snapshot --scope '*docker-prune*'" takes it
		Units: []live.Unit{
			{Name: "ci-docker-prune.service", LoadState: "loaded", ActiveState: "inactive", SubState: "dead", UnitFileState: "linked"},
			{Name: "ci-docker-prune.timer", LoadState: "loaded", ActiveState: "active", SubState: "waiting", UnitFileState: "enabled",
				Timer: &live.Timer{Calendar: []string{"*-*-* 00:00:00"}, Unit: "ci-docker-prune.service", Persistent: true}},
			{Name: "docker-prune.service", LoadState: "loaded", ActiveState: "inactive", SubState: "dead", UnitFileState: "linked"},
			{Name: "docker-prune.timer", LoadState: "not-found", ActiveState: "inactive", SubState: "dead"},
		},
	}
}

func writeSnapshot(t *testing.T, snap live.Snapshot) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "snapshot.json")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := snap.WriteJSON(f); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCheckIncident(t *testing.T) {
	t.Parallel()
	repo, revA, revB := checkIncidentRepo(t)
	snap := writeSnapshot(t, checkIncidentHost())

	t.Run("the committed revision drifts", func(t *testing.T) {
		code, stdout, stderr := runCheckCLI(t, "--repo", repo.Dir, "--rev", revA, "--live", snap, "--format", "json")
		if code != exitFindings {
			t.Fatalf("exit %d, want %d; stderr %q\n%s", code, exitFindings, stderr, stdout)
		}
		r := decodeCheck(t, stdout)
		if r.Rev != revA || r.Verdict != "drift" {
			t.Errorf("rev %s verdict %s, want %s drift", r.Rev, r.Verdict, revA)
		}
		want := []string{
			"renamed docker-prune.service->ci-docker-prune.service",
			"renamed docker-prune.timer->ci-docker-prune.timer",
		}
		if diff := cmp.Diff(want, r.kinds()); diff != "" {
			t.Errorf("findings (-want +got):\n%s", diff)
		}
		timer := r.Findings[1]
		if !strings.HasPrefix(timer.DeclaredAt, "nix/modules/docker-prune.nix:") {
			t.Errorf("declared_at %q, want the module's file:line", timer.DeclaredAt)
		}
		if !strings.Contains(timer.Fix, "declare ci-docker-prune.timer in nix/modules/docker-prune.nix") {
			t.Errorf("fix %q does not say how to commit the rename", timer.Fix)
		}
		if timer.Host.Load != "loaded" || timer.Host.Active != "active" || timer.Host.FileState != "enabled" {
			t.Errorf("host %+v, want the live ci-docker-prune.timer's state", timer.Host)
		}
	})

	t.Run("the renamed revision is in sync", func(t *testing.T) {
		code, stdout, stderr := runCheckCLI(t, "--repo", repo.Dir, "--rev", revB, "--live", snap, "--format", "json")
		if code != exitOK {
			t.Fatalf("exit %d, want 0; stderr %q\n%s", code, stderr, stdout)
		}
		r := decodeCheck(t, stdout)
		if r.Verdict != "in-sync" || len(r.Findings) != 0 {
			t.Errorf("verdict %s findings %v, want in-sync and none", r.Verdict, r.kinds())
		}
	})

	t.Run("text", func(t *testing.T) {
		code, stdout, _ := runCheckCLI(t, "--repo", repo.Dir, "--rev", revA[:10], "--live", snap)
		if code != exitFindings {
			t.Fatalf("exit %d, want %d\n%s", code, exitFindings, stdout)
		}
		first, _, _ := strings.Cut(stdout, "\n")
		if want := "drift: 2 findings at " + revA[:12]; first != want {
			t.Errorf("verdict line %q, want %q", first, want)
		}
		for _, want := range []string{"renamed  docker-prune.timer -> ci-docker-prune.timer", "  fix          commit the rename"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("text lacks %q:\n%s", want, stdout)
			}
		}
		if strings.Contains(stdout, "\x1b") {
			t.Error("colour written to a non-terminal")
		}
	})
}

func TestCheckFindingsFromSnapshots(t *testing.T) {
	t.Parallel()
	repo, revA, revB := checkIncidentRepo(t)
	// host is the incident's host with units added or replaced by name.
	host := func(extra ...live.Unit) string {
		s := checkIncidentHost()
		for _, e := range extra {
			s.Units = slices.DeleteFunc(s.Units, func(u live.Unit) bool { return u.Name == e.Name })
		}
		s.Units = append(s.Units, extra...)
		return writeSnapshot(t, s)
	}
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{
			name: "undeclared in --scope",
			args: []string{"--rev", revB, "--scope", "ci-*", "--live", host(live.Unit{Name: "ci-runner.service", LoadState: "loaded", ActiveState: "active", UnitFileState: "enabled"})},
			code: exitFindings,
			want: []string{"undeclared ci-runner.service"},
		},
		{
			name: "out of scope is not reported",
			args: []string{"--rev", revB, "--live", host(live.Unit{Name: "ci-runner.service", LoadState: "loaded", ActiveState: "active", UnitFileState: "enabled"})},
			code: exitOK,
			want: []string{},
		},
		{
			name: "stale: declared at A, still on the host at B",
			args: []string{"--rev", revB, "--live", host(live.Unit{Name: "docker-prune.timer", LoadState: "loaded", ActiveState: "active", UnitFileState: "enabled",
				Timer: &live.Timer{Calendar: []string{"*-*-* 00:00:00"}, Unit: "docker-prune.service"}})},
			code: exitFindings,
			want: []string{"stale docker-prune.timer"},
		},
		{
			name: "no history, no stale",
			args: []string{"--rev", revB, "--history", "0", "--live", host(live.Unit{Name: "docker-prune.timer", LoadState: "loaded", ActiveState: "active", UnitFileState: "enabled"})},
			code: exitOK,
			want: []string{},
		},
		{
			name: "mismatch: calendar and enablement",
			args: []string{"--rev", revB, "--live", writeSnapshot(t, live.Snapshot{Schema: live.SnapshotSchema, Units: []live.Unit{
				{Name: "ci-docker-prune.service", LoadState: "loaded", ActiveState: "inactive", UnitFileState: "linked"},
				{Name: "ci-docker-prune.timer", LoadState: "loaded", ActiveState: "inactive", UnitFileState: "linked",
					Timer: &live.Timer{Calendar: []string{"Mon *-*-* 00:00:00"}, Unit: "ci-docker-prune.service", Persistent: true}},
				{Name: "docker-prune.service", LoadState: "loaded", ActiveState: "inactive", UnitFileState: "linked"},
			}})},
			code: exitFindings,
			want: []string{"mismatch ci-docker-prune.timer", "mismatch ci-docker-prune.timer"},
		},
		{
			name: "missing",
			args: []string{"--rev", revB, "--live", writeSnapshot(t, live.Snapshot{Schema: live.SnapshotSchema, Scope: []string{"*prune*"}, Units: []live.Unit{
				{Name: "docker-prune.service", LoadState: "loaded", ActiveState: "inactive", UnitFileState: "linked"},
			}})},
			code: exitFindings,
			want: []string{"missing ci-docker-prune.service", "missing ci-docker-prune.timer"},
		},
		{
			name: "a declared unit the snapshot never asked about makes the check incomplete",
			args: []string{"--rev", revB, "--live", writeSnapshot(t, live.Snapshot{Schema: live.SnapshotSchema, Scope: []string{"docker-*"}, Units: []live.Unit{
				{Name: "docker-prune.service", LoadState: "loaded", ActiveState: "inactive", UnitFileState: "linked"},
			}})},
			code: exitIncomplete,
			want: []string{"unresolved ci-docker-prune.service", "unresolved ci-docker-prune.timer"},
		},
		{
			name: "a unit systemd could not read makes the check incomplete",
			args: []string{"--rev", revB, "--live", writeSnapshot(t, func() live.Snapshot {
				s := checkIncidentHost()
				s.Errors = []live.ReadError{{Unit: "ci-docker-prune.timer", Message: "Connection timed out"}}
				return s
			}())},
			code: exitIncomplete,
			want: []string{"unresolved ci-docker-prune.timer"},
		},
		{
			name: "drift wins over incomplete",
			args: []string{"--rev", revA, "--live", writeSnapshot(t, func() live.Snapshot {
				s := checkIncidentHost()
				s.Errors = []live.ReadError{{Message: "ListUnitFilesByPatterns: timeout"}}
				return s
			}())},
			code: exitFindings,
			want: []string{"renamed docker-prune.service->ci-docker-prune.service", "renamed docker-prune.timer->ci-docker-prune.timer", "unresolved "},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--repo", repo.Dir, "--format", "json"}, tc.args...)
			code, stdout, stderr := runCheckCLI(t, args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %q\n%s", code, tc.code, stderr, stdout)
			}
			if diff := cmp.Diff(tc.want, decodeCheck(t, stdout).kinds()); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckScopeFromConfigFile(t *testing.T) {
	t.Parallel()
	repo, _, _ := checkIncidentRepo(t)
	rev := repo.Commit("scope", map[string]string{".driftcheck.json": `{"scope": ["ci-*"], "lint": {"known_units": []}}`})
	s := checkIncidentHost()
	s.Units = append(s.Units, live.Unit{Name: "ci-runner.service", LoadState: "loaded", ActiveState: "active", UnitFileState: "enabled"})
	snap := writeSnapshot(t, s)

	code, stdout, _ := runCheckCLI(t, "--repo", repo.Dir, "--rev", rev, "--live", snap, "--format", "json")
	if code != exitFindings {
		t.Fatalf("exit %d, want %d\n%s", code, exitFindings, stdout)
	}
	if diff := cmp.Diff([]string{"undeclared ci-runner.service"}, decodeCheck(t, stdout).kinds()); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	// --scope overrides the file.
	code, stdout, _ = runCheckCLI(t, "--repo", repo.Dir, "--rev", rev, "--live", snap, "--format", "json", "--scope", "sshd*")
	if code != exitOK {
		t.Fatalf("with --scope: exit %d, want 0\n%s", code, stdout)
	}
	// A bad glob in the committed file is a one-line error, exit 2.
	bad := repo.Commit("bad scope", map[string]string{".driftcheck.json": `{"scope": ["["]}`})
	code, _, stderr := runCheckCLI(t, "--repo", repo.Dir, "--rev", bad, "--live", snap)
	if code != exitCannotRun || !strings.Contains(stderr, ".driftcheck.json") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("bad config: exit %d stderr %q, want 2 and one line naming the file", code, stderr)
	}
	// A misspelt key is an error naming it, not "no scope" (issue 8).
	typo := repo.Commit("typo", map[string]string{".driftcheck.json": `{"scpoe": ["ci-*"]}`})
	code, _, stderr = runCheckCLI(t, "--repo", repo.Dir, "--rev", typo, "--live", snap)
	if code != exitCannotRun || !strings.Contains(stderr, `unknown key "scpoe"`) || strings.Count(stderr, "\n") != 1 {
		t.Errorf("misspelt key: exit %d stderr %q, want 2 and one line naming the key", code, stderr)
	}
}

// hostNixosVersion writes a nixos-version that says the host was built
// from revision: a strict check of a snapshot passes only when the host's
// provenance is known.
func hostNixosVersion(t *testing.T, revision string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "nixos-version")
	script := "#!/bin/sh\necho '{\"nixosVersion\":\"25.11\",\"configurationRevision\":\"" + revision + "\"}'\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCheckHygiene(t *testing.T) {
	t.Parallel()
	testreq.Command(t, "sh", "dash")
	repo, revA, revB := checkIncidentRepo(t)
	snap := writeSnapshot(t, checkIncidentHost())
	base := []string{"--repo", repo.Dir, "--rev", revB, "--live", snap, "--format", "json"}

	nixosVersion := func(revision string) string { return hostNixosVersion(t, revision) }
	deploySource := func(content string) string {
		dir := t.TempDir()
		for name, data := range map[string]string{"docker.nix": checkDockerModule, "docker-prune.nix": content} {
			p := filepath.Join(dir, "nix", "modules", name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}

	brokenNixosVersion := filepath.Join(t.TempDir(), "nixos-version")
	if err := os.WriteFile(brokenNixosVersion, []byte("#!/bin/sh\necho 'error: unrecognised flag' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name       string
		args       []string
		code       int
		strictCode int
		want       []string
	}{
		// Issue 8: under --strict, provenance that could not be verified
		// (unreadable, not available, not read) is incomplete, never a pass.
		{"provenance unreadable", []string{"--nixos-version", brokenNixosVersion}, exitOK, exitIncomplete, []string{"revision "}},
		{"provenance equal", []string{"--nixos-version", nixosVersion(revB)}, exitOK, exitOK, []string{}},
		{"provenance older", []string{"--nixos-version", nixosVersion(revA)}, exitOK, exitFindings, []string{"revision "}},
		{"provenance dirty", []string{"--nixos-version", nixosVersion(revB + "-dirty")}, exitOK, exitFindings, []string{"revision "}},
		{"provenance unknown", []string{"--nixos-version", nixosVersion(strings.Repeat("f", 40))}, exitOK, exitFindings, []string{"revision "}},
		{"provenance not available", []string{"--nixos-version", filepath.Join(t.TempDir(), "absent")}, exitOK, exitIncomplete, []string{}},
		{"provenance not read (a snapshot)", []string{}, exitOK, exitIncomplete, []string{}},
		{"deploy source equal", []string{"--deploy-source", deploySource(checkPruneModuleB), "--nixos-version", nixosVersion(revB)}, exitOK, exitOK, []string{}},
		{"deploy source differs", []string{"--deploy-source", deploySource(checkPruneModuleB + "# local edit\n"), "--nixos-version", nixosVersion(revB)}, exitOK, exitFindings, []string{"source-differs "}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCheckCLI(t, append(base, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %q\n%s", code, tc.code, stderr, stdout)
			}
			r := decodeCheck(t, stdout)
			if diff := cmp.Diff(tc.want, r.kinds()); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			for _, f := range r.Findings {
				if f.Severity != "warning" {
					t.Errorf("%s finding has severity %s, want warning", f.Kind, f.Severity)
				}
			}
			code, stdout, _ = runCheckCLI(t, append(append(base, "--strict"), tc.args...)...)
			if code != tc.strictCode {
				t.Errorf("--strict: exit %d, want %d\n%s", code, tc.strictCode, stdout)
			}
			strictReport := decodeCheck(t, stdout)
			if wantVerdict := map[int]string{exitOK: "in-sync", exitFindings: "drift", exitIncomplete: "incomplete"}[tc.strictCode]; strictReport.Verdict != wantVerdict {
				t.Errorf("--strict: verdict %s, want %s", strictReport.Verdict, wantVerdict)
			}
			if tc.strictCode == exitIncomplete && !slices.Contains(strictReport.kinds(), "revision ") {
				t.Errorf("--strict: findings %q, want the revision that could not be verified", strictReport.kinds())
			}
		})
	}

	t.Run("provenance not available is a note", func(t *testing.T) {
		_, stdout, _ := runCheckCLI(t, append(base, "--nixos-version", "/nonexistent/nixos-version")...)
		notes := strings.Join(decodeCheck(t, stdout).Notes, "\n")
		if !strings.Contains(notes, "provenance: not available") {
			t.Errorf("notes %q lack provenance: not available", notes)
		}
	})

	t.Run("provenance is not read for a snapshot unless asked", func(t *testing.T) {
		_, stdout, _ := runCheckCLI(t, base...)
		notes := strings.Join(decodeCheck(t, stdout).Notes, "\n")
		if !strings.Contains(notes, "provenance: not read") {
			t.Errorf("notes %q lack provenance: not read", notes)
		}
	})
}

// TestCheckDirtyWorkTree runs alone: it edits the work tree.
func TestCheckDirtyWorkTree(t *testing.T) {
	t.Parallel()
	repo, _, revB := checkIncidentRepo(t)
	snap := writeSnapshot(t, checkIncidentHost())
	repo.Write("nix/modules/docker-prune.nix", checkPruneModuleB+"# uncommitted\n")
	repo.Write("nix/modules/new.nix", "{ }\n")

	for _, strict := range []bool{false, true} {
		args := []string{"--repo", repo.Dir, "--rev", revB, "--live", snap, "--format", "json", "--nixos-version", hostNixosVersion(t, revB)}
		wantCode := exitOK
		if strict {
			args = append(args, "--strict")
			wantCode = exitFindings
		}
		code, stdout, stderr := runCheckCLI(t, args...)
		if code != wantCode {
			t.Fatalf("strict=%v: exit %d, want %d; stderr %q\n%s", strict, code, wantCode, stderr, stdout)
		}
		r := decodeCheck(t, stdout)
		want := []string{"dirty ", "dirty "}
		if diff := cmp.Diff(want, r.kinds()); diff != "" {
			t.Errorf("strict=%v: findings (-want +got):\n%s", strict, diff)
		}
		if len(r.Findings) == 2 && (r.Findings[0].DeclaredAt != "nix/modules/docker-prune.nix" || r.Findings[1].DeclaredAt != "nix/modules/new.nix") {
			t.Errorf("dirty files %q, %q", r.Findings[0].DeclaredAt, r.Findings[1].DeclaredAt)
		}
	}
	// The check reads the revision, never the work tree: the committed
	// units are still what is compared.
	repo.Write("nix/modules/docker-prune.nix", checkPruneModuleA)
	code, stdout, _ := runCheckCLI(t, "--repo", repo.Dir, "--rev", revB, "--live", snap, "--format", "json")
	if code != exitOK {
		t.Errorf("work tree reverted to A, revision B: exit %d, want 0\n%s", code, stdout)
	}
}

func TestCheckIncompleteDeclaredSide(t *testing.T) {
	t.Parallel()
	repo, _, _ := checkIncidentRepo(t)
	rev := repo.Commit("broken", map[string]string{"nix/modules/broken.nix": "{ systemd.services.x = { ; }\n"})
	code, stdout, stderr := runCheckCLI(t, "--repo", repo.Dir, "--rev", rev, "--live", writeSnapshot(t, checkIncidentHost()), "--format", "json")
	if code != exitIncomplete {
		t.Fatalf("exit %d, want %d; stderr %q\n%s", code, exitIncomplete, stderr, stdout)
	}
	r := decodeCheck(t, stdout)
	if r.Verdict != "incomplete" || len(r.Findings) == 0 || r.Findings[0].Kind != "unresolved" || !strings.HasPrefix(r.Findings[0].DeclaredAt, "nix/modules/broken.nix") {
		t.Errorf("verdict %s findings %+v, want incomplete with an unresolved finding in broken.nix", r.Verdict, r.Findings)
	}
}

func TestCheckCannotRun(t *testing.T) {
	t.Parallel()
	repo, revA, _ := checkIncidentRepo(t)
	snap := writeSnapshot(t, checkIncidentHost())
	notSnapshot := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(notSnapshot, []byte(`{"schema":"other/v1"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	noBus := "unix:path=" + filepath.Join(t.TempDir(), "no-bus")
	tests := []struct {
		name string
		args []string
		want string // in the one-line error
	}{
		{"bad format", []string{"--live", snap, "--format", "xml"}, "--format"},
		{"negative history", []string{"--live", snap, "--history", "-1"}, "--history"},
		{"bad scope glob", []string{"--live", snap, "--scope", "["}, "--scope"},
		{"bad module glob", []string{"--live", snap, "--modules", "/abs/*.nix"}, "--modules"},
		{"no module files", []string{"--live", snap, "--modules", "nothing/*.nix"}, "no module files"},
		{"unknown flag", []string{"--live", snap, "--frobnicate"}, "unknown flag"},
		{"extra argument", []string{"--live", snap, "extra"}, "extra"},
		{"unknown revision", []string{"--live", snap, "--rev", "no-such-branch"}, "no-such-branch"},
		{"missing snapshot", []string{"--live", filepath.Join(t.TempDir(), "none.json")}, "none.json"},
		{"not a snapshot", []string{"--live", notSnapshot}, "schema"},
		{"bus and file", []string{"--live", snap, "--bus-address", noBus}, "--bus-address"},
		{"no bus", []string{"--bus-address", noBus}, "no-bus"},
		{"deploy source missing", []string{"--live", snap, "--deploy-source", filepath.Join(t.TempDir(), "gone")}, "--deploy-source"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--repo", repo.Dir, "--rev", revA}, tc.args...)
			code, stdout, stderr := runCheckCLI(t, args...)
			if code != exitCannotRun {
				t.Fatalf("exit %d, want %d; stdout %q stderr %q", code, exitCannotRun, stdout, stderr)
			}
			if !strings.HasPrefix(stderr, "driftcheck: ") || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q, want one line mentioning %q", stderr, tc.want)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing when the check cannot run", stdout)
			}
		})
	}
	t.Run("not a repository", func(t *testing.T) {
		code, _, stderr := runCheckCLI(t, "--repo", t.TempDir(), "--live", snap)
		if code != exitCannotRun || !strings.Contains(stderr, "not a git repository") {
			t.Errorf("exit %d stderr %q, want 2 and 'not a git repository'", code, stderr)
		}
	})
}

func TestCheckTextEscapesUntrustedNames(t *testing.T) {
	t.Parallel()
	repo, _, revB := checkIncidentRepo(t)
	s := checkIncidentHost()
	s.Units = append(s.Units, live.Unit{Name: "ci-\x1b[2Jevil.service", LoadState: "loaded", ActiveState: "active", UnitFileState: "enabled",
		Description: "\x1b]0;title\x07"})
	code, stdout, _ := runCheckCLI(t, "--repo", repo.Dir, "--rev", revB, "--live", writeSnapshot(t, s), "--scope", "ci-*")
	if code != exitFindings {
		t.Fatalf("exit %d, want %d\n%s", code, exitFindings, stdout)
	}
	if strings.ContainsAny(stdout, "\x1b\x07") {
		t.Errorf("raw control characters in output:\n%q", stdout)
	}
	if !strings.Contains(stdout, `ci-\x1b[2Jevil.service`) {
		t.Errorf("escaped unit name missing:\n%s", stdout)
	}
}

// Issue 8: JSON output passed U+202E and U+009B through raw, and text
// output escaped backslashes a second time (systemd's own \x2d became
// \\x2d).
func TestCheckOutputEscapesBidiC1AndBackslashesOnce(t *testing.T) {
	t.Parallel()
	repo, _, revB := checkIncidentRepo(t)
	s := checkIncidentHost()
	s.Units = append(s.Units,
		live.Unit{Name: "ci-\u202eevil\u009b.service", LoadState: "loaded", ActiveState: "active", UnitFileState: "enabled"},
		live.Unit{Name: `ci-dev-disk-by\x2duuid.service`, LoadState: "loaded", ActiveState: "active", UnitFileState: "enabled"})
	snap := writeSnapshot(t, s)
	raw := func(out string) bool {
		return strings.ContainsFunc(out, func(r rune) bool { return r == '\u202e' || r == '\u009b' })
	}

	code, stdout, _ := runCheckCLI(t, "--repo", repo.Dir, "--rev", revB, "--live", snap, "--scope", "ci-*", "--format", "json")
	if code != exitFindings || raw(stdout) || !strings.Contains(stdout, `ci-\u202eevil\u009b.service`) {
		t.Errorf("json: exit %d, want %d, bidi and C1 escaped as \\u202e and \\u009b:\n%s", code, exitFindings, stdout)
	}
	if kinds := decodeCheck(t, stdout).kinds(); !slices.Contains(kinds, "undeclared ci-\u202eevil\u009b.service") {
		t.Errorf("json: the escaped name does not decode to the unit's name: %q", kinds)
	}

	code, stdout, _ = runCheckCLI(t, "--repo", repo.Dir, "--rev", revB, "--live", snap, "--scope", "ci-*")
	if code != exitFindings || raw(stdout) || !strings.Contains(stdout, `ci-\u202eevil\u009b.service`) {
		t.Errorf("text: exit %d, bidi and C1 not escaped once:\n%s", code, stdout)
	}
	if !strings.Contains(stdout, `ci-dev-disk-by\x2duuid.service`) || strings.Contains(stdout, `\\x2d`) {
		t.Errorf("text: systemd's backslash escape is not printed as is:\n%s", stdout)
	}
}

func TestCheckColor(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "NO_COLOR" {
				return v
			}
			return ""
		}
	}
	if useColor(&bytes.Buffer{}, env("")) {
		t.Error("colour for a buffer")
	}
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	if useColor(devNull, env("")) {
		t.Error("colour for /dev/null, a character device but no terminal")
	}
	tty := openPTY(t)
	if !useColor(tty, env("")) {
		t.Error("no colour for a terminal")
	}
	if useColor(tty, env("1")) {
		t.Error("colour despite NO_COLOR")
	}
}

// openPTY returns the terminal end of a new pseudo-terminal: a real tty
// without needing one attached to the test.
func openPTY(t *testing.T) *os.File {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		testreq.Missing(t, "no pseudo-terminals: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("pty number: %v", err)
	}
	tty, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_WRONLY|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open pty: %v", err)
	}
	t.Cleanup(func() { tty.Close() })
	return tty
}

func TestCheckHistoryDepth(t *testing.T) {
	t.Parallel()
	repo := gittest.New(t)
	withOld := strings.Replace(checkPruneModuleB, "systemd.services.ci-docker-prune", `systemd.services.old-cleanup = { serviceConfig.Type = "oneshot"; };
  systemd.services.ci-docker-prune`, 1)
	declaredOld := repo.Commit("old cleanup", map[string]string{
		"nix/modules/docker.nix": checkDockerModule, "nix/modules/docker-prune.nix": withOld,
	})
	repo.Commit("drop old cleanup", map[string]string{"nix/modules/docker-prune.nix": checkPruneModuleB})
	repo.Commit("docs only: not a module change", map[string]string{"README.md": "hello\n"})
	head := repo.Commit("touch another module", map[string]string{"nix/modules/other.nix": "{ ... }: { }\n"})

	s := checkIncidentHost()
	s.Units = slices.DeleteFunc(s.Units, func(u live.Unit) bool { return u.Name == "docker-prune.timer" })
	s.Units = append(s.Units, live.Unit{Name: "old-cleanup.service", LoadState: "loaded", ActiveState: "inactive", UnitFileState: "linked"})
	snap := writeSnapshot(t, s)

	tests := []struct {
		history string
		want    []string
	}{
		{"0", []string{}},
		{"1", []string{}}, // "drop old cleanup" only
		{"2", []string{"stale old-cleanup.service"}},
		{"20", []string{"stale old-cleanup.service"}},
	}
	for _, tc := range tests {
		code, stdout, stderr := runCheckCLI(t, "--repo", repo.Dir, "--rev", head, "--live", snap, "--history", tc.history, "--format", "json")
		r := decodeCheck(t, stdout)
		if diff := cmp.Diff(tc.want, r.kinds()); diff != "" {
			t.Errorf("--history %s: findings (-want +got):\n%s", tc.history, diff)
			continue
		}
		wantCode := exitOK
		if len(tc.want) > 0 {
			wantCode = exitFindings
			if !strings.Contains(r.Findings[0].Detail, "last declared at "+declaredOld[:12]) {
				t.Errorf("--history %s: detail %q does not name %s", tc.history, r.Findings[0].Detail, declaredOld[:12])
			}
		}
		if code != wantCode {
			t.Errorf("--history %s: exit %d, want %d; stderr %q", tc.history, code, wantCode, stderr)
		}
	}
}

// TestCheckShallowClone checks a clone made with --depth, as CI systems
// make them: the stale-unit search stops at the boundary with a note
// instead of failing the check with "object not found" (exit 2).
func TestCheckShallowClone(t *testing.T) {
	t.Parallel()
	origin, _, _ := checkIncidentRepo(t)
	for i := range 3 {
		origin.Commit(fmt.Sprintf("edit %d", i), map[string]string{"nix/modules/other.nix": fmt.Sprintf("{ ... }: { } # %d\n", i)})
	}
	clone := gittest.New(t)
	clone.Git("fetch", "-q", "--depth", "2", "file://"+origin.Dir, "main")
	clone.Git("reset", "-q", "--hard", "FETCH_HEAD")
	if clone.Git("rev-parse", "--is-shallow-repository") != "true" {
		t.Fatal("the clone is not shallow")
	}
	code, stdout, stderr := runCheckCLI(t, "--repo", clone.Dir, "--live", writeSnapshot(t, checkIncidentHost()), "--format", "json")
	if code != exitOK {
		t.Fatalf("exit %d, want %d; stderr %q\n%s", code, exitOK, stderr, stdout)
	}
	notes := strings.Join(decodeCheck(t, stdout).Notes, "\n")
	if !strings.Contains(notes, "shallow clone") {
		t.Errorf("notes %q do not say the history search stopped at the shallow boundary", notes)
	}
}
