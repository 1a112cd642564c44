package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftcheck/driftcheck/internal/gitrev/gittest"
)

// TestRepositoryLintsItself runs `driftcheck lint` on this repository, as
// the CI job in docs/ci does on push: the module must resolve, and every
// Markdown file not excluded by .driftcheck.json (the operations runbook,
// the README) may name only units the module declares. The work tree's
// files are committed into a scratch repository so the test sees them as
// they are, not as HEAD has them.
func TestRepositoryLintsItself(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == ".git" || rel == "bin" || strings.HasSuffix(rel, "/testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(rel, ".md") || strings.HasSuffix(rel, ".nix") || rel == ".driftcheck.json" {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			files[rel] = string(data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := files["nix/modules/driftcheck.nix"]; !ok {
		t.Fatalf("nix/modules/driftcheck.nix not found under %s", root)
	}
	repo := gittest.New(t)
	repo.Commit("driftcheck's own files", files)

	code, stdout, stderr := runLintCLI(t, "--repo", repo.Dir)
	if code != exitOK {
		t.Fatalf("driftcheck lint on this repository: exit %d\n%s%s", code, stdout, stderr)
	}
}
