package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/driftcheck/driftcheck/internal/gitrev/gittest"
)

func hostsFixture(t *testing.T) *gittest.Repo {
	t.Helper()
	g := gittest.New(t)
	g.Commit("two hosts", map[string]string{
		"flake.nix": `{
  outputs = { self, nixpkgs, sops-nix }: {
    nixosConfigurations.web = nixpkgs.lib.nixosSystem { modules = [ ./hosts/web.nix sops-nix.nixosModules.sops ]; };
    nixosConfigurations.build = nixpkgs.lib.nixosSystem { modules = [ ./hosts/build.nix ]; };
  };
}`,
		"hosts/web.nix":   "{ imports = [ ../nix/docker.nix ]; }\n",
		"hosts/build.nix": "{ imports = [ ../nix/ci.nix ]; }\n",
		"nix/docker.nix":  "{ systemd.services.docker-prune = { script = \"true\"; startAt = \"daily\"; }; }\n",
		"nix/ci.nix":      "{ systemd.services.ci-runner = { script = \"true\"; wantedBy = [ \"multi-user.target\" ]; }; }\n",
	})
	return g
}

func TestHostsCommand(t *testing.T) {
	g := hostsFixture(t)
	code, out, errOut := runCLI(t, "hosts", "--repo", g.Dir)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var rows []string
	for _, line := range strings.Split(out, "\n") {
		rows = append(rows, strings.Join(strings.Fields(line), " "))
	}
	for _, want := range []string{"2 hosts (flake.nix)",
		"build nixosConfigurations flake.nix:4 hosts/build.nix 2 0 0",
		"web nixosConfigurations flake.nix:3 hosts/web.nix inputs.sops-nix.nixosModules.sops 2 1 0"} {
		if !strings.Contains(strings.Join(rows, "\n"), want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runCLI(t, "hosts", "--repo", g.Dir, "--format", "json")
	var doc struct {
		Schema string
		Hosts  []struct {
			Name      string
			Attribute string
			Files     []string
			External  []string
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != 0 {
		t.Fatalf("json: %v, exit %d:\n%s", err, code, out)
	}
	if doc.Schema != "driftcheck.hosts/v1" || len(doc.Hosts) != 2 || doc.Hosts[1].Attribute != "nixosConfigurations.web" ||
		strings.Join(doc.Hosts[1].Files, " ") != "hosts/web.nix nix/docker.nix" {
		t.Errorf("json report: %+v", doc)
	}
}

func TestHostsCommandIncomplete(t *testing.T) {
	g := gittest.New(t)
	g.Commit("broken import", map[string]string{
		"flake.nix": `{ outputs = { nixpkgs, ... }: { nixosConfigurations.a = nixpkgs.lib.nixosSystem { modules = [ ./a.nix ./gone.nix ]; }; }; }`,
		"a.nix":     "{ }\n",
	})
	code, out, _ := runCLI(t, "hosts", "--repo", g.Dir)
	if code != exitIncomplete || !strings.Contains(out, "a: flake.nix:1: import gone.nix: not in the revision") {
		t.Errorf("exit %d, want %d:\n%s", code, exitIncomplete, out)
	}
	code, _, errOut := runCLI(t, "hosts", "--repo", g.Dir, "--format", "yaml")
	if code != exitCannotRun || !strings.Contains(errOut, "--format must be text or json") {
		t.Errorf("bad format: exit %d, %q", code, errOut)
	}
	code, _, errOut = runCLI(t, "hosts", "--repo", t.TempDir())
	if code != exitCannotRun || !strings.Contains(errOut, "not a git repository") {
		t.Errorf("not a repository: exit %d, %q", code, errOut)
	}
}

// TestLintPerHost: lint reads each host on its own: the same timer set
// to two calendars by two hosts is no conflict, and a README under a host's
// directory that names another host's unit (suffix-less, as systemctl
// takes it) is a finding for that host.
func TestLintPerHost(t *testing.T) {
	g := gittest.New(t)
	g.Commit("two hosts", map[string]string{
		"flake.nix": `{
  outputs = { self, nixpkgs }: {
    nixosConfigurations.web = nixpkgs.lib.nixosSystem { modules = [ ./hosts/web/default.nix ]; };
    nixosConfigurations.build = nixpkgs.lib.nixosSystem { modules = [ ./hosts/build/default.nix ]; };
  };
}`,
		"hosts/web/default.nix":   "{ systemd.timers.backup = { wantedBy = [ \"timers.target\" ]; timerConfig.OnCalendar = \"daily\"; }; systemd.services.web-app = { }; }\n",
		"hosts/build/default.nix": "{ systemd.timers.backup = { wantedBy = [ \"timers.target\" ]; timerConfig.OnCalendar = \"weekly\"; }; systemd.services.ci-runner = { }; }\n",
		"hosts/web/README.md":     "Restart the app with `systemctl restart web-app`; the runner: `journalctl -u ci-runner`.\n",
	})
	code, out, errOut := runCLI(t, "lint", "--repo", g.Dir, "--modules", "**/*.nix")
	want := "hosts/web/README.md:1: doc-undeclared-unit (host web): names ci-runner.service, which host web does not declare\n"
	if code != exitFindings || out != want {
		t.Errorf("exit %d, stderr %q, output:\n%s\nwant:\n%s", code, errOut, out, want)
	}
	code, out, _ = runCLI(t, "lint", "--repo", g.Dir, "--modules", "**/*.nix", "--all-files")
	if code != exitFindings || !strings.Contains(out, "conflicting-declaration") || strings.Contains(out, "README") {
		t.Errorf("--all-files: every file as one configuration: exit %d\n%s", code, out)
	}
}
