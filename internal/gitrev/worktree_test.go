package gitrev

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftcheck/driftcheck/internal/gitrev/gittest"
	"github.com/google/go-cmp/cmp"
)

func TestDirty(t *testing.T) {
	g := gittest.New(t)
	g.Commit("first", map[string]string{
		"nix/same.nix":         "{ }\n",
		"nix/edited.nix":       "{ a = 1; }\n",
		"nix/removed.nix":      "{ }\n",
		"nix/tracked-ign.nix":  "{ }\n",
		"src/code.go":          "package main\n",
		"nix/was-file/x.nix":   "{ }\n",
		"nix/mode-changed.nix": "{ }\n",
	})
	// Ignore rules added after nix/tracked-ign.nix was committed.
	g.Commit("ignores", map[string]string{
		"nix/sub/.gitignore": "local-*.nix\n",
		".gitignore":         "nix/tracked-ign.nix\nnix/ignored-dir/\n",
	})
	g.Write("nix/edited.nix", "{ a = 2; }\n")
	g.Remove("nix/removed.nix")
	g.Write("nix/new.nix", "{ }\n")
	g.Write("nix/deep/er/new.nix", "{ }\n")
	g.Write("nix/sub/local-x.nix", "{ }\n")        // ignored by nix/sub/.gitignore, dirty all the same
	g.Write("nix/ignored-dir/y.nix", "{ }\n")      // in an ignored directory, dirty all the same
	g.Write("nix/tracked-ign.nix", "{ b = 1; }\n") // tracked, so compared although ignored
	g.Write("src/code.go", "package changed\n")    // outside the globs
	g.Write("nix/notes.txt", "not a module\n")
	writeFile(t, filepath.Join(g.Dir, ".git", "info", "exclude"), "nix/excluded.nix\n")
	g.Write("nix/excluded.nix", "{ }\n")
	if err := os.Chmod(filepath.Join(g.Dir, "nix", "mode-changed.nix"), 0o755); err != nil {
		t.Fatal(err)
	}

	r := mustOpen(t, filepath.Join(g.Dir, "nix"))
	v, err := r.Resolve(context.Background(), "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	d, err := r.Dirty(context.Background(), v, mustGlobs(t, DefaultModuleGlob))
	if err != nil {
		t.Fatal(err)
	}
	want := Dirty{
		Modified: []string{"nix/edited.nix", "nix/tracked-ign.nix"},
		Deleted:  []string{"nix/removed.nix"},
		// A build from the work tree reads ignored files too.
		Untracked: []string{"nix/deep/er/new.nix", "nix/excluded.nix", "nix/ignored-dir/y.nix", "nix/new.nix", "nix/sub/local-x.nix"},
	}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("Dirty (-want +got):\n%s", diff)
	}
	if d.Clean() {
		t.Error("Clean() on a dirty tree")
	}

	// Committing everything, ignored files included, makes it clean again.
	g.Git("add", "-A", "-f")
	g.Commit("second", nil)
	v2, err := r.Resolve(context.Background(), "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	d2, err := r.Dirty(context.Background(), v2, mustGlobs(t, DefaultModuleGlob))
	if err != nil {
		t.Fatal(err)
	}
	if !d2.Clean() {
		t.Errorf("after committing everything: %+v", d2)
	}
}

func TestDirtyLinkedWorkTree(t *testing.T) {
	g := gittest.New(t)
	g.Commit("first", map[string]string{"nix/a.nix": "{ }\n"})
	writeFile(t, filepath.Join(g.Dir, ".git", "info", "exclude"), "nix/excluded.nix\n")
	linked := filepath.Join(t.TempDir(), "linked")
	g.Git("worktree", "add", "-q", "-b", "other", linked)
	writeFile(t, filepath.Join(linked, "nix", "excluded.nix"), "{ }\n")
	writeFile(t, filepath.Join(linked, "nix", "new.nix"), "{ }\n")
	writeFile(t, filepath.Join(linked, "nix", "a.nix"), "{ x = 1; }\n")
	r := mustOpen(t, linked)
	v, err := r.Resolve(context.Background(), "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	d, err := r.Dirty(context.Background(), v, mustGlobs(t, DefaultModuleGlob))
	if err != nil {
		t.Fatal(err)
	}
	// info/exclude of the common git directory does not hide a module.
	want := Dirty{Modified: []string{"nix/a.nix"}, Untracked: []string{"nix/excluded.nix", "nix/new.nix"}}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("Dirty in a linked work tree (-want +got):\n%s", diff)
	}
}

func TestDirtyBare(t *testing.T) {
	g := gittest.New(t)
	g.Commit("first", map[string]string{"nix/a.nix": "{ }\n"})
	bare := filepath.Join(t.TempDir(), "bare.git")
	g.Git("clone", "-q", "--bare", g.Dir, bare)
	r := mustOpen(t, bare)
	v, err := r.Resolve(context.Background(), "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	d, err := r.Dirty(context.Background(), v, mustGlobs(t, DefaultModuleGlob))
	if err != nil || !d.NoWorkTree {
		t.Errorf("Dirty on a bare repository = %+v, %v; want NoWorkTree", d, err)
	}
}

func TestCompareDir(t *testing.T) {
	g := gittest.New(t)
	g.Commit("first", map[string]string{
		"nix/same.nix":     "{ }\n",
		"nix/changed.nix":  "{ a = 1; }\n",
		"nix/missing.nix":  "{ }\n",
		"nix/hosts/h.nix":  "{ }\n",
		"nix/linked.nix":   "{ }\n",
		"README.md":        "# x\n",
		"nix/hosts/ok.nix": "{ ok = true; }\n",
	})
	v, err := mustOpen(t, g.Dir).Resolve(context.Background(), "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	// The deployed copy is a plain directory, not a repository.
	src := t.TempDir()
	for p, c := range map[string]string{
		"nix/same.nix":     "{ }\n",
		"nix/changed.nix":  "{ a = 2; }\n",
		"nix/hosts/h.nix":  "{ }\n",
		"nix/hosts/ok.nix": "{ ok = true; }\n",
		"nix/extra.nix":    "{ }\n", // extra, even though nix/.gitignore would ignore it
		"nix/.gitignore":   "extra.nix\n",
		"nix/deep/x.nix":   "{ }\n",
		"README.md":        "changed, but outside the globs\n",
	} {
		writeFile(t, filepath.Join(src, filepath.FromSlash(p)), c)
	}
	if err := os.Symlink("same.nix", filepath.Join(src, "nix", "linked.nix")); err != nil {
		t.Fatal(err)
	}
	d, err := v.CompareDir(context.Background(), src, mustGlobs(t, DefaultModuleGlob))
	if err != nil {
		t.Fatal(err)
	}
	want := SourceDiff{
		Differing: []string{"nix/changed.nix", "nix/linked.nix"},
		Missing:   []string{"nix/missing.nix"},
		Extra:     []string{"nix/deep/x.nix", "nix/extra.nix"},
	}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("CompareDir (-want +got):\n%s", diff)
	}

	// A byte-identical copy is the same.
	same := t.TempDir()
	for _, p := range []string{"nix/same.nix", "nix/changed.nix", "nix/missing.nix", "nix/hosts/h.nix", "nix/linked.nix", "nix/hosts/ok.nix"} {
		writeFile(t, filepath.Join(same, filepath.FromSlash(p)), g.Git("show", "HEAD:"+p)+"\n")
	}
	d, err = v.CompareDir(context.Background(), same, mustGlobs(t, DefaultModuleGlob))
	if err != nil || !d.Same() {
		t.Errorf("identical copy: %+v, %v", d, err)
	}

	if _, err := v.CompareDir(context.Background(), filepath.Join(src, "nope"), mustGlobs(t, DefaultModuleGlob)); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing directory: error = %v", err)
	}
}
