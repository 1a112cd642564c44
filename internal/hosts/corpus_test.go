package hosts_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/driftcheck/driftcheck/internal/gitrev"
	"github.com/driftcheck/driftcheck/internal/hosts"
	"github.com/driftcheck/driftcheck/internal/hosts/revfs"
	"github.com/driftcheck/driftcheck/internal/testreq"
)

// corpusHosts are the hosts of the real-world corpus, read by hand from
// each repository (see docs/hosts.md): every nixosConfigurations host.
var corpusHosts = map[string]struct {
	hosts []string
	found string // how every host is found
	// complete: every host's closure is followed everywhere.
	complete bool
	// unfollowed are the problems of hosts that are not complete.
	unfollowed map[string][]string
}{
	// Written out: nixosConfigurations.<n> = lib.nixosSystem { … } in flake.nix.
	"Misterio77__nix-config": {hosts: []string{"alcyone", "atlas", "celaeno", "maia", "merope", "pleione", "taygeta"},
		found: "nixosConfigurations", complete: true},
	// Written out, with home-manager and stylix from flake inputs. grief
	// imports a file that is not in the repository at this commit (Nix
	// fails there too).
	"EmergentMind__nix-config": {hosts: []string{"ghost", "grief", "guppy", "gusto"},
		found: "nixosConfigurations", complete: false, unfollowed: map[string][]string{
			"grief": {"hosts/grief/default.nix:16: import hosts/common/optional/services/clamav.nix: not in the revision"}}},
	// haumea.lib.load over outputs/<system>/src, one file per host calling
	// mylib.nixosSystem, merged with mergeAttrsList; colmena for most.
	"ryan4yin__nix-config": {hosts: []string{"ai-niri", "akane", "aquamarine",
		"k3s-prod-1-master-1", "k3s-prod-1-master-2", "k3s-prod-1-master-3",
		"k3s-prod-1-worker-1", "k3s-prod-1-worker-2", "k3s-prod-1-worker-3",
		"k3s-test-1-master-1", "k3s-test-1-master-2", "k3s-test-1-master-3",
		"kana", "kubevirt-shoryu", "kubevirt-shushou", "kubevirt-youko", "ruby", "shoukei-niri"},
		found: "nixosConfigurations", complete: true},
	// flake-parts with clan-core: every directory under machines/ plus the
	// inventory's machines (the same seven).
	"badele__nix-homelab": {hosts: []string{"airlock", "badxps", "constellation", "gagarin", "hangar16", "hangar16-vm", "houston"},
		found: "clan machine", complete: true},
	// nixosConfigurations = builder.mkAllNixos (fromTOML lib/registry-systems.toml):
	// the registry is not in the corpus (it keeps .nix and .md files only),
	// so the hosts are the directories nixos/<n>/ that mkNixos imports as
	// ../nixos/${hostname}, reported as found by convention, incomplete.
	"wimpysworld__nix-config": {hosts: []string{"atrius", "bane", "cognus", "dagger", "felkor", "malak", "maul",
		"nihilus", "ravi", "revan", "shaa", "sidious", "skrye", "tanis", "zannah"},
		found: "directory convention", complete: false},
	// A module library: images and installers, no nixosConfigurations.
	"nix-community__nixos-images": {hosts: []string{}, complete: true},
}

func TestCorpusHosts(t *testing.T) {
	corpus := testreq.Corpus(t)
	for dir, want := range corpusHosts {
		t.Run(dir, func(t *testing.T) {
			inv := discoverAt(t, filepath.Join(corpus, dir), hosts.Options{})
			if diff := cmp.Diff(want.hosts, inv.Names()); diff != "" {
				t.Errorf("hosts (-want +got):\n%s", diff)
			}
			named := discoverAt(t, filepath.Join(corpus, dir), hosts.Options{NamesOnly: true})
			if diff := cmp.Diff(want.hosts, named.Names()); diff != "" {
				t.Errorf("hosts, names only (-want +got):\n%s", diff)
			}
			for _, h := range named.Hosts {
				if len(h.Files) != 0 {
					t.Errorf("%s: names only followed %d files", h.Name, len(h.Files))
				}
			}
			for _, h := range inv.Hosts {
				if !contains(h.Found, want.found) {
					t.Errorf("%s found by %v, want %s", h.Name, h.Found, want.found)
				}
				var unf []string
				for _, p := range h.Unfollowed {
					unf = append(unf, p.String())
				}
				if (want.complete || want.unfollowed != nil) && !cmp.Equal(unf, want.unfollowed[h.Name]) {
					t.Errorf("%s: unfollowed %q, want %q", h.Name, unf, want.unfollowed[h.Name])
				}
				if len(h.Files) == 0 {
					t.Errorf("%s: empty closure", h.Name)
				}
				for _, e := range h.External {
					if !strings.HasPrefix(e, "inputs.") && !strings.HasPrefix(e, "modulesPath") && !strings.HasPrefix(e, "clan service ") {
						t.Errorf("%s: external %q is neither a flake input, modulesPath nor a clan service", h.Name, e)
					}
				}
			}
			if want.complete != inv.Complete() {
				t.Errorf("complete = %v, want %v; problems %v", inv.Complete(), want.complete, inv.Problems)
			}
		})
	}
}

// discoverAt discovers the hosts of the git repository in dir at HEAD.
func discoverAt(t testing.TB, dir string, o hosts.Options) *hosts.Inventory {
	t.Helper()
	repo, err := gitrev.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	v, err := repo.Resolve(context.Background(), "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	inv, _, err := revfs.Discover(context.Background(), v, o)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
