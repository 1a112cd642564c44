package nixeval_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/driftcheck/driftcheck/internal/declared"
	"github.com/driftcheck/driftcheck/internal/gitrev"
	"github.com/driftcheck/driftcheck/internal/gitrev/gittest"
	"github.com/driftcheck/driftcheck/internal/nixeval"
	"github.com/driftcheck/driftcheck/internal/nixeval/nixevaltest"
)

// webModule declares what the check compares, in the forms NixOS offers:
// a timer, a service with startAt, Docker's implied prune, a user unit,
// and names computed from data (which the static reader cannot resolve).
const webModule = `{ lib, pkgs, ... }:
let
  jobs = { reports = "hourly"; cleanup = "daily"; };
in
{
  networking.hostName = "web";
  virtualisation.docker.enable = true;

  systemd.services = {
    backup = {
      description = "Nightly backup";
      serviceConfig.Type = "oneshot";
      startAt = "02:30";
    };
    api = {
      wantedBy = [ "multi-user.target" ];
      serviceConfig.ExecStart = "${pkgs.hello}/bin/hello";
    };
    retired.enable = false;
  } // lib.mapAttrs' (n: when: lib.nameValuePair "job-${n}" {
    serviceConfig.Type = "oneshot";
    startAt = when;
  }) jobs;
  systemd.timers.rotate = {
    wantedBy = [ "timers.target" ];
    timerConfig = { OnCalendar = [ "Mon 04:00" "Thu 04:00" ]; Persistent = true; Unit = "logrotate.service"; };
  };

  systemd.user.services.sync = { description = "Sync mail"; wantedBy = [ "default.target" ]; };
}
`

func resolve(t *testing.T, dir, rev string) *gitrev.Revision {
	t.Helper()
	return resolveTB(t, dir, rev)
}

func resolveTB(t testing.TB, dir, rev string) *gitrev.Revision {
	t.Helper()
	return nixevaltest.Revision(t, dir, rev)
}

func unitsByName(res declared.Result) map[string]declared.Unit {
	out := map[string]declared.Unit{}
	for _, u := range res.Units {
		out[string(u.Scope)+"/"+u.Name] = u
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func TestFlakeUnitsAndToplevel(t *testing.T) {
	t.Parallel()
	s := nixevaltest.NewStandin(t)
	repo, sha := s.FlakeRepo(t, map[string]string{"web": "hosts/web.nix", "db": "hosts/db.nix"}, map[string]string{
		"hosts/web.nix": webModule,
		"hosts/db.nix":  `{ ... }: { networking.hostName = "db"; systemd.services.postgres.wantedBy = [ "multi-user.target" ]; }`,
	})
	// The work tree is never read: an uncommitted change must not show.
	repo.Write("hosts/web.nix", strings.Replace(webModule, `"02:30"`, `"03:45"`, 1))

	res, err := nixeval.Evaluate(context.Background(), nixeval.Options{RepoDir: repo.Dir, Rev: resolve(t, repo.Dir, sha), Host: "web", Toplevel: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Mode != nixeval.ModeFlake || res.Source != "nixosConfigurations.web" {
		t.Errorf("mode %q source %q", res.Mode, res.Source)
	}
	got := unitsByName(res.Declared)
	var names []string
	for n := range got {
		names = append(names, n)
	}
	wantNames := []string{
		"system/api.service", "system/backup.service", "system/backup.timer",
		"system/docker-prune.service", "system/docker.service", "system/docker.socket",
		"system/job-cleanup.service", "system/job-cleanup.timer", "system/job-reports.service", "system/job-reports.timer",
		"system/retired.service", "system/rotate.timer", "user/sync.service",
	}
	if diff := cmp.Diff(wantNames, sortStrings(names)); diff != "" {
		t.Errorf("units (-want +got):\n%s", diff)
	}
	checks := map[string]declared.Properties{
		"system/backup.service":       {Enable: ptr(true), WantedBy: []string{}, Description: "Nightly backup", Type: "oneshot"},
		"system/backup.timer":         {Enable: ptr(true), WantedBy: []string{"timers.target"}, OnCalendar: []string{"02:30"}},
		"system/rotate.timer":         {Enable: ptr(true), WantedBy: []string{"timers.target"}, OnCalendar: []string{"Mon 04:00", "Thu 04:00"}, Persistent: ptr(true), Unit: "logrotate.service"},
		"system/retired.service":      {Enable: ptr(false), WantedBy: []string{}},
		"system/docker-prune.service": {Enable: ptr(true), WantedBy: []string{}, Description: "Prune docker resources", Type: "oneshot"},
		"system/job-cleanup.timer":    {Enable: ptr(true), WantedBy: []string{"timers.target"}, OnCalendar: []string{"daily"}},
		"user/sync.service":           {Enable: ptr(true), WantedBy: []string{"default.target"}, Description: "Sync mail"},
	}
	for name, want := range checks {
		if diff := cmp.Diff(want, got[name].Properties); diff != "" {
			t.Errorf("%s properties (-want +got):\n%s", name, diff)
		}
	}
	if len(res.Declared.Unresolved) != 0 {
		t.Errorf("unresolved: %+v", res.Declared.Unresolved)
	}
	if !strings.HasPrefix(res.Toplevel, "/nix/store/") || !strings.HasSuffix(res.Toplevel, "-nixos-system-web") || res.ToplevelErr != nil {
		t.Errorf("toplevel %q, %v", res.Toplevel, res.ToplevelErr)
	}
	t.Logf("flake evaluation of web with its toplevel: %s", res.Duration)

	// The other host of the same revision is another configuration.
	db, err := nixeval.Evaluate(context.Background(), nixeval.Options{RepoDir: repo.Dir, Rev: resolve(t, repo.Dir, sha), Host: "db", Toplevel: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := unitsByName(db.Declared)["system/postgres.service"]; !ok || len(db.Declared.Units) != 1 {
		t.Errorf("db units: %+v", db.Declared.Units)
	}
	if db.Toplevel == res.Toplevel || !strings.HasSuffix(db.Toplevel, "-nixos-system-db") {
		t.Errorf("db toplevel %q, web %q", db.Toplevel, res.Toplevel)
	}
}

func sortStrings(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// The toplevel is what the revision builds: the same configuration gives
// the same store path at another commit, a changed unit another one.
func TestToplevelFollowsTheConfiguration(t *testing.T) {
	t.Parallel()
	s := nixevaltest.NewStandin(t)
	repo, first := s.FlakeRepo(t, map[string]string{"web": "web.nix"}, map[string]string{"web.nix": webModule})
	same := repo.Commit("docs only", map[string]string{"README.md": "web host\n"})
	changed := repo.Commit("backup later", map[string]string{"web.nix": strings.Replace(webModule, `"02:30"`, `"03:45"`, 1)})
	toplevel := func(sha string) string {
		res, err := nixeval.Evaluate(context.Background(), nixeval.Options{RepoDir: repo.Dir, Rev: resolve(t, repo.Dir, sha), Host: "web", Toplevel: true})
		if err != nil {
			t.Fatal(err)
		}
		return res.Toplevel
	}
	a, b, c := toplevel(first), toplevel(same), toplevel(changed)
	if a != b {
		t.Errorf("same configuration, different toplevels: %s, %s", a, b)
	}
	if a == c {
		t.Errorf("changed backup calendar, same toplevel %s", a)
	}
}

// The incident's module conflicts with NixOS's own docker-prune.service:
// unit names evaluate, the description and the toplevel do not. Each
// failure is reported for what it is.
func TestConflictingDefinitionFailsToplevelNotUnits(t *testing.T) {
	t.Parallel()
	s := nixevaltest.NewStandin(t)
	incident, err := os.ReadFile("../../examples/incident/rev1/nix/modules/docker-prune.nix")
	if err != nil {
		t.Fatal(err)
	}
	repo, sha := s.FlakeRepo(t, map[string]string{"ci": "nix/modules/docker-prune.nix"}, map[string]string{"nix/modules/docker-prune.nix": string(incident)})
	res, err := nixeval.Evaluate(context.Background(), nixeval.Options{RepoDir: repo.Dir, Rev: resolve(t, repo.Dir, sha), Host: "ci", Toplevel: true})
	if err != nil {
		t.Fatal(err)
	}
	var e *nixeval.Error
	if res.Toplevel != "" || !errors.As(res.ToplevelErr, &e) || e.CannotStart || !strings.Contains(e.Nix, "conflicting definition values") {
		t.Errorf("toplevel %q, error %v; want a conflicting-definition failure", res.Toplevel, res.ToplevelErr)
	}
	if strings.Contains(e.Error(), "\n") {
		t.Errorf("error is not one line: %q", e.Error())
	}
	got := unitsByName(res.Declared)
	if _, ok := got["system/docker-prune.timer"]; !ok {
		t.Errorf("docker-prune.timer not evaluated: %v", got)
	}
	if len(res.Declared.Unresolved) != 1 || res.Declared.Unresolved[0].Unit != "docker-prune.service" || !strings.Contains(res.Declared.Unresolved[0].Reason, "description") {
		t.Errorf("unresolved: %+v; want the description of docker-prune.service", res.Declared.Unresolved)
	}
}

func TestNonFlakeWithNixpkgsOnNixPath(t *testing.T) {
	t.Parallel()
	s := nixevaltest.NewStandin(t)
	repo := gittest.New(t)
	sha := repo.Commit("configuration", map[string]string{
		"configuration.nix":   "{ ... }: { imports = [ ./services/backup.nix ]; networking.hostName = \"box\"; }\n",
		"services/backup.nix": "{ ... }: { systemd.services.backup = { startAt = \"daily\"; description = \"Backup\"; }; }\n",
	})
	repo.Write("services/backup.nix", "{ ... }: { systemd.services.uncommitted = { }; }\n")

	res, err := nixeval.Evaluate(context.Background(), nixeval.Options{RepoDir: repo.Dir, Rev: resolve(t, repo.Dir, sha), Toplevel: true, Env: s.NixPathEnv()})
	if err != nil {
		t.Fatal(err)
	}
	got := unitsByName(res.Declared)
	if res.Mode != nixeval.ModeNixOS || len(got) != 2 || got["system/backup.timer"].Properties.OnCalendar[0] != "daily" {
		t.Errorf("mode %s units %+v", res.Mode, res.Declared.Units)
	}
	if !strings.HasSuffix(res.Toplevel, "-nixos-system-box") {
		t.Errorf("toplevel %q (%v)", res.Toplevel, res.ToplevelErr)
	}
	t.Logf("non-flake evaluation with its toplevel: %s", res.Duration)

	// Without <nixpkgs>, evaluation cannot start.
	_, err = nixeval.Evaluate(context.Background(), nixeval.Options{RepoDir: repo.Dir, Rev: resolve(t, repo.Dir, sha), Env: []string{"NIX_PATH=", "PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}})
	var e *nixeval.Error
	if !errors.As(err, &e) || !e.CannotStart || !strings.Contains(e.Error(), "<nixpkgs>") {
		t.Errorf("no <nixpkgs>: %v; want cannot start naming <nixpkgs>", err)
	}
}

func TestCannotStart(t *testing.T) {
	t.Parallel()
	s := nixevaltest.NewStandin(t)
	flake, sha := s.FlakeRepo(t, map[string]string{"web": "web.nix"}, map[string]string{"web.nix": webModule})
	plain := gittest.New(t)
	plainSHA := plain.Commit("no configuration", map[string]string{"modules/a.nix": "{ }"})
	cases := []struct {
		name string
		opts nixeval.Options
		want string
	}{
		{"flake without host", nixeval.Options{RepoDir: flake.Dir, Rev: resolve(t, flake.Dir, sha)}, "name the host"},
		{"unknown host", nixeval.Options{RepoDir: flake.Dir, Rev: resolve(t, flake.Dir, sha), Host: "mail"}, "its hosts: web"},
		{"bad host name", nixeval.Options{RepoDir: flake.Dir, Rev: resolve(t, flake.Dir, sha), Host: `a"b`}, "not a NixOS host name"},
		{"nothing to evaluate", nixeval.Options{RepoDir: plain.Dir, Rev: resolve(t, plain.Dir, plainSHA)}, "no configuration.nix"},
	}
	for _, c := range cases {
		_, err := nixeval.Evaluate(context.Background(), c.opts)
		var e *nixeval.Error
		if !errors.As(err, &e) || !e.CannotStart || !strings.Contains(e.Error(), c.want) {
			t.Errorf("%s: %v; want cannot start with %q", c.name, err, c.want)
		}
	}
}

// failed runs an evaluation that must fail for the host (not "cannot
// start") with a message containing want.
func failed(t *testing.T, opts nixeval.Options, want string) *nixeval.Error {
	t.Helper()
	start := time.Now()
	res, err := nixeval.Evaluate(context.Background(), opts)
	var e *nixeval.Error
	if !errors.As(err, &e) || e.CannotStart || res != nil {
		t.Fatalf("got %v, %v; want an evaluation failure", res, err)
	}
	if !strings.Contains(e.Error(), want) {
		t.Errorf("error %q; want it to contain %q", e.Error(), want)
	}
	if strings.ContainsAny(e.Error(), "\n\r") {
		t.Errorf("error is not one line: %q", e.Error())
	}
	t.Logf("failed after %s: %s", time.Since(start).Round(time.Millisecond), e)
	return e
}

func TestNoLockFile(t *testing.T) {
	t.Parallel()
	s := nixevaltest.NewStandin(t)
	repo := gittest.New(t)
	sha := repo.Commit("unlocked", map[string]string{"flake.nix": s.HostFlake(map[string]string{"web": "web.nix"}), "web.nix": webModule})
	failed(t, nixeval.Options{RepoDir: repo.Dir, Rev: resolve(t, repo.Dir, sha), Host: "web"}, "the revision has no lock file")
}

func TestEvaluationError(t *testing.T) {
	t.Parallel()
	s := nixevaltest.NewStandin(t)
	repo, sha := s.FlakeRepo(t, map[string]string{"web": "web.nix"}, map[string]string{
		"web.nix": "{ ... }: { systemd.services.api.wantedBy = [ \"multi-user.target\" ]; systemd.services.api.serviceConfig.Type = 42 + \"x\"; services.unknown = true; }\n",
	})
	e := failed(t, nixeval.Options{RepoDir: repo.Dir, Rev: resolve(t, repo.Dir, sha), Host: "web", Toplevel: true}, "evaluation failed")
	if !strings.Contains(e.Nix, "services.unknown") && !strings.Contains(e.Nix, "does not exist") {
		t.Errorf("Nix message %q does not name the undefined option", e.Nix)
	}
}

func TestMissingInput(t *testing.T) {
	t.Parallel()
	s := nixevaltest.NewStandin(t)
	// A stand-in of its own (a unique marker makes its store path unique),
	// so that deleting it from the store affects no other test.
	marker := filepath.Join(s.Flake, "marker")
	if err := os.WriteFile(marker, []byte(t.Name()+time.Now().String()), 0o644); err != nil {
		t.Fatal(err)
	}
	repo, sha := s.FlakeRepo(t, map[string]string{"web": "web.nix"}, map[string]string{"web.nix": webModule})
	// The store path the lock file's input resolves to.
	out, err := exec.Command("nix", append(nixevaltest.NixFlags, "flake", "archive", "--dry-run", "--json", "git+file://"+repo.Dir)...).Output()
	if err != nil {
		t.Fatal(err)
	}
	var archive struct {
		Inputs map[string]struct{ Path string } `json:"inputs"`
	}
	if err := json.Unmarshal(out, &archive); err != nil {
		t.Fatal(err)
	}
	storePath := archive.Inputs["nixpkgs"].Path
	if !strings.HasPrefix(storePath, "/nix/store/") {
		t.Fatalf("no store path for input nixpkgs in %s", out)
	}
	if err := os.RemoveAll(s.Flake); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("nix", append(nixevaltest.NixFlags, "store", "delete", storePath)...).CombinedOutput(); err != nil {
		t.Fatalf("nix store delete %s: %v: %s", storePath, err, out)
	}
	failed(t, nixeval.Options{RepoDir: repo.Dir, Rev: resolve(t, repo.Dir, sha), Host: "web", Timeout: 30 * time.Second}, "a flake input is not in the store")
}

func TestTimeoutKillsTheEvaluation(t *testing.T) {
	t.Parallel()
	s := nixevaltest.NewStandin(t)
	// Ten billion additions: hours of evaluation in constant memory.
	slow := `{ ... }: { networking.hostName = toString (builtins.foldl' (a: i: builtins.foldl' (b: j: b + 1) a (builtins.genList (x: x) 100000)) 0 (builtins.genList (x: x) 100000)); }` + "\n"
	repo, sha := s.FlakeRepo(t, map[string]string{"web": "web.nix"}, map[string]string{"web.nix": slow})
	start := time.Now()
	failed(t, nixeval.Options{RepoDir: repo.Dir, Rev: resolve(t, repo.Dir, sha), Host: "web", Toplevel: true, Timeout: 2 * time.Second}, "timed out after 2s")
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("a 2 s timeout took %s", d)
	}
}

func TestMemoryCeiling(t *testing.T) {
	t.Parallel()
	s := nixevaltest.NewStandin(t)
	hungry := `{ ... }: { systemd.services.api.description = toString (builtins.length (builtins.genList toString 200000000)); }` + "\n"
	repo, sha := s.FlakeRepo(t, map[string]string{"web": "web.nix"}, map[string]string{"web.nix": hungry})
	failed(t, nixeval.Options{RepoDir: repo.Dir, Rev: resolve(t, repo.Dir, sha), Host: "web", Toplevel: true, MemoryLimit: 768 << 20, Timeout: 60 * time.Second}, "out of memory")
}
