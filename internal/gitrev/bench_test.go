package gitrev

import (
	"context"
	"fmt"
	"testing"

	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/driftcheck/driftcheck/internal/gitrev/gittest"
)

// benchRepo is a work tree shaped like a monorepo that keeps its NixOS
// modules in nix/: 100 module files among 5000 other files, with one
// module edited and one added in the work tree.
func benchRepo(b *testing.B) (*Repo, *Revision) {
	b.Helper()
	g := gittest.New(b)
	files := map[string]string{}
	for i := range 100 {
		files[fmt.Sprintf("nix/modules/m%03d.nix", i)] = fmt.Sprintf("{ systemd.services.s%d = { }; }\n", i)
	}
	for i := range 5000 {
		files[fmt.Sprintf("src/pkg%02d/file%04d.go", i%50, i)] = fmt.Sprintf("package pkg%02d // %d\n", i%50, i)
	}
	g.Commit("bench", files)
	g.Write("nix/modules/m000.nix", "{ edited = true; }\n")
	g.Write("nix/modules/new.nix", "{ }\n")
	r, err := Open(g.Dir)
	if err != nil {
		b.Fatal(err)
	}
	v, err := r.Resolve(context.Background(), "HEAD")
	if err != nil {
		b.Fatal(err)
	}
	return r, v
}

// BenchmarkDirty compares the module-only dirty check with the baseline,
// go-git's full Worktree.Status.
func BenchmarkDirty(b *testing.B) {
	r, v := benchRepo(b)
	globs, _ := ParseGlobs([]string{DefaultModuleGlob})
	b.Run("gitrev.Dirty", func(b *testing.B) {
		for b.Loop() {
			d, err := r.Dirty(context.Background(), v, globs)
			if err != nil || len(d.Modified) != 1 || len(d.Untracked) != 1 {
				b.Fatalf("%+v, %v", d, err)
			}
		}
	})
	b.Run("baseline=go-git.Status", func(b *testing.B) {
		wt, err := r.git.Worktree()
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			st, err := wt.Status()
			if err != nil || st.IsClean() {
				b.Fatalf("clean=%v, %v", st.IsClean(), err)
			}
		}
	})
}

// BenchmarkFiles measures listing and reading the module files of a
// revision, against go-git's recursive Tree.Files iterator as baseline.
func BenchmarkFiles(b *testing.B) {
	_, v := benchRepo(b)
	globs, _ := ParseGlobs([]string{DefaultModuleGlob})
	b.Run("gitrev.Files", func(b *testing.B) {
		for b.Loop() {
			fs, err := v.Files(context.Background(), globs)
			if err != nil || len(fs) != 100 {
				b.Fatalf("%d files, %v", len(fs), err)
			}
		}
	})
	b.Run("baseline=go-git.Tree.Files", func(b *testing.B) {
		for b.Loop() {
			tree, err := v.commit.Tree()
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			err = tree.Files().ForEach(func(f *object.File) error {
				if globs.Match(f.Name) {
					if _, err := f.Contents(); err != nil {
						return err
					}
					n++
				}
				return nil
			})
			if err != nil || n != 100 {
				b.Fatalf("%d files, %v", n, err)
			}
		}
	})
}
