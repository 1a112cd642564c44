package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/driftcheck/driftcheck/internal/gitrev/gittest"
)

// Issue 10.2: without --host, every file is read, and one host's settings
// (users.withSops = false in a netboot image, docker mkForce false on one
// host) no longer drop the units another file declares: they stay,
// conditional, naming the deciding site. With --host only the host's
// closure decides.
func TestUnitsEveryFileKeepsUnitsAnotherFileTurnsOff(t *testing.T) {
	g := gittest.New(t)
	g.Commit("two hosts sharing modules", map[string]string{
		"flake.nix": `{
  outputs = { self, nixpkgs }: {
    nixosConfigurations.ci = nixpkgs.lib.nixosSystem { modules = [ ./nix/hosts/ci.nix ]; };
    nixosConfigurations.netboot = nixpkgs.lib.nixosSystem { modules = [ ./nix/hosts/netboot.nix ]; };
  };
}`,
		"nix/modules/fluent.nix": `{ config, lib, ... }:
{
  options.users.withSops = lib.mkOption { type = lib.types.bool; default = true; };
  config = lib.mkIf config.users.withSops {
    systemd.services.fluent-bit.script = "fluent-bit";
  };
}
`,
		"nix/hosts/ci.nix": "{\n  imports = [ ../modules/fluent.nix ];\n  virtualisation.docker.enable = true;\n}\n",
		"nix/hosts/netboot.nix": `{ lib, ... }:
{
  imports = [ ../modules/fluent.nix ];
  users.withSops = false;
  virtualisation.docker.enable = lib.mkForce false;
}
`,
	})
	type unitDoc struct {
		Name        string
		File        string
		Line        int
		Conditional bool
		Notes       []string
	}
	units := func(args ...string) map[string]unitDoc {
		t.Helper()
		code, out, errOut := runCLI(t, append([]string{"units", "--repo", g.Dir, "--format", "json"}, args...)...)
		var doc struct{ Units []unitDoc }
		if err := json.Unmarshal([]byte(out), &doc); err != nil || code != 0 {
			t.Fatalf("units %v: exit %d, %v, stderr %q:\n%s", args, code, err, errOut, out)
		}
		byName := map[string]unitDoc{}
		for _, u := range doc.Units {
			byName[u.Name] = u
		}
		return byName
	}

	all := units()
	for name, decider := range map[string]string{"fluent-bit.service": "nix/hosts/netboot.nix:4", "docker-prune.service": "nix/hosts/netboot.nix:5"} {
		u, ok := all[name]
		switch {
		case !ok:
			t.Errorf("every file: %s dropped by another file's setting; units %v", name, all)
		case !u.Conditional || !strings.Contains(strings.Join(u.Notes, "\n"), decider):
			t.Errorf("every file: %s = %+v, want conditional with a note naming %s", name, u, decider)
		}
	}
	if u := all["docker-prune.service"]; u.File != "nix/hosts/ci.nix" || u.Line != 3 {
		t.Errorf("every file: docker-prune.service at %s:%d, want nix/hosts/ci.nix:3", u.File, u.Line)
	}

	// fluent-bit stays conditional on ci: withSops is only its default,
	// which a host may set outside the repository.
	ci := units("--host", "ci")
	for name, conditional := range map[string]bool{"fluent-bit.service": true, "docker-prune.service": false} {
		if u, ok := ci[name]; !ok || u.Conditional != conditional || len(u.Notes) != 0 {
			t.Errorf("--host ci: %s = %+v (declared %v), want declared, conditional %v, no note", name, u, ok, conditional)
		}
	}
	if netboot := units("--host", "netboot"); len(netboot) != 0 {
		t.Errorf("--host netboot: units %v, want none: its own settings turn them off", netboot)
	}
}
