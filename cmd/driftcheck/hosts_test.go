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
