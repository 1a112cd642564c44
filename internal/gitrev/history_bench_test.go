package gitrev

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/driftcheck/driftcheck/internal/gitrev/gittest"
)

// BenchmarkHistory asks for the last 5 commits that touched the modules in
// a history of 600 commits where every 50th commit edits a module and the
// others edit a large source tree (1000 files), against go-git's Log with
// a path filter as the baseline.
func BenchmarkHistory(b *testing.B) {
	g := gittest.New(b)
	var stream strings.Builder
	// fast-import keeps the fixture build fast; the tree is what matters.
	fmt.Fprintf(&stream, "commit refs/heads/main\ncommitter T <t@example.org> 1767322800 +0000\ndata 4\nbase\n")
	for i := range 1000 {
		fmt.Fprintf(&stream, "M 644 inline src/d%02d/f%04d.go\ndata <<EOF\npackage d // %d\nEOF\n", i%40, i, i)
	}
	for i := range 20 {
		fmt.Fprintf(&stream, "M 644 inline nix/modules/m%02d.nix\ndata <<EOF\n{ m%d = 0; }\nEOF\n", i, i)
	}
	stream.WriteString("\n")
	for c := 1; c < 600; c++ {
		fmt.Fprintf(&stream, "commit refs/heads/main\ncommitter T <t@example.org> %d +0000\ndata <<EOF\nc%d\nEOF\n", 1767322800+c, c)
		if c%50 == 0 {
			fmt.Fprintf(&stream, "M 644 inline nix/modules/m%02d.nix\ndata <<EOF\n{ edit = %d; }\nEOF\n", c%20, c)
		} else {
			fmt.Fprintf(&stream, "M 644 inline src/d%02d/f%04d.go\ndata <<EOF\npackage d // edit %d\nEOF\n", c%40, c%1000, c)
		}
		stream.WriteString("\n")
	}
	g.GitInput(stream.String(), "fast-import", "--quiet")
	r, err := Open(g.Dir)
	if err != nil {
		b.Fatal(err)
	}
	head, err := r.Resolve(context.Background(), "main")
	if err != nil {
		b.Fatal(err)
	}
	globs, _ := ParseGlobs([]string{DefaultModuleGlob})

	b.Run("gitrev.History", func(b *testing.B) {
		for b.Loop() {
			revs, err := r.History(context.Background(), head, globs, 5)
			if err != nil || len(revs) != 5 {
				b.Fatalf("%d revisions, %v", len(revs), err)
			}
		}
	})
	b.Run("baseline=go-git.Log+PathFilter", func(b *testing.B) {
		for b.Loop() {
			iter, err := r.git.Log(&git.LogOptions{From: head.commit.Hash, PathFilter: globs.Match})
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			err = iter.ForEach(func(*object.Commit) error {
				if n++; n == 5 {
					return errStopBench
				}
				return nil
			})
			if err != nil && err != errStopBench || n != 5 {
				b.Fatalf("%d commits, %v", n, err)
			}
		}
	})
}

var errStopBench = fmt.Errorf("stop")
