package nix_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/driftcheck/driftcheck/internal/gitrev"
	"github.com/driftcheck/driftcheck/internal/gitrev/gittest"
	"github.com/driftcheck/driftcheck/internal/modules"
)

// TestSelfCheck runs driftcheck's declared side (what `driftcheck units
// --modules 'nix/**/*.nix'` runs) on this repository's own Nix files,
// committed into a scratch repository so the test sees the work tree's
// version: the module must declare exactly its prune and check services
// and timers, conditionally (services.driftcheck.{prune,check}.enable),
// named after the defaults of their unitName options, and nothing
// unresolved.
func TestSelfCheck(t *testing.T) {
	root := repoRoot(t)
	repo := gittest.New(t)
	files := map[string]string{}
	err := filepath.WalkDir(filepath.Join(root, "nix"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".nix") {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		files[filepath.ToSlash(rel)] = string(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// nix/tests/eval-flake.nix imports the flake: imports are followed, so
	// the flake is in the revision too, as in the real repository.
	flake, err := os.ReadFile(filepath.Join(root, "flake.nix"))
	if err != nil {
		t.Fatal(err)
	}
	files["flake.nix"] = string(flake)
	repo.Commit("driftcheck's own modules", files)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	globs, err := gitrev.ParseGlobs([]string{"nix/**/*.nix"})
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := modules.Load(ctx, modules.Options{Repo: repo.Dir, Rev: "HEAD", Globs: globs})
	if err != nil {
		t.Fatal(err)
	}
	res := loaded.Result
	for _, e := range res.Errors {
		t.Errorf("%s:%d: does not parse: %s", e.File, e.Line, e.Message)
	}
	for _, u := range res.Unresolved {
		t.Errorf("%s:%d: unresolved: %s (the extractor must resolve an option's mkOption default, "+
			"e.g. cfg.prune.unitName = \"ci-docker-prune\", for driftcheck to check its own module)", u.File, u.Line, u.Reason)
	}
	var got []string
	for _, u := range res.Units {
		got = append(got, u.Name)
		// The prune's units and the check's, each under its enable option.
		option := "prune"
		if strings.HasPrefix(u.Name, "driftcheck-check.") {
			option = "check"
		}
		if !u.Conditional {
			t.Errorf("%s is unconditional; it exists only with services.driftcheck.%s.enable", u.Name, option)
		}
		if u.File != "nix/modules/driftcheck.nix" {
			t.Errorf("%s declared in %s", u.Name, u.File)
		}
		// The name is the option's default: a host may set another.
		if want := "name from option default services.driftcheck." + option + ".unitName"; !slices.Contains(u.Notes, want) {
			t.Errorf("%s notes %q, want %q", u.Name, u.Notes, want)
		}
	}
	if want := []string{"ci-docker-prune.service", "ci-docker-prune.timer", "driftcheck-check.service", "driftcheck-check.timer"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("declared units %q, want %q", got, want)
	}
}
