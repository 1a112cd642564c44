package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/driftcheck/driftcheck/internal/gitrev/gittest"
	"github.com/driftcheck/driftcheck/internal/sdsandbox"
)

// hostRepo is a two-host flake sharing a module: web and build each
// declare units of their own.
func hostRepo(t *testing.T) *gittest.Repo {
	t.Helper()
	g := gittest.New(t)
	g.Commit("two hosts", map[string]string{
		"flake.nix": `{
  outputs = { self, nixpkgs }: {
    nixosConfigurations.web = nixpkgs.lib.nixosSystem { modules = [ ./hosts/web.nix ]; };
    nixosConfigurations.build = nixpkgs.lib.nixosSystem { modules = [ ./hosts/build.nix ]; };
  };
}`,
		"hosts/web.nix":     `{ imports = [ ../nix/common.nix ]; systemd.services.web-app = { serviceConfig.Type = "oneshot"; }; }`,
		"hosts/build.nix":   `{ imports = [ ../nix/common.nix ]; systemd.services.ci-runner = { serviceConfig.Type = "oneshot"; }; systemd.services.ci-cache = { serviceConfig.Type = "oneshot"; }; }`,
		"nix/common.nix":    `{ systemd.services.node-report = { serviceConfig.Type = "oneshot"; }; }`,
		"nix/unrelated.nix": `{ systemd.services.other-host-only = { serviceConfig.Type = "oneshot"; }; }`,
	})
	return g
}

// TestCheckHostSandbox: a host seeded exactly with web's declared units is
// in sync for --host web, though build declares units it does not run;
// with one of web's units removed, that one is the only finding.
func TestCheckHostSandbox(t *testing.T) {
	t.Parallel()
	g := hostRepo(t)
	webUnits := []sdsandbox.Unit{
		sdsandbox.LinkedUnit("web-app.service", sbOneshot),
		sdsandbox.LinkedUnit("node-report.service", sbOneshot),
	}
	full := sdsandbox.New(t, sdsandbox.Options{Layout: sdsandbox.NixOSLike, Units: webUnits})
	code, stdout, stderr := runCheckCLI(t, "--repo", g.Dir, "--host", "web", "--bus-address", full.BusAddress(), "--format", "json", "--history", "0")
	if code != exitOK {
		t.Fatalf("seeded with web's units: exit %d, want 0; stderr %q\n%s", code, stderr, stdout)
	}
	if r := decodeCheck(t, stdout); r.Verdict != "in-sync" || len(r.Findings) != 0 {
		t.Errorf("seeded with web's units: verdict %s, findings %v", r.Verdict, r.kinds())
	}

	short := sdsandbox.New(t, sdsandbox.Options{Layout: sdsandbox.NixOSLike, Units: webUnits[:1]})
	code, stdout, stderr = runCheckCLI(t, "--repo", g.Dir, "--host", "web", "--bus-address", short.BusAddress(), "--format", "json", "--history", "0")
	if code != exitFindings {
		t.Fatalf("one unit removed: exit %d, want %d; stderr %q\n%s", code, exitFindings, stderr, stdout)
	}
	if diff := cmp.Diff([]string{"missing node-report.service"}, decodeCheck(t, stdout).kinds()); diff != "" {
		t.Errorf("one unit removed (-want +got):\n%s", diff)
	}

	// Without --host, a repository of several hosts none of which is this
	// machine cannot be checked: exit 2 naming them.
	code, _, stderr = runCheckCLI(t, "--repo", g.Dir, "--bus-address", full.BusAddress())
	if code != exitCannotRun || !strings.Contains(stderr, "build, web") || !strings.Contains(stderr, "--host") {
		t.Errorf("no --host: exit %d, stderr %q", code, stderr)
	}

	// .driftcheck.json names the host when --host does not.
	g.Commit("this checkout is web", map[string]string{".driftcheck.json": `{"host": "web"}`})
	code, stdout, stderr = runCheckCLI(t, "--repo", g.Dir, "--bus-address", full.BusAddress(), "--format", "json", "--history", "0")
	if r := decodeCheck(t, stdout); code != exitOK || r.Verdict != "in-sync" {
		t.Errorf("host from .driftcheck.json: exit %d, stderr %q, findings %v", code, stderr, r.kinds())
	}
}
