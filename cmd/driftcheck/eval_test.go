package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/driftcheck/driftcheck/internal/live"
	"github.com/driftcheck/driftcheck/internal/nixeval"
	"github.com/driftcheck/driftcheck/internal/nixeval/nixevaltest"
	"github.com/driftcheck/driftcheck/internal/sdsandbox"
)

// evalIncidentRepo is the incident repository written as a flake with one
// host, ci, on the NixOS stand-in: rev A the committed docker-prune
// module, rev B the reconciling ci-docker-prune one.
func evalIncidentRepo(t *testing.T) (dir, revA, revB string) {
	t.Helper()
	read := func(p string) string {
		data, err := os.ReadFile(filepath.Join("../../examples/incident", p))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	s := nixevaltest.NewStandin(t)
	repo, revA := s.FlakeRepo(t, map[string]string{"ci": "nix/host.nix"}, map[string]string{
		"nix/host.nix":                 "{ ... }: { imports = [ ./modules/docker-prune.nix ]; }\n",
		"nix/modules/docker-prune.nix": read("rev1/nix/modules/docker-prune.nix"),
	})
	repo.Remove("nix/modules/docker-prune.nix")
	revB = repo.Commit("rename the prune to ci-docker-prune", map[string]string{
		"nix/host.nix":                    "{ ... }: { imports = [ ./modules/ci-docker-prune.nix ]; }\n",
		"nix/modules/ci-docker-prune.nix": read("rev2/nix/modules/ci-docker-prune.nix"),
	})
	return repo.Dir, revA, revB
}

// evalIncidentHost is the incident's host as a NixOS host with Docker
// runs it: the incident's units plus docker.service and docker.socket.
func evalIncidentHost() live.Snapshot {
	snap := checkIncidentHost()
	snap.Scope = []string{"*docker*"}
	snap.Units = append(snap.Units,
		live.Unit{Name: "docker.service", LoadState: "loaded", ActiveState: "active", SubState: "running", UnitFileState: "enabled"},
		live.Unit{Name: "docker.socket", LoadState: "loaded", ActiveState: "active", SubState: "running", UnitFileState: "enabled"},
	)
	return snap
}

func driftFindings(r checkJSON) []string {
	var out []string
	for _, f := range r.Findings {
		if f.Severity == "drift" {
			out = append(out, f.Kind+" "+f.Unit+"->"+f.LiveUnit)
		}
	}
	return out
}

// check --declared eval on the incident repository finds what the static
// reader finds. Where NixOS itself rejects the committed module (its
// docker-prune.service description conflicts with NixOS's own), the
// evaluation says so instead of comparing a description no build has.
func TestCheckEvalIncidentFlake(t *testing.T) {
	t.Parallel()
	dir, revA, revB := evalIncidentRepo(t)
	snap := writeSnapshot(t, evalIncidentHost())
	check := func(rev, mode string, wantCode int) checkJSON {
		t.Helper()
		code, stdout, stderr := runCheckCLI(t, "--repo", dir, "--rev", rev, "--live", snap, "--format", "json", "--declared", mode, "--host", "ci")
		if code != wantCode {
			t.Fatalf("%s at %.7s: exit %d, want %d; stderr %q\n%s", mode, rev, code, wantCode, stderr, stdout)
		}
		r := decodeCheck(t, stdout)
		if r.Declared != mode {
			t.Errorf("declared %q, want %q", r.Declared, mode)
		}
		return r
	}

	static, eval := check(revA, "static", exitFindings), check(revA, "eval", exitFindings)
	want := []string{
		"renamed docker-prune.service->ci-docker-prune.service",
		"renamed docker-prune.timer->ci-docker-prune.timer",
	}
	if diff := cmp.Diff(want, driftFindings(static)); diff != "" {
		t.Errorf("static drift findings (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(driftFindings(static), driftFindings(eval)); diff != "" {
		t.Errorf("eval drift findings differ from static (-static +eval):\n%s", diff)
	}
	var extra []string
	for _, f := range eval.Findings {
		if f.Severity != "drift" {
			extra = append(extra, f.Kind+" "+f.Unit)
			if !strings.Contains(f.Detail, "description") && !strings.Contains(f.Detail, "conflicting definition") {
				t.Errorf("%s %s: %q does not name the conflict", f.Kind, f.Unit, f.Detail)
			}
		}
	}
	if diff := cmp.Diff([]string{"unresolved docker-prune.service", "toplevel "}, extra); diff != "" {
		t.Errorf("eval's findings beyond static (-want +got):\n%s", diff)
	}
	if eval.Toplevel == nil || eval.Toplevel.Revision != "" || !strings.Contains(eval.Toplevel.Error, "conflicting definition values") {
		t.Errorf("toplevel %+v: want the conflict as its error", eval.Toplevel)
	}
	// The findings point at the module, as static ones do.
	if eval.Findings[0].DeclaredAt != static.Findings[0].DeclaredAt {
		t.Errorf("declared_at %q, static %q", eval.Findings[0].DeclaredAt, static.Findings[0].DeclaredAt)
	}

	// The reconciled revision is in sync either way.
	for _, mode := range []string{"static", "eval", "both"} {
		r := check(revB, mode, exitOK)
		if r.Verdict != "in-sync" {
			t.Errorf("%s: %s %v", mode, r.Verdict, r.kinds())
		}
		if mode == "both" && len(r.Fidelity) != 2 {
			// docker.service and docker.socket come from NixOS's Docker
			// module, which the static reader does not read.
			t.Errorf("fidelity %+v: want docker.service and docker.socket", r.Fidelity)
		}
	}
}

// The system's identity: a sandbox host whose /run/current-system is the
// revision's toplevel runs exactly that revision; the next revision,
// same units but another system, does not.
func TestCheckEvalToplevelIdentity(t *testing.T) {
	t.Parallel()
	s := nixevaltest.NewStandin(t)
	module := "{ ... }: { networking.hostName = \"%s\"; systemd.services.api = { wantedBy = [ \"multi-user.target\" ]; serviceConfig.Type = \"simple\"; }; }\n"
	repo, revA := s.FlakeRepo(t, map[string]string{"web": "nix/web.nix"}, map[string]string{"nix/web.nix": strings.Replace(module, "%s", "web", 1)})
	revB := repo.Commit("another system, same units", map[string]string{"nix/web.nix": strings.Replace(module, "%s", "web2", 1)})

	toplevelA := evalToplevel(t, repo.Dir, revA, "web")
	sb := sdsandbox.New(t, sdsandbox.Options{Layout: sdsandbox.NixOSLike, Units: []sdsandbox.Unit{
		{Name: "api.service", Content: sbLongRunning, WantedBy: []string{"multi-user.target"}, Store: true},
	}})
	current := filepath.Join(sb.RootFS(), "run/current-system")
	if err := os.Symlink(toplevelA, current); err != nil {
		t.Fatal(err)
	}
	args := func(rev string, extra ...string) []string {
		return append([]string{"--repo", repo.Dir, "--rev", rev, "--bus-address=" + sb.BusAddress(), "--declared", "eval", "--host", "web", "--current-system", current}, extra...)
	}

	code, stdout, stderr := runCheckCLI(t, args(revA, "--format", "json")...)
	if code != exitOK {
		t.Fatalf("rev A: exit %d; stderr %q\n%s", code, stderr, stdout)
	}
	r := decodeCheck(t, stdout)
	if r.Toplevel == nil || !r.Toplevel.Match || r.Toplevel.Host != toplevelA || r.Toplevel.Revision != toplevelA || r.Toplevel.CurrentSystem != current {
		t.Errorf("toplevel %+v; want a match on %s", r.Toplevel, toplevelA)
	}
	_, text, _ := runCheckCLI(t, args(revA)...)
	if first, _, _ := strings.Cut(text, "\n"); !strings.HasPrefix(first, "toplevel: the host runs exactly what") || !strings.Contains(first, toplevelA) {
		t.Errorf("first line %q: want the toplevel match", first)
	}

	code, stdout, stderr = runCheckCLI(t, args(revB, "--format", "json")...)
	if code != exitOK {
		t.Fatalf("rev B: exit %d (a toplevel finding is a warning); stderr %q\n%s", code, stderr, stdout)
	}
	r = decodeCheck(t, stdout)
	if diff := cmp.Diff([]string{"toplevel "}, r.kinds()); diff != "" {
		t.Errorf("rev B findings (-want +got):\n%s", diff)
	}
	if r.Toplevel == nil || r.Toplevel.Match || r.Toplevel.Host != toplevelA || r.Toplevel.Revision == "" || r.Toplevel.Revision == toplevelA {
		t.Errorf("toplevel %+v: want both store paths, different", r.Toplevel)
	}
	if len(r.Findings) == 1 && (!strings.Contains(r.Findings[0].Detail, toplevelA) || !strings.Contains(r.Findings[0].Detail, r.Toplevel.Revision)) {
		t.Errorf("detail %q: want both store paths", r.Findings[0].Detail)
	}
	if code, stdout, _ := runCheckCLI(t, args(revB, "--strict")...); code != exitFindings {
		t.Errorf("rev B --strict: exit %d, want %d\n%s", code, exitFindings, stdout)
	}
}

func evalToplevel(t *testing.T, dir, rev, host string) string {
	t.Helper()
	res, err := nixeval.Evaluate(context.Background(), nixeval.Options{RepoDir: dir, Rev: nixevaltest.Revision(t, dir, rev), Host: host, Toplevel: true})
	if err != nil {
		t.Fatalf("evaluate %s: %v", host, err)
	}
	if res.Toplevel == "" {
		t.Fatalf("evaluate %s: no toplevel: %v", host, res.ToplevelErr)
	}
	return res.Toplevel
}

// both on a module whose unit names are computed from data: the static
// reader cannot resolve them, the evaluation can, and every disagreement
// is listed with the static reader's reason.
func TestUnitsBothListsFidelity(t *testing.T) {
	t.Parallel()
	s := nixevaltest.NewStandin(t)
	repo, rev := s.FlakeRepo(t, map[string]string{"web": "nix/web.nix"}, map[string]string{"nix/web.nix": `{ config, lib, ... }:
let
  jobs = builtins.fromJSON (builtins.readFile ./jobs.json);
in
{
  systemd.services = lib.listToAttrs (map (n: lib.nameValuePair "job-${n}" { serviceConfig.Type = "oneshot"; }) jobs)
    // { api.wantedBy = [ "multi-user.target" ]; };
  systemd.timers.rotate = lib.mkIf (config.networking.hostName == "db") { timerConfig.OnCalendar = "daily"; };
}
`, "nix/jobs.json": `["reports", "cleanup"]`})
	code, stdout, stderr := runCLI(t, "units", "--repo", repo.Dir, "--rev", rev, "--declared", "both", "--host", "web", "--format", "json")
	if code != exitOK {
		t.Fatalf("exit %d; stderr %q\n%s", code, stderr, stdout)
	}
	var r struct {
		Evaluated string `json:"evaluated"`
		Units     []struct {
			Name string `json:"name"`
		} `json:"units"`
		RawFidelity []map[string]string `json:"fidelity"`
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range r.Units {
		names = append(names, u.Name)
	}
	if diff := cmp.Diff([]string{"api.service", "job-cleanup.service", "job-reports.service"}, names); diff != "" {
		t.Errorf("units (-want +got):\n%s", diff)
	}
	got := map[string]map[string]string{}
	for _, f := range r.RawFidelity {
		got[f["kind"]+" "+f["unit"]] = f
	}
	for _, k := range []string{"static-missed job-reports.service", "static-missed job-cleanup.service", "static-extra rotate.timer"} {
		if got[k] == nil || got[k]["static_reason"] == "" {
			t.Errorf("fidelity lacks %q with the static reader's reason: %v", k, r.RawFidelity)
		}
	}
	if len(r.RawFidelity) != 3 {
		t.Errorf("fidelity %v: want exactly the three disagreements", r.RawFidelity)
	}
	if !strings.Contains(got["static-extra rotate.timer"]["static_reason"], "condition") {
		t.Errorf("rotate.timer reason %q: want the condition", got["static-extra rotate.timer"]["static_reason"])
	}

	_, text, _ := runCLI(t, "units", "--repo", repo.Dir, "--rev", rev, "--declared", "both", "--host", "web")
	if !strings.Contains(text, "evaluated nixosConfigurations.web with Nix") || !strings.Contains(text, "fidelity: the static reader and the evaluation disagree on 3 units") {
		t.Errorf("text report:\n%s", text)
	}
}

// Exit codes: evaluation that cannot start is 2, one that fails for the
// host is 3; both with Nix's message on one line.
func TestEvalExitCodes(t *testing.T) {
	t.Parallel()
	s := nixevaltest.NewStandin(t)
	broken, brokenRev := s.FlakeRepo(t, map[string]string{"web": "nix/web.nix"}, map[string]string{
		"nix/web.nix": "{ ... }: { systemd.services.api = { wantedBy = [ \"multi-user.target\" ]; }; services.nginx.enable = true; }\n",
	})
	snap := writeSnapshot(t, evalIncidentHost())
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"evaluation error", []string{"check", "--repo", broken.Dir, "--rev", brokenRev, "--live", snap, "--declared", "eval", "--host", "web"}, exitIncomplete, "The option `services' does not exist"},
		{"units: evaluation error", []string{"units", "--repo", broken.Dir, "--rev", brokenRev, "--declared", "eval", "--host", "web"}, exitIncomplete, "evaluation failed"},
		// A one-host repository needs no --host (docs/hosts.md): the only
		// host is evaluated.
		{"no host: the only one", []string{"check", "--repo", broken.Dir, "--rev", brokenRev, "--live", snap, "--declared", "eval"}, exitIncomplete, "evaluate host web"},
		{"unknown host", []string{"snapshot", "--repo", broken.Dir, "--rev", brokenRev, "--declared", "eval", "--host", "db"}, exitCannotRun, "the repository defines web"},
		{"bad mode", []string{"check", "--repo", broken.Dir, "--live", snap, "--declared", "exact"}, exitCannotRun, "want static, eval or both"},
		{"timeout", []string{"check", "--repo", broken.Dir, "--live", snap, "--declared", "eval", "--host", "web", "--eval-timeout", "1ns"}, exitIncomplete, "timed out"},
	}
	for _, c := range cases {
		code, stdout, stderr := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%s: exit %d, stderr %q; want exit %d and one line with %q\n%s", c.name, code, stderr, c.code, c.want, stdout)
		}
	}
}
