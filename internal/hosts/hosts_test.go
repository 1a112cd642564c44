package hosts_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/driftcheck/driftcheck/internal/gitrev/gittest"
	"github.com/driftcheck/driftcheck/internal/hosts"
)

// discoverRepo commits files to a new git repository and discovers its
// hosts at HEAD.
func discoverRepo(t *testing.T, files map[string]string, o hosts.Options) *hosts.Inventory {
	t.Helper()
	g := gittest.New(t)
	g.Commit("fixture", files)
	return discoverAt(t, g.Dir, o)
}

func TestHostForms(t *testing.T) {
	for name, fx := range fixtures {
		t.Run(name, func(t *testing.T) {
			inv := discoverRepo(t, fx.files, hosts.Options{})
			got := map[string][]string{}
			for _, h := range inv.Hosts {
				got[h.Name] = h.Files
				if len(h.Unfollowed) > 0 {
					t.Errorf("%s: unfollowed %v", h.Name, h.Unfollowed)
				}
				if want, ok := fx.external[h.Name]; ok {
					if diff := cmp.Diff(want, h.External); diff != "" {
						t.Errorf("%s: external (-want +got):\n%s", h.Name, diff)
					}
				}
			}
			if diff := cmp.Diff(fx.want, got); diff != "" {
				t.Errorf("hosts and closures (-want +got):\n%s", diff)
			}
			if len(inv.Problems) > 0 {
				t.Errorf("problems: %v", inv.Problems)
			}
		})
	}
}

func TestEntry(t *testing.T) {
	files := map[string]string{
		"deploy/ci.nix": `{ imports = [ ../modules/a.nix ]; }`,
		"modules/a.nix": `{ }`,
		"modules/b.nix": `{ }`,
	}
	inv := discoverRepo(t, files, hosts.Options{Entries: []string{"deploy/ci.nix"}, EntryHost: "ci"})
	if len(inv.Hosts) != 1 || inv.Hosts[0].Name != "ci" || !cmp.Equal(inv.Hosts[0].Files, []string{"deploy/ci.nix", "modules/a.nix"}) {
		t.Errorf("hosts = %+v", inv.Hosts)
	}
	if inv.Hosts[0].Attribute != "" || !cmp.Equal(inv.Hosts[0].EntryFiles(), []string{"deploy/ci.nix"}) {
		t.Errorf("attribute %q, entry files %v", inv.Hosts[0].Attribute, inv.Hosts[0].EntryFiles())
	}
	none := discoverRepo(t, files, hosts.Options{})
	if len(none.Hosts) != 0 || none.Source != "" {
		t.Errorf("a repository without flake.nix or configuration.nix: %+v", none)
	}
}

// TestUnfollowed: what cannot be followed is reported with its place and
// reason; flake-input modules are external, not failures.
func TestUnfollowed(t *testing.T) {
	inv := discoverRepo(t, map[string]string{
		"flake.nix": `{
  outputs = { self, nixpkgs, disko }: {
    nixosConfigurations.h = nixpkgs.lib.nixosSystem { modules = [ ./h.nix disko.nixosModules.disko ]; };
    nixosConfigurations.broken = throw "no such host";
  };
}`,
		"h.nix": `{ config, pkgs, ... }: {
  imports = [
    ./missing.nix
    (if config.services.x.enable then ./a.nix else ./b.nix)
    /etc/nixos/hardware-configuration.nix
  ];
}`,
	}, hosts.Options{})
	h, ok := inv.Host("h")
	if !ok {
		t.Fatalf("hosts %v", inv.Names())
	}
	if !cmp.Equal(h.External, []string{"inputs.disko.nixosModules.disko"}) {
		t.Errorf("external = %v", h.External)
	}
	var got []string
	for _, p := range h.Unfollowed {
		got = append(got, p.String())
	}
	want := []string{
		"h.nix:3: import missing.nix: not in the revision",
		"h.nix:4: condition at h.nix:4: module argument config is known to the module system only",
		"h.nix:5: absolute path /etc/nixos/hardware-configuration.nix is outside the repository",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("unfollowed (-want +got):\n%s", diff)
	}
	b, _ := inv.Host("broken")
	if b == nil || len(b.Unfollowed) != 1 || !strings.Contains(b.Unfollowed[0].Reason, "throw: no such host") {
		t.Errorf("broken host: %+v", b)
	}
	if inv.Complete() {
		t.Error("inventory with unfollowed imports reads as complete")
	}
}
