package gitrev_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/driftcheck/driftcheck/internal/gitrev"
	"github.com/driftcheck/driftcheck/internal/gitrev/gittest"
)

func TestExportWritesTheRevisionNotTheWorkTree(t *testing.T) {
	g := gittest.New(t)
	g.Commit("one", map[string]string{
		"configuration.nix":     "{ }: { }\n",
		"hosts/web/default.nix": "{ }: { networking.hostName = \"web\"; }\n",
	})
	if err := os.Chmod(filepath.Join(g.Dir, "configuration.nix"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("hosts/web/default.nix", filepath.Join(g.Dir, "web.nix")); err != nil {
		t.Fatal(err)
	}
	g.Git("add", "-A")
	g.Git("commit", "-q", "-m", "link and mode")
	rev := g.Git("rev-parse", "HEAD")
	// Uncommitted changes must not leak into the export.
	g.Write("configuration.nix", "uncommitted\n")
	g.Write("untracked.nix", "uncommitted\n")

	repo, err := gitrev.Open(g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.Resolve(context.Background(), rev)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := r.Export(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "configuration.nix"))
	if err != nil || string(got) != "{ }: { }\n" {
		t.Errorf("configuration.nix = %q, %v; want the committed content", got, err)
	}
	if st, err := os.Stat(filepath.Join(dir, "configuration.nix")); err != nil || st.Mode().Perm()&0o100 == 0 {
		t.Errorf("configuration.nix mode: %v, %v; want executable", st.Mode(), err)
	}
	if target, err := os.Readlink(filepath.Join(dir, "web.nix")); err != nil || target != "hosts/web/default.nix" {
		t.Errorf("web.nix link = %q, %v", target, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "hosts/web/default.nix")); err != nil {
		t.Errorf("nested file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "untracked.nix")); !os.IsNotExist(err) {
		t.Errorf("untracked.nix exported: %v", err)
	}
}
