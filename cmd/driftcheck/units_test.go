package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/driftcheck/driftcheck/internal/gitrev/gittest"
)

// runUnitsCLI runs the driftcheck command line as main does, with captured
// streams.
const pruneModule = `{ config, lib, pkgs, ... }:
{
  systemd.services.docker-prune = {
    description = "Prune Docker";
    serviceConfig.Type = "oneshot";
    startAt = "daily";
  };
}
`

const dynamicModule = `{ config, lib, ... }:
{
  systemd.services = lib.mapAttrs' (n: v: lib.nameValuePair "job-${n}" { }) config.jobs;
}
`

// unitsJSON mirrors the documented schema; decoding with
// DisallowUnknownFields pins the key set.
type unitsJSON struct {
	Schema string   `json:"schema"`
	Rev    string   `json:"rev"`
	Host   string   `json:"host"`  // with --host
	Hosts  []string `json:"hosts"` // when the repository defines hosts
	Units  []struct {
		Name        string         `json:"name"`
		Type        string         `json:"type"`
		Scope       string         `json:"scope"`
		User        string         `json:"user"`
		File        string         `json:"file"`
		Line        int            `json:"line"`
		Conditional bool           `json:"conditional"`
		ImpliedBy   *string        `json:"implied_by"`
		Properties  map[string]any `json:"properties"`
		Notes       []string       `json:"notes"`
		Definitions []struct {
			File string `json:"file"`
			Line int    `json:"line"`
			Role string `json:"role"`
		} `json:"definitions"`
	} `json:"units"`
	Unresolved []struct {
		File   string `json:"file"`
		Line   int    `json:"line"`
		Reason string `json:"reason"`
	} `json:"unresolved"`
	Errors []struct {
		File    string `json:"file"`
		Line    int    `json:"line"`
		Col     int    `json:"col"`
		Message string `json:"message"`
	} `json:"errors"`
}

func decodeUnits(t *testing.T, stdout string) unitsJSON {
	t.Helper()
	// The three lists are arrays even when empty, never null.
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(stdout), &raw); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, stdout)
	}
	for _, key := range []string{"units", "unresolved", "errors"} {
		if v := strings.TrimSpace(string(raw[key])); !strings.HasPrefix(v, "[") {
			t.Errorf("%q is %s, want an array", key, v)
		}
	}
	var got unitsJSON
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("output does not follow the schema: %v\n%s", err, stdout)
	}
	if got.Schema != "driftcheck.units/v1" {
		t.Errorf("schema = %q", got.Schema)
	}
	return got
}

// A unit named from an option's default carries a note in both formats:
// a host may set the option outside the repository.
func TestUnitsOptionDefaultNote(t *testing.T) {
	g := gittest.New(t)
	g.Commit("option", map[string]string{"nix/modules/app.nix": `{ config, lib, ... }:
let cfg = config.services.app; in
{
  options.services.app.unitName = lib.mkOption { type = lib.types.str; default = "app-worker"; };
  config.systemd.services.${cfg.unitName} = { description = "worker"; };
}
`})
	code, stdout, stderr := runCLI(t, "units", "--repo", g.Dir, "--format", "json")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q\n%s", code, stderr, stdout)
	}
	got := decodeUnits(t, stdout)
	const note = "name from option default services.app.unitName"
	if len(got.Units) != 1 || got.Units[0].Name != "app-worker.service" || !slices.Contains(got.Units[0].Notes, note) {
		t.Fatalf("units = %+v, want app-worker.service with note %q", got.Units, note)
	}
	code, stdout, _ = runCLI(t, "units", "--repo", g.Dir)
	if code != 0 || !strings.Contains(stdout, "app-worker.service: "+note) {
		t.Errorf("text output (exit %d) lacks the note:\n%s", code, stdout)
	}
}

func TestUnitsJSON(t *testing.T) {
	g := gittest.New(t)
	sha := g.Commit("prune", map[string]string{"nix/modules/prune.nix": pruneModule, "README.md": "# x\n"})
	// Uncommitted changes are not read.
	g.Write("nix/modules/uncommitted.nix", `{ systemd.services.ci-docker-prune = { }; }`)

	code, stdout, stderr := runCLI(t, "units", "--repo", g.Dir, "--format", "json")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q\n%s", code, stderr, stdout)
	}
	got := decodeUnits(t, stdout)
	if got.Rev != sha {
		t.Errorf("rev = %q, want %s", got.Rev, sha)
	}
	type unit struct {
		Name, Type, Scope, File string
		Line                    int
		ImpliedBy               string
		OnCalendar              any
	}
	var units []unit
	for _, u := range got.Units {
		x := unit{Name: u.Name, Type: u.Type, Scope: u.Scope, File: u.File, Line: u.Line, OnCalendar: u.Properties["OnCalendar"]}
		if u.ImpliedBy != nil {
			if *u.ImpliedBy == "" {
				t.Errorf("%s: implied_by present but empty", u.Name)
			}
			x.ImpliedBy = *u.ImpliedBy
		}
		units = append(units, x)
	}
	want := []unit{
		{Name: "docker-prune.service", Type: "service", Scope: "system", File: "nix/modules/prune.nix", Line: 3},
		{Name: "docker-prune.timer", Type: "timer", Scope: "system", File: "nix/modules/prune.nix", Line: 6,
			ImpliedBy: "startAt", OnCalendar: []any{"daily"}},
	}
	if diff := cmp.Diff(want, units); diff != "" {
		t.Errorf("units (-want +got):\n%s", diff)
	}
	if len(got.Unresolved) != 0 || len(got.Errors) != 0 {
		t.Errorf("unresolved %v, errors %v; want none", got.Unresolved, got.Errors)
	}
}

func TestUnitsRevisionsAndRepos(t *testing.T) {
	g := gittest.New(t)
	old := g.Commit("old", map[string]string{"nix/a.nix": `{ systemd.services.old = { }; }`})
	g.Git("tag", "-a", "-m", "release", "v1")
	g.Git("rm", "-q", "nix/a.nix")
	head := g.Commit("new", map[string]string{"nix/b.nix": `{ systemd.services.new = { }; }`})
	bare := filepath.Join(t.TempDir(), "bare.git")
	g.Git("clone", "-q", "--bare", g.Dir, bare)
	clone := gittest.Open(t, t.TempDir())
	clone.Git("clone", "-q", g.Dir, clone.Dir)
	clone.Commit("local", map[string]string{"nix/c.nix": `{ systemd.services.local = { }; }`})

	tests := []struct {
		name      string
		args      []string
		wantRev   string
		wantUnits string
	}{
		{"head", []string{"--repo", g.Dir}, head, "new.service"},
		{"subdirectory", []string{"--repo", filepath.Join(g.Dir, "nix")}, head, "new.service"},
		{"annotated tag", []string{"--repo", g.Dir, "--rev", "v1"}, old, "old.service"},
		{"short sha", []string{"--repo", g.Dir, "--rev", old[:8]}, old, "old.service"},
		{"bare", []string{"--repo", bare, "--rev", "main"}, head, "new.service"},
		{"remote-tracking", []string{"--repo", clone.Dir, "--rev", "origin/main"}, head, "new.service"},
		{"clone head", []string{"--repo", clone.Dir}, "", "local.service new.service"},
		{"two globs", []string{"--repo", clone.Dir, "--modules", "nix/c.nix", "--modules", "nix/b.*"}, "", "local.service new.service"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, append([]string{"units", "--format=json"}, tt.args...)...)
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			got := decodeUnits(t, stdout)
			if tt.wantRev != "" && got.Rev != tt.wantRev {
				t.Errorf("rev = %s, want %s", got.Rev, tt.wantRev)
			}
			var names []string
			for _, u := range got.Units {
				names = append(names, u.Name)
			}
			sort.Strings(names)
			if strings.Join(names, " ") != tt.wantUnits {
				t.Errorf("units = %v, want %s", names, tt.wantUnits)
			}
		})
	}
}

func TestUnitsExitCodes(t *testing.T) {
	g := gittest.New(t)
	g.Commit("mixed", map[string]string{
		"nix/ok.nix":      pruneModule,
		"nix/dynamic.nix": dynamicModule,
		"nix/broken.nix":  "{ systemd.services.x = {\n  a = ;\n}\n",
		"nix/binary.nix":  "\x00\x01",
		"nix/empty.nix":   "{ }\n",
		"src/main.go":     "package main\n",
	})
	tests := []struct {
		name       string
		modules    []string
		wantCode   int
		unresolved int
		errFiles   []string
	}{
		{"clean", []string{"nix/ok.nix"}, 0, 0, nil},
		{"empty module", []string{"nix/empty.nix"}, 0, 0, nil},
		{"unresolved", []string{"nix/ok.nix", "nix/dynamic.nix"}, 3, 1, nil},
		{"did not parse", []string{"nix/ok.nix", "nix/broken.nix"}, 1, 0, []string{"nix/broken.nix"}},
		{"binary", []string{"nix/binary.nix"}, 1, 0, []string{"nix/binary.nix"}},
		{"parse error wins over unresolved", []string{"nix/*.nix"}, 1, 1, []string{"nix/binary.nix", "nix/broken.nix"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"units", "--repo", g.Dir, "--format", "json"}
			for _, m := range tt.modules {
				args = append(args, "--modules", m)
			}
			code, stdout, stderr := runCLI(t, args...)
			if code != tt.wantCode || stderr != "" {
				t.Fatalf("exit %d (want %d), stderr %q\n%s", code, tt.wantCode, stderr, stdout)
			}
			got := decodeUnits(t, stdout)
			if len(got.Unresolved) != tt.unresolved {
				t.Errorf("unresolved = %+v, want %d", got.Unresolved, tt.unresolved)
			}
			var files []string
			for _, e := range got.Errors {
				files = append(files, e.File)
				if e.Message == "" {
					t.Errorf("error without message: %+v", e)
				}
			}
			if diff := cmp.Diff(tt.errFiles, files); diff != "" {
				t.Errorf("error files (-want +got):\n%s", diff)
			}
			for _, e := range got.Errors {
				if e.File == "nix/broken.nix" && e.Line != 2 {
					t.Errorf("parse error at line %d, want 2: %+v", e.Line, e)
				}
				if e.File == "nix/binary.nix" && (e.Line != 0 || !strings.Contains(e.Message, "binary")) {
					t.Errorf("binary file error = %+v, want line 0 and a message saying binary", e)
				}
			}
		})
	}
}

func TestUnitsCannotRun(t *testing.T) {
	g := gittest.New(t)
	g.Commit("first", map[string]string{"nix/a.nix": "{ }\n", "other/b.nix": "{ }\n"})
	notRepo := t.TempDir()
	corrupt := gittest.New(t)
	corrupt.Commit("first", map[string]string{"nix/a.nix": "{ }\n"})
	if err := os.WriteFile(filepath.Join(corrupt.Dir, ".git", "HEAD"), []byte("garbage\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"not a repository", []string{"--repo", notRepo}, "not a git repository"},
		{"missing directory", []string{"--repo", filepath.Join(notRepo, "nope")}, "nope"},
		{"unknown revision", []string{"--repo", g.Dir, "--rev", "no-such-branch"}, `unknown revision "no-such-branch"`},
		{"corrupt HEAD", []string{"--repo", corrupt.Dir}, `ref "HEAD" holds no valid object name`},
		{"unsupported revision syntax", []string{"--repo", g.Dir, "--rev", "HEAD:nix"}, `unsupported revision "HEAD:nix"`},
		{"bad format", []string{"--repo", g.Dir, "--format", "yaml"}, "--format must be text or json"},
		{"unknown flag", []string{"--repo", g.Dir, "--colour"}, "unknown flag: --colour"},
		{"extra argument", []string{"--repo", g.Dir, "extra"}, "unknown command"},
		{"bad glob", []string{"--repo", g.Dir, "--modules", "/etc/*.nix"}, "--modules"},
		{"no files match", []string{"--repo", g.Dir, "--modules", "hosts/**/*.nix"}, "no module files match hosts/**/*.nix at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, append([]string{"units"}, tt.args...)...)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			if !strings.HasPrefix(stderr, "driftcheck: ") || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("stderr %q, want one line starting with \"driftcheck: \" containing %q", stderr, tt.wantErr)
			}
		})
	}
}

func TestUnitsTextEscapesUntrustedNames(t *testing.T) {
	g := gittest.New(t)
	evilFile := "nix/\x1b[31mred\x07.nix"
	g.Commit("evil", map[string]string{
		evilFile:         "{ systemd.services.\"evil\x1b]0;title\x07\" = { startAt = \"daily\x1b[2J\"; }; }\n",
		"nix/broken.nix": "{ \x1b[1m = ; }\n",
		"nix/ok.nix":     pruneModule,
	})
	code, stdout, stderr := runCLI(t, "units", "--repo", g.Dir)
	if code != 1 {
		t.Errorf("exit %d, want 1 (broken.nix does not parse); stderr %q", code, stderr)
	}
	if strings.ContainsAny(stdout, "\x1b\x07") {
		t.Fatalf("raw control characters in output:\n%q", stdout)
	}
	for _, want := range []string{`nix/\x1b[31mred\a.nix:1`, `evil\x1b]0;title\a.service`, "docker-prune.timer", "nix/broken.nix:1"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
}

func TestUnitsText(t *testing.T) {
	g := gittest.New(t)
	sha := g.Commit("prune", map[string]string{"nix/modules/prune.nix": pruneModule, "nix/dyn.nix": dynamicModule})
	code, stdout, stderr := runCLI(t, "units", "--repo", g.Dir)
	if code != 3 || stderr != "" {
		t.Fatalf("exit %d (want 3), stderr %q", code, stderr)
	}
	lines := strings.Split(stdout, "\n")
	if lines[0] != "revision "+sha+": 2 module files, 2 units" {
		t.Errorf("first line %q", lines[0])
	}
	for _, want := range []string{
		`^UNIT\s+TYPE\s+SCOPE\s+DECLARED AT\s+CONDITIONAL\s+ONCALENDAR$`,
		`^docker-prune\.service\s+service\s+system\s+nix/modules/prune\.nix:3\s+no\s+-$`,
		`^docker-prune\.timer\s+timer\s+system\s+nix/modules/prune\.nix:6\s+no \(implied by startAt\)\s+daily$`,
		`^unresolved \(1\):$`,
		`^  nix/dyn\.nix:3: .+`,
	} {
		if !regexp.MustCompile(`(?m)` + want).MatchString(stdout) {
			t.Errorf("output lacks a line matching %q:\n%s", want, stdout)
		}
	}
}
