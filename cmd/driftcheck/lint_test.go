package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/driftcheck/driftcheck/examples/incident"
	"github.com/driftcheck/driftcheck/internal/gitrev/gittest"
	"github.com/driftcheck/driftcheck/internal/testreq"
)

// incidentRepo builds the bundled example repository (examples/incident)
// with the real git binary.
func incidentRepo(t *testing.T) *incident.Repo {
	t.Helper()
	gitPath := testreq.Command(t, "git", "git")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := incident.BuildRepo(ctx, gitPath, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestLintIncident(t *testing.T) {
	r := incidentRepo(t)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string
	}{
		{
			name:     "rev 1 collides with NixOS's docker-prune",
			args:     []string{"--repo", r.Dir, "--rev", incident.TagIncident},
			wantCode: exitFindings,
			wantOut: []string{
				"nix/modules/docker-prune.nix:8: nixos-collision: docker-prune.service is also defined by NixOS",
				"nix/modules/docker-prune.nix:16: nixos-collision: docker-prune.timer is also defined by NixOS",
			},
		},
		{
			name:     "rev 2 is clean",
			args:     []string{"--repo", r.Dir, "--rev", incident.TagReconciled},
			wantCode: exitOK,
			wantOut:  []string{"no findings at " + r.Reconciled[:12]},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runLintCLI(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, out, errOut)
			}
			for _, want := range tt.wantOut {
				if !strings.Contains(out, want) {
					t.Errorf("stdout lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

// TestLintFindsEveryKind commits one revision with each kind of problem and
// checks the JSON report names each at its file and line.
func TestLintFindsEveryKind(t *testing.T) {
	repo := gittest.New(t)
	repo.Commit("every problem", map[string]string{
		"nix/broken.nix": "{ systemd.services.a = {\n",
		"nix/dynamic.nix": `{ config, lib, ... }:
{
  systemd.services = lib.mapAttrs' (n: v: lib.nameValuePair "job-${n}" { }) config.jobs;
}
`,
		"nix/prune.nix": `{ ... }:
{
  virtualisation.docker.enable = true;
  systemd.services.docker-prune.serviceConfig.Type = "oneshot";
  systemd.services.ci-report.serviceConfig.Type = "oneshot";
}
`,
		"nix/override.nix": `{ ... }:
{
  systemd.services.ci-report.serviceConfig.Type = "simple";
}
`,
		"README.md":            "Check it:\n\n```sh\nsystemctl status ci-gone.service\n```\n",
		"docs/history.md":      "We once ran `ci-old.timer`.\n",
		"docs/ignored.md":      "<!-- driftcheck-lint: ignore-file -->\n`ci-ancient.timer`\n",
		"notes/not-in-docs.md": "`ci-excluded.timer`\n",
		".driftcheck.json":     `{"lint": {"ignore_docs": ["docs/history.md"]}}`,
	})
	code, out, errOut := runLintCLI(t, "--repo", repo.Dir, "--format", "json", "--exclude-docs", "notes/**")
	if code != exitFindings {
		t.Fatalf("exit %d, want %d; stderr: %s", code, exitFindings, errOut)
	}
	var report struct {
		Schema   string `json:"schema"`
		Rev      string `json:"rev"`
		Findings []struct {
			Kind string `json:"kind"`
			File string `json:"file"`
			Line int    `json:"line"`
			Unit string `json:"unit"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if report.Schema != "driftcheck.lint/v1" || len(report.Rev) != 40 {
		t.Errorf("schema %q rev %q", report.Schema, report.Rev)
	}
	got := map[string]string{}
	for _, f := range report.Findings {
		got[f.Kind] = f.File
	}
	want := map[string]string{
		"parse-error":             "nix/broken.nix",
		"unresolved":              "nix/dynamic.nix",
		"conflicting-declaration": "nix/prune.nix",
		"nixos-collision":         "nix/prune.nix",
		"doc-undeclared-unit":     "README.md",
	}
	for kind, file := range want {
		if got[kind] != file {
			t.Errorf("%s finding in %q, want %q\nreport: %s", kind, got[kind], file, out)
		}
	}
	if len(got) != len(want) {
		t.Errorf("finding kinds %v, want exactly %v", got, want)
	}
	for _, f := range report.Findings {
		if f.Kind == "doc-undeclared-unit" && f.Unit != "ci-gone.service" {
			t.Errorf("documentation finding for %q: ignore config, marker or --exclude-docs not honoured", f.Unit)
		}
	}
}

func TestLintSARIF(t *testing.T) {
	r := incidentRepo(t)
	code, out, errOut := runLintCLI(t, "--repo", r.Dir, "--rev", incident.TagIncident, "--format", "sarif")
	if code != exitFindings {
		t.Fatalf("exit %d, want %d; stderr: %s", code, exitFindings, errOut)
	}
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Results []struct {
				RuleID    string `json:"ruleId"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }    `json:"artifactLocation"`
						Region           struct{ StartLine int } `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(out), &log); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 || len(log.Runs[0].Results) != 2 {
		t.Fatalf("unexpected SARIF: %s", out)
	}
	loc := log.Runs[0].Results[0].Locations[0].PhysicalLocation
	if loc.ArtifactLocation.URI != "nix/modules/docker-prune.nix" || loc.Region.StartLine != 8 {
		t.Errorf("first result at %s:%d, want nix/modules/docker-prune.nix:8", loc.ArtifactLocation.URI, loc.Region.StartLine)
	}
}

func TestLintStaleDocumentation(t *testing.T) {
	r := incidentRepo(t)
	// The rename is committed, but a runbook still names the old timer.
	g := gittest.Open(t, r.Dir)
	g.Commit("runbook", map[string]string{"docs/runbook.md": "# Runbook\n\nAfter a deploy: `systemctl list-timers docker-prune.timer`\n"})
	code, out, _ := runLintCLI(t, "--repo", r.Dir)
	want := "docs/runbook.md:3: doc-undeclared-unit: names docker-prune.timer, which this revision does not declare (declared: ci-docker-prune.timer)"
	if code != exitFindings || !strings.Contains(out, want) {
		t.Errorf("exit %d, stdout:\n%s\nwant exit 1 and %q", code, out, want)
	}
}

func TestLintCannotRun(t *testing.T) {
	r := incidentRepo(t)
	badConfig := gittest.New(t)
	badConfig.Commit("bad config", map[string]string{"nix/a.nix": "{ }\n", ".driftcheck.json": `{"lint": {"ignore_docs": "docs/**"}}`})
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"bad format", []string{"--repo", r.Dir, "--format", "xml"}, `--format "xml"`},
		{"not a repository", []string{"--repo", t.TempDir()}, "not a git repository"},
		{"unknown revision", []string{"--repo", r.Dir, "--rev", "no-such-branch"}, "unknown revision"},
		{"no module files", []string{"--repo", r.Dir, "--modules", "hosts/**/*.nix"}, "no module files"},
		{"bad docs glob", []string{"--repo", r.Dir, "--docs", "/abs/*.md"}, "--docs"},
		{"extra argument", []string{"--repo", r.Dir, "extra"}, "unknown command"},
		{"bad .driftcheck.json", []string{"--repo", badConfig.Dir}, "parse .driftcheck.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runLintCLI(t, tt.args...)
			if code != exitCannotRun {
				t.Errorf("exit %d, want %d\nstdout: %s", code, exitCannotRun, out)
			}
			if !strings.Contains(errOut, tt.wantErr) || strings.Count(errOut, "\n") != 1 {
				t.Errorf("stderr %q, want one line containing %q", errOut, tt.wantErr)
			}
		})
	}
}

// TestCIDefinitions parses the CI definitions in docs/ci and checks that
// every driftcheck command line in them names a real command and real flags.
func TestCIDefinitions(t *testing.T) {
	files, err := filepath.Glob("../../docs/ci/*.yml")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{ // file → commands it must run
		"drone.yml":             {"lint", "check --strict"},
		"woodpecker.yml":        {"lint"},
		"woodpecker-deploy.yml": {"check --strict"},
		"github-actions.yml":    {"lint", "check --strict"},
	}
	if len(files) != len(want) {
		t.Errorf("docs/ci has %v, want %d definitions", files, len(want))
	}
	root := newRootCmd(streams{In: strings.NewReader(""), Out: io.Discard, Err: io.Discard})
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			lines := driftcheckLines(t, data)
			for _, required := range want[name] {
				if !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, "driftcheck "+required) }) {
					t.Errorf("no `driftcheck %s` in %s (found %q)", required, name, lines)
				}
			}
			for _, line := range lines {
				checkCommandLine(t, root, line)
			}
		})
	}
}

// driftcheckLines decodes every YAML document of a CI definition and
// returns the shell lines, in any string, that run driftcheck.
func driftcheckLines(t *testing.T, data []byte) []string {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var lines []string
	docs := 0
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not valid YAML: %v", err)
		}
		if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
			t.Fatalf("document %d is not a mapping", docs)
		}
		docs++
		var walk func(n *yaml.Node)
		walk = func(n *yaml.Node) {
			if n.Kind == yaml.ScalarNode {
				for _, l := range strings.Split(n.Value, "\n") {
					l = strings.TrimSpace(l)
					if strings.HasPrefix(l, "driftcheck ") {
						lines = append(lines, l)
					}
				}
			}
			for _, c := range n.Content {
				walk(c)
			}
		}
		walk(&doc)
	}
	if docs == 0 {
		t.Fatal("no YAML document")
	}
	return lines
}

// checkCommandLine resolves the subcommand of one shell line and looks up
// every --flag on it; the command's --help must run.
func checkCommandLine(t *testing.T, root *cobra.Command, line string) {
	t.Helper()
	var args []string
	for _, f := range strings.Fields(line)[1:] {
		if strings.ContainsAny(f[:1], ">|;&") {
			break // redirection or the next command
		}
		args = append(args, f)
	}
	cmd, rest, err := root.Find(args)
	if err != nil || cmd == root {
		t.Errorf("%q: no such driftcheck command: %v", line, err)
		return
	}
	for _, a := range rest {
		if !strings.HasPrefix(a, "--") {
			continue
		}
		flag, _, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if cmd.Flags().Lookup(flag) == nil {
			t.Errorf("%q: driftcheck %s has no flag --%s", line, cmd.Name(), flag)
		}
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{cmd.Name(), "--help"}, streams{In: strings.NewReader(""), Out: &out, Err: &errOut}); code != exitOK {
		t.Errorf("driftcheck %s --help: exit %d: %s", cmd.Name(), code, errOut.String())
	}
}
