package hosts_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/driftcheck/driftcheck/internal/gitrev/gittest"
	"github.com/driftcheck/driftcheck/internal/hosts"
	"github.com/driftcheck/driftcheck/internal/testreq"
)

// The differential test: each host's import closure computed by real Nix
// (nix-instantiate --eval, nixpkgs' real lib, flake.nix's outputs with
// stand-in inputs whose nixosSystem returns its argument, module
// arguments as NixOS passes them to imports; testdata/closure.nix) against
// driftcheck's file set. The oracle knows flake.nix + nixosSystem only, so
// the frameworks (flake-parts, haumea, colmena, clan) are compared on the
// fixtures and corpus repositories written that way.

// A module imported as a value (nixosModules.x = import ./x.nix) carries
// no path in Nix: the oracle names its file by the position of its body's
// first attribute, which Nix 2.8 gives for plain attributes only (not for
// an empty body or one written a.b.c = …); the fixtures' value modules are
// written so that Nix can place them.

// nixClosure runs the oracle for one host of the repository at root.
func nixClosure(t *testing.T, root, libDir string, h hosts.Host) ([]string, error) {
	t.Helper()
	var ext []string
	for _, e := range h.External {
		if !strings.HasPrefix(e, "inputs.") {
			continue
		}
		var parts []string
		for _, p := range strings.Split(strings.TrimPrefix(e, "inputs."), ".") {
			parts = append(parts, fmt.Sprintf("%q", p))
		}
		ext = append(ext, "[ "+strings.Join(parts, " ")+" ]")
	}
	oracle, err := filepath.Abs("testdata/closure.nix")
	if err != nil {
		t.Fatal(err)
	}
	expr := fmt.Sprintf("import %q { root = %q; libDir = %q; host = %q; externals = [ %s ]; }",
		oracle, root, libDir, h.Name, strings.Join(ext, " "))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "nix-instantiate", "--eval", "--strict", "--json", "-E", expr)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%v: %s", err, lastLine(stderr.String()))
	}
	var files []string
	if err := json.Unmarshal(out, &files); err != nil {
		return nil, err
	}
	return files, nil
}

func lastLine(s string) string {
	if i := strings.Index(s, "error:"); i >= 0 {
		s = s[i:]
		if j := strings.IndexByte(s, '\n'); j >= 0 {
			return s[:j]
		}
		return s
	}
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// driftcheckFiles is what the oracle reports: every module file, and the
// files that hold inline modules with settings.
func driftcheckFiles(h hosts.Host) []string {
	set := map[string]bool{}
	for _, f := range h.Files {
		set[f] = true
	}
	for _, in := range h.Inline {
		set[in[:strings.LastIndexByte(in, ':')]] = true
	}
	out := make([]string, 0, len(set))
	for f := range set {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// compareWithNix compares every host of inv; it returns how many hosts
// Nix computed and how many agreed.
func compareWithNix(t *testing.T, root string, inv *hosts.Inventory) (computed, agreed int) {
	t.Helper()
	libDir := testreq.NixpkgsLib(t)
	for _, h := range inv.Hosts {
		want, err := nixClosure(t, root, libDir, h)
		if err != nil {
			t.Logf("%s: Nix could not compute the closure: %v", h.Name, err)
			continue
		}
		computed++
		// Nix counts the files of inline modules with settings; empty
		// inline modules have no position in Nix.
		got := driftcheckFiles(h)
		if diff := cmp.Diff(want, filterInline(got, want, h)); diff != "" {
			t.Errorf("%s: closure differs from Nix's (-nix +driftcheck):\n%s", h.Name, diff)
			continue
		}
		agreed++
	}
	return computed, agreed
}

// filterInline drops files that only hold inline modules Nix has no
// position for (empty ones).
func filterInline(got, want []string, h hosts.Host) []string {
	in := map[string]bool{}
	for _, w := range want {
		in[w] = true
	}
	var out []string
	for _, g := range got {
		if !in[g] && !contains(h.Files, g) {
			continue
		}
		out = append(out, g)
	}
	return out
}

var nixOracleFixtures = []string{"literal nixosSystem", "let-bound and imported helpers",
	"genAttrs over a list, mapAttrs over readDir", "per-host nixosModules", "closure forms"}

func TestClosureMatchesNixFixtures(t *testing.T) {
	testreq.Command(t, "nix-instantiate", "nix-bin")
	for _, name := range nixOracleFixtures {
		fx := fixtures[name]
		t.Run(name, func(t *testing.T) {
			g := gittest.New(t)
			g.Commit("fixture", fx.files)
			inv := discoverRepo(t, fx.files, hosts.Options{})
			computed, agreed := compareWithNix(t, g.Dir, inv)
			if computed != len(inv.Hosts) || agreed != computed {
				t.Errorf("Nix computed %d of %d hosts, %d agree", computed, len(inv.Hosts), agreed)
			}
		})
	}
}

// TestClosureMatchesNixCorpus runs the oracle on the corpus repositories
// whose hosts are written with flake.nix and nixosSystem.
func TestClosureMatchesNixCorpus(t *testing.T) {
	testreq.Command(t, "nix-instantiate", "nix-bin")
	corpus := testreq.Corpus(t)
	for _, dir := range []string{"Misterio77__nix-config", "EmergentMind__nix-config"} {
		t.Run(dir, func(t *testing.T) {
			root := filepath.Join(corpus, dir)
			inv := discoverAt(t, root, hosts.Options{})
			computed, agreed := compareWithNix(t, root, inv)
			t.Logf("%s: Nix computed %d of %d hosts; %d closures equal", dir, computed, len(inv.Hosts), agreed)
			// EmergentMind's grief imports a file that is not there: Nix
			// cannot compute that host either.
			want := len(inv.Hosts)
			if dir == "EmergentMind__nix-config" {
				want--
			}
			if computed != want || agreed != computed {
				t.Errorf("Nix computed %d hosts (want %d), %d agree", computed, want, agreed)
			}
		})
	}
}
