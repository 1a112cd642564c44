package reconcile

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/driftcheck/driftcheck/internal/declared"
	"github.com/driftcheck/driftcheck/internal/gitrev"
	"github.com/driftcheck/driftcheck/internal/live"
	"github.com/driftcheck/driftcheck/internal/modules"
	"github.com/driftcheck/driftcheck/internal/testreq"
	"github.com/driftcheck/driftcheck/internal/unitdiff"
)

const testRev = "4ca2dde2916de067705ef023048aa95f2bc213f3"

// host is a live host in the test's terms: one entry per unit.
type hostUnit struct {
	name, description string
	calendar          []string // timers
}

func snapshotOf(units []hostUnit) live.Snapshot {
	s := live.Snapshot{Schema: live.SnapshotSchema, Scope: []string{"*"}}
	for _, u := range units {
		lu := live.Unit{Name: u.name, LoadState: "loaded", ActiveState: "inactive", UnitFileState: "linked", Description: u.description}
		if declared.UnitType(u.name) == "timer" {
			lu.ActiveState, lu.UnitFileState = "active", "enabled"
			lu.Timer = &live.Timer{Calendar: u.calendar, Unit: unitBase(u.name) + ".service", Persistent: true}
		}
		s.Units = append(s.Units, lu)
	}
	return s
}

func filesOf(files map[string]string) []gitrev.File {
	var out []gitrev.File
	for p, c := range files {
		out = append(out, gitrev.File{Path: p, Data: []byte(c)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// checkInput is what a check of the files against the host compares.
func checkInput(files []gitrev.File, host []hostUnit) *unitdiff.Input {
	return &unitdiff.Input{Rev: testRev, Declared: modules.Extract(files), Live: snapshotOf(host)}
}

// planFor plans --to git for files against host, verified.
func planFor(t *testing.T, files map[string]string, host []hostUnit) *Plan {
	t.Helper()
	fs := filesOf(files)
	facts := checkInput(fs, host)
	p, err := Make(Input{To: ToGit, Rev: testRev, Findings: unitdiff.Compare(*facts), Files: fs, Facts: facts})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// planned is the tree after the plan.
func planned(files map[string]string, p *Plan) map[string]string {
	out := map[string]string{}
	for k, v := range files {
		out[k] = v
	}
	for _, f := range p.Files {
		if f.Change == unitdiff.ChangeDeleted {
			delete(out, f.Path)
		} else {
			out[f.Path] = string(f.New)
		}
	}
	return out
}

func unitNames(files map[string]string) []string {
	var names []string
	for _, u := range modules.Extract(filesOf(files)).Units {
		if u.Scope == declared.ScopeSystem && u.ImpliedBy == "" {
			names = append(names, u.Name)
		}
	}
	sort.Strings(names)
	return slices.Compact(names)
}

// nixParse checks a file with the oracle, nix-instantiate --parse.
func nixParse(t *testing.T, path, src string) {
	t.Helper()
	nix := testreq.Command(t, "nix-instantiate", "nix-bin")
	cmd := exec.Command(nix, "--parse", "-")
	cmd.Stdin = strings.NewReader(src)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Errorf("nix-instantiate --parse %s: %v: %s\n%s", path, err, stderr.String(), src)
	}
}

var pruneHost = []hostUnit{
	{name: "ci-docker-prune.service", description: "Prune unused Docker data"},
	{name: "ci-docker-prune.timer", calendar: []string{"*-*-* 00:00:00"}},
}

func TestRenameForms(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		want  map[string][]string // file -> substrings the planned file holds
	}{{
		name: "flat paths",
		files: map[string]string{"m.nix": `{ pkgs, ... }:
{
  # the prune
  systemd.services.docker-prune = {
    description = "Prune unused Docker data";
    serviceConfig.Type = "oneshot"; # one shot
  };
  systemd.timers.docker-prune.timerConfig = { OnCalendar = "daily"; Persistent = true; };
}
`},
		want: map[string][]string{"m.nix": {"  # the prune\n  systemd.services.ci-docker-prune = {", `serviceConfig.Type = "oneshot"; # one shot`, "systemd.timers.ci-docker-prune.timerConfig"}},
	}, {
		name: "nested sets and config",
		files: map[string]string{"m.nix": `{
  config = {
    systemd = {
      services = {
        docker-prune = { description = "Prune unused Docker data"; };
      };
      timers.docker-prune = { timerConfig.OnCalendar = "daily"; timerConfig.Persistent = true; };
    };
  };
}
`},
		want: map[string][]string{"m.nix": {"        ci-docker-prune = {", "timers.ci-docker-prune = {"}},
	}, {
		name: "let bindings and mkMerge",
		files: map[string]string{"m.nix": `{ lib, ... }:
let
  name = "docker-prune";
  timer = {
    systemd.timers.docker-prune.timerConfig = { OnCalendar = "daily"; Persistent = true; };
  };
in
lib.mkMerge [
  timer
  { systemd.services.${name}.description = "Prune unused Docker data"; }
]
`},
		want: map[string][]string{"m.nix": {`systemd.timers.ci-docker-prune.timerConfig`, `name = "ci-docker-prune";`, `{ systemd.services.${name}.description`}},
	}, {
		name: "a let binding also used elsewhere stays",
		files: map[string]string{"m.nix": `let name = "docker-prune"; in
{
  systemd.services.${name}.description = "Prune unused Docker data";
  systemd.timers.${name}.timerConfig = { OnCalendar = "daily"; Persistent = true; };
  environment.etc.${name}.text = "";
}
`},
		want: map[string][]string{"m.nix": {`let name = "docker-prune"; in`, `systemd.services.ci-docker-prune.description`, `systemd.timers.ci-docker-prune.timerConfig`}},
	}, {
		name: "a let binding naming a timer and its service",
		files: map[string]string{"m.nix": `let
  name = "docker-prune"; # both units
in
{
  systemd.services.${name}.description = "Prune unused Docker data";
  systemd.timers.${name}.timerConfig = { OnCalendar = "daily"; Persistent = true; };
}
`},
		want: map[string][]string{"m.nix": {`name = "ci-docker-prune"; # both units`, `systemd.services.${name}.description`, `systemd.timers.${name}.timerConfig`}},
	}, {
		name: "mkIf",
		files: map[string]string{"m.nix": `{ config, lib, ... }:
{
  config = lib.mkIf config.virtualisation.docker.enable {
    systemd.services.docker-prune.description = "Prune unused Docker data";
    systemd.timers.docker-prune = lib.mkDefault { timerConfig = { OnCalendar = "daily"; Persistent = true; }; };
  };
}
`},
		want: map[string][]string{"m.nix": {"systemd.services.ci-docker-prune.description", "systemd.timers.ci-docker-prune = lib.mkDefault"}},
	}, {
		name: "quoted names",
		files: map[string]string{"m.nix": `{
  systemd.services."docker-prune" = { description = "Prune unused Docker data"; };
  systemd."timers"."docker-prune".timerConfig = { OnCalendar = "daily"; Persistent = true; };
}
`},
		want: map[string][]string{"m.nix": {`systemd.services.ci-docker-prune = {`, `systemd."timers".ci-docker-prune.timerConfig`}},
	}, {
		name: "several files",
		files: map[string]string{
			"a.nix": "{ systemd.services.docker-prune.description = \"Prune unused Docker data\"; }\n",
			"b.nix": "{ systemd.services.docker-prune.serviceConfig.Nice = 10; }\n",
			"c.nix": "{ systemd.timers.docker-prune.timerConfig = { OnCalendar = \"daily\"; Persistent = true; }; }\n",
		},
		want: map[string][]string{
			"a.nix": {"systemd.services.ci-docker-prune.description"},
			"b.nix": {"systemd.services.ci-docker-prune.serviceConfig.Nice = 10;"},
			"c.nix": {"systemd.timers.ci-docker-prune.timerConfig"},
		},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := planFor(t, tc.files, pruneHost)
			if len(p.Left) != 0 || !p.Verified || p.ExitCode() != ExitPlanned {
				t.Fatalf("left %+v, verified %v, exit %d", p.Left, p.Verified, p.ExitCode())
			}
			after := planned(tc.files, p)
			if got, want := unitNames(after), []string{"ci-docker-prune.service", "ci-docker-prune.timer"}; !slices.Equal(got, want) {
				t.Errorf("units after the plan: %v, want %v", got, want)
			}
			for file, subs := range tc.want {
				for _, s := range subs {
					if !strings.Contains(after[file], s) {
						t.Errorf("%s after the plan lacks %q:\n%s", file, s, after[file])
					}
				}
			}
			for _, f := range p.Files {
				nixParse(t, f.Path, string(f.New))
			}
			for _, s := range p.Steps {
				if len(s.Ends) == 0 {
					t.Errorf("step %q ends no finding", s.Detail)
				}
			}
		})
	}
}

func TestRenameQuotesNamesThatNeedIt(t *testing.T) {
	files := map[string]string{"m.nix": "{\n  systemd.services.worker = { description = \"w\"; }; # keep\n}\n"}
	fs := filesOf(files)
	f := unitdiff.Finding{Kind: unitdiff.KindRenamed, Unit: "worker.service", LiveUnit: "worker@.service", DeclaredAt: "m.nix:2", Severity: unitdiff.SeverityDrift}
	p, err := Make(Input{To: ToGit, Rev: testRev, Findings: []unitdiff.Finding{f}, Files: fs})
	if err != nil {
		t.Fatal(err)
	}
	after := planned(files, p)
	if want := "{\n  systemd.services.\"worker@\" = { description = \"w\"; }; # keep\n}\n"; after["m.nix"] != want {
		t.Errorf("got\n%s\nwant\n%s", after["m.nix"], want)
	}
	if p.Verified || len(p.Notes) == 0 {
		t.Errorf("a plan without the check's facts must say it is not verified: %+v", p)
	}
	nixParse(t, "m.nix", after["m.nix"])
	for name, want := range map[string]string{"a": "a", "foo@": `"foo@"`, "a.b": `"a.b"`, "in": `"in"`, "x${y}": `"x\${y}"`, "it's": "it's"} {
		if got := attrName(name); got != want {
			t.Errorf("attrName(%q) = %s, want %s", name, got, want)
		}
	}
}

func TestSetPropertyWritesTheHostValueAtTheLiteral(t *testing.T) {
	files := map[string]string{"m.nix": `{
  systemd.services.backup.description = "Back up";
  systemd.timers.backup = {
    wantedBy = [ "timers.target" ];
    timerConfig = {
      OnCalendar = "weekly"; # was daily once
      Persistent = true;
    };
  };
}
`}
	host := []hostUnit{
		{name: "backup.service", description: `Back up "all" data`},
		{name: "backup.timer", calendar: []string{"*-*-* 00:00:00"}},
	}
	p := planFor(t, files, host)
	if len(p.Left) != 0 {
		t.Fatalf("left: %+v", p.Left)
	}
	after := planned(files, p)["m.nix"]
	for _, s := range []string{`description = "Back up \"all\" data";`, `OnCalendar = "*-*-* 00:00:00"; # was daily once`} {
		if !strings.Contains(after, s) {
			t.Errorf("planned file lacks %q:\n%s", s, after)
		}
	}
	nixParse(t, "m.nix", after)
}

func TestComputedValueIsLeftForAPerson(t *testing.T) {
	files := map[string]string{"m.nix": `{ lib, ... }:
let when = "weekly"; in
{
  systemd.services.backup.description = "Back up";
  systemd.timers.backup = {
    wantedBy = [ "timers.target" ];
    timerConfig.OnCalendar = when;
  };
}
`}
	host := []hostUnit{{name: "backup.service", description: "Back up"}, {name: "backup.timer", calendar: []string{"*-*-* 00:00:00"}}}
	p := planFor(t, files, host)
	if len(p.Left) != 1 || p.Left[0].Finding.Property != "OnCalendar" || p.ExitCode() != ExitLeft {
		t.Fatalf("want the OnCalendar mismatch left for a person, exit 3; got left %+v, exit %d", p.Left, p.ExitCode())
	}
	if len(p.Files) != 0 {
		t.Errorf("nothing should be written: %+v", p.Files)
	}
}

func TestUndeclaredStaleAndDirtyAreLeftWithReasons(t *testing.T) {
	findings := []unitdiff.Finding{
		{Kind: unitdiff.KindUndeclared, Unit: "ci-runner.service", Severity: unitdiff.SeverityDrift},
		{Kind: unitdiff.KindStale, Unit: "old.service", DeclaredAt: "m.nix:3", Severity: unitdiff.SeverityDrift},
		{Kind: unitdiff.KindDirty, DeclaredAt: "m.nix", Severity: unitdiff.SeverityWarning},
	}
	in := Input{To: ToGit, Rev: testRev, Findings: findings, Files: filesOf(map[string]string{"m.nix": "{ }\n"}),
		UnitFile: map[string]UnitFile{"ci-runner.service": {Path: "/etc/systemd/system/ci-runner.service", Content: "[Service]\nExecStart=/bin/run\n"}}}
	p, err := Make(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Steps) != 0 || len(p.Left) != 3 || p.ExitCode() != ExitLeft {
		t.Fatalf("steps %+v, left %+v", p.Steps, p.Left)
	}
	if p.Left[0].UnitFile == nil || !strings.Contains(p.Left[0].Reason, "systemd.services.ci-runner") {
		t.Errorf("undeclared: %+v", p.Left[0])
	}
	if !strings.Contains(p.Left[2].Reason, "work tree is yours") {
		t.Errorf("dirty: %+v", p.Left[2])
	}
	var text bytes.Buffer
	if err := (Output{Plan: p}).WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "left for a person") || !strings.Contains(text.String(), "ExecStart=/bin/run") {
		t.Errorf("text:\n%s", text.String())
	}
}

func TestNothingToReconcile(t *testing.T) {
	files := map[string]string{"m.nix": `{ systemd.services.ci-docker-prune.description = "Prune unused Docker data"; systemd.timers.ci-docker-prune.timerConfig = { OnCalendar = "daily"; Persistent = true; }; }`}
	p := planFor(t, files, pruneHost)
	if p.Findings != 0 || len(p.Steps) != 0 || len(p.Files) != 0 || p.ExitCode() != ExitNothing {
		t.Fatalf("%+v", p)
	}
}

func TestToHostCommands(t *testing.T) {
	findings := []unitdiff.Finding{
		{Kind: unitdiff.KindRenamed, Unit: "docker-prune.timer", LiveUnit: "ci-docker-prune.timer", Severity: unitdiff.SeverityDrift},
		{Kind: unitdiff.KindStale, Unit: "old.service", Host: unitdiff.HostState{Active: "active"}, Severity: unitdiff.SeverityDrift},
		{Kind: unitdiff.KindUndeclared, Unit: "ci-runner.service", Severity: unitdiff.SeverityDrift},
	}
	p, err := Make(Input{To: ToHost, Rev: testRev, Findings: findings, Host: HostTarget{Repo: "/srv/ci host", Host: "ci-host", Flake: true}})
	if err != nil {
		t.Fatal(err)
	}
	var cmds []string
	for _, s := range p.Steps {
		cmds = append(cmds, s.Command)
	}
	want := []string{
		"nixos-rebuild dry-activate --flake 'git+file:///srv/ci host?rev=" + testRev + "#ci-host'",
		"nixos-rebuild switch --flake 'git+file:///srv/ci host?rev=" + testRev + "#ci-host'",
		"systemctl stop old.service",
	}
	if !slices.Equal(cmds, want) {
		t.Errorf("commands:\n%s\nwant\n%s", strings.Join(cmds, "\n"), strings.Join(want, "\n"))
	}
	if len(p.Left) != 1 || p.Left[0].Finding.Unit != "ci-runner.service" || p.ExitCode() != ExitLeft {
		t.Errorf("left %+v", p.Left)
	}
	dry, _, prep := rebuildCommands(testRev, HostTarget{Repo: "/etc/nixos", Config: "configuration.nix"})
	if !strings.Contains(prep, "git -C /etc/nixos archive "+testRev) || !strings.Contains(dry, "nixos-config=/tmp/driftcheck-4ca2dde2916d/configuration.nix") {
		t.Errorf("non-flake: %q, %q", prep, dry)
	}
}

func TestJSONNamesTheFindingEachStepEnds(t *testing.T) {
	files := map[string]string{"m.nix": "{\n  systemd.services.docker-prune.description = \"Prune unused Docker data\";\n  systemd.timers.docker-prune.timerConfig = { OnCalendar = \"daily\"; Persistent = true; };\n}\n"}
	p := planFor(t, files, pruneHost)
	var buf bytes.Buffer
	if err := (Output{Plan: p}).WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Schema string `json:"schema"`
		Steps  []struct {
			Action string   `json:"action"`
			Files  []string `json:"files"`
			Ends   []struct {
				Kind string `json:"kind"`
				Unit string `json:"unit"`
			} `json:"ends"`
		} `json:"steps"`
		Files []struct{ Path, Change string } `json:"files"`
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Schema != Schema || len(got.Steps) != 2 || len(got.Files) != 1 || got.Files[0].Change != "modified" {
		t.Fatalf("%s", buf.String())
	}
	for _, s := range got.Steps {
		if s.Action != ActionRename || len(s.Ends) == 0 || s.Ends[0].Kind != "renamed" || !slices.Equal(s.Files, []string{"m.nix"}) {
			t.Errorf("step %+v", s)
		}
	}
}

// TestPatchAppliesWithGit checks the unified diff with git itself, for
// modified, added and deleted files and a file without a final newline.
func TestPatchAppliesWithGit(t *testing.T) {
	git := testreq.Command(t, "git", "git")
	dir := t.TempDir()
	run := func(stdin string, args ...string) {
		t.Helper()
		cmd := exec.Command(git, args...)
		cmd.Dir = dir
		cmd.Stdin = strings.NewReader(stdin)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	old := strings.Repeat("line\n", 30) + "a\n" + strings.Repeat("keep\n", 10) + "b\n" + strings.Repeat("tail\n", 5) + "last"
	nu := strings.Repeat("line\n", 30) + "A\n" + strings.Repeat("keep\n", 10) + "b\nB2\n" + strings.Repeat("tail\n", 5) + "last\n"
	writeFile(t, filepath.Join(dir, "x.nix"), old)
	writeFile(t, filepath.Join(dir, "gone.nix"), "{ }\n")
	odd := "müll \x1b[31m\"q\".nix" // non-ASCII, an escape, quotes: git quotes such names
	writeFile(t, filepath.Join(dir, odd), "{ a = 1; }\n")
	run("", "init", "-q")
	p := &Plan{Files: []FileChange{
		{Path: "gone.nix", Change: unitdiff.ChangeDeleted, Old: []byte("{ }\n")},
		{Path: "sub/new.nix", Change: unitdiff.ChangeAdded, New: []byte("{\n}\n")},
		{Path: "x.nix", Change: unitdiff.ChangeModified, Old: []byte(old), New: []byte(nu)},
		{Path: odd, Change: unitdiff.ChangeModified, Old: []byte("{ a = 1; }\n"), New: []byte("{ a = 2; }\n")},
	}}
	var patch bytes.Buffer
	if err := p.WritePatch(&patch); err != nil {
		t.Fatal(err)
	}
	run(patch.String(), "apply", "-")
	if strings.ContainsRune(patch.String(), 0x1b) {
		t.Errorf("the patch carries a raw escape:\n%q", patch.String())
	}
	for path, want := range map[string]string{"x.nix": nu, "sub/new.nix": "{\n}\n", odd: "{ a = 2; }\n"} {
		if got := readFile(t, filepath.Join(dir, path)); got != want {
			t.Errorf("%s after git apply:\n%q\nwant\n%q\npatch:\n%s", path, got, want, patch.String())
		}
	}
	if fileExists(filepath.Join(dir, "gone.nix")) {
		t.Error("gone.nix survived the patch")
	}
}

func TestNixValue(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want string
	}{
		{"daily", `"daily"`},
		{true, "true"},
		{false, "false"},
		{[]any{"Mon *-*-* 00:00:00"}, `"Mon *-*-* 00:00:00"`},
		{[]any{"a", "b\"c"}, `[ "a" "b\"c" ]`},
		{"${x}\n\\", `"\${x}\n\\"`},
	} {
		got, ok := nixValue(tc.in)
		if !ok || got != tc.want {
			t.Errorf("nixValue(%#v) = %s, %v; want %s", tc.in, got, ok, tc.want)
		}
	}
	if _, ok := nixValue(3.5); ok {
		t.Error("a number is not a value reconcile writes")
	}
}
