// Package nixevaltest builds what evaluation tests need with the real Nix
// and nixpkgs' real lib: a NixOS-shaped stand-in (standin/nixos, on
// lib.evalModules) as a path: flake and as <nixpkgs> for NIX_PATH, and
// host flakes as git repositories whose committed lock file points at it.
// No nixpkgs is available here, and current nixpkgs needs a newer Nix than
// Debian's 2.8: the stand-in has NixOS's option names, types and derived
// units for what driftcheck reads, and nothing else.
package nixevaltest

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/driftcheck/driftcheck/internal/gitrev"
	"github.com/driftcheck/driftcheck/internal/gitrev/gittest"
	"github.com/driftcheck/driftcheck/internal/testreq"
)

//go:embed standin
var standinFiles embed.FS

// NixFlags enable flakes on Debian's Nix 2.8, where they are experimental.
var NixFlags = []string{"--extra-experimental-features", "nix-command flakes"}

// Standin is the stand-in written to disk.
type Standin struct {
	// Flake is a flake directory whose input is nixpkgs' lib as a path:
	// flake; its lib.nixosSystem evaluates modules like nixpkgs'.
	Flake string
	// NixPath is a directory to put on NIX_PATH as nixpkgs: <nixpkgs/nixos>
	// and <nixpkgs/lib>.
	NixPath string
}

// NewStandin writes the stand-in into temporary directories. It stops the
// test when Nix or nixpkgs' lib is missing (see testreq).
func NewStandin(t testing.TB) *Standin {
	t.Helper()
	testreq.Command(t, "nix", "nix-bin")
	testreq.Command(t, "nix-instantiate", "nix-bin")
	lib := testreq.NixpkgsLib(t)
	s := &Standin{Flake: t.TempDir(), NixPath: t.TempDir()}
	for _, dir := range []string{s.Flake, s.NixPath} {
		if err := copyStandin(dir); err != nil {
			t.Fatal(err)
		}
	}
	flake := fmt.Sprintf(`{
  inputs.nixpkgs-lib.url = "path:%s";
  outputs = { self, nixpkgs-lib }: {
    lib = nixpkgs-lib.lib // { nixosSystem = import ./nixos/eval-config.nix nixpkgs-lib.lib; };
  };
}
`, lib)
	if err := os.WriteFile(filepath.Join(s.Flake, "flake.nix"), []byte(flake), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(lib, "lib"), filepath.Join(s.NixPath, "lib")); err != nil {
		t.Fatal(err)
	}
	return s
}

func copyStandin(dest string) error {
	return fs.WalkDir(standinFiles, "standin", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, "standin"), "/")
		target := filepath.Join(dest, filepath.FromSlash(rel))
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := standinFiles.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}

// NixPathEnv is this process's environment with NIX_PATH set to the
// stand-in as nixpkgs.
func (s *Standin) NixPathEnv() []string {
	env := []string{"NIX_PATH=nixpkgs=" + s.NixPath}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "NIX_PATH=") {
			env = append(env, kv)
		}
	}
	return env
}

// HostFlake is a flake.nix defining one nixosConfigurations host per entry
// (host name → its module file, relative to the repository root) on the
// stand-in.
func (s *Standin) HostFlake(hosts map[string]string) string {
	names := make([]string, 0, len(hosts))
	for n := range hosts {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "{\n  inputs.nixpkgs.url = \"path:%s\";\n  outputs = { self, nixpkgs }: {\n    nixosConfigurations = {\n", s.Flake)
	for _, n := range names {
		fmt.Fprintf(&b, "      %q = nixpkgs.lib.nixosSystem { system = \"x86_64-linux\"; modules = [ ./%s ]; };\n", n, hosts[n])
	}
	b.WriteString("    };\n  };\n}\n")
	return b.String()
}

// Lock runs nix flake lock in the repository's work tree, as a user does
// before committing flake.lock.
func Lock(t testing.TB, repo *gittest.Repo) {
	t.Helper()
	cmd := exec.Command("nix", append(NixFlags, "flake", "lock")...)
	cmd.Dir = repo.Dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nix flake lock: %v: %s", err, out)
	}
}

// FlakeRepo commits files and the host flake, locks it and commits
// flake.lock; it returns the repository and the locked commit.
func (s *Standin) FlakeRepo(t testing.TB, hosts map[string]string, files map[string]string) (*gittest.Repo, string) {
	t.Helper()
	repo := gittest.New(t)
	all := map[string]string{"flake.nix": s.HostFlake(hosts)}
	for p, c := range files {
		all[p] = c
	}
	repo.Commit("configuration", all)
	Lock(t, repo)
	return repo, repo.Commit("lock the inputs", nil)
}

// Revision resolves rev in the repository at dir.
func Revision(t testing.TB, dir, rev string) *gitrev.Revision {
	t.Helper()
	repo, err := gitrev.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.Resolve(context.Background(), rev)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// PlainRepo commits files to a new repository without a flake.
func PlainRepo(t testing.TB, files map[string]string) *gittest.Repo {
	t.Helper()
	repo := gittest.New(t)
	repo.Commit("configuration", files)
	return repo
}
