package gitrev

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/driftcheck/driftcheck/internal/gitrev/gittest"
	"github.com/google/go-cmp/cmp"
)

func TestHistory(t *testing.T) {
	g := gittest.New(t)
	c1 := g.Commit("add a", map[string]string{"nix/a.nix": "{ }\n"})
	g.Commit("docs only", map[string]string{"README.md": "x\n"})
	c3 := g.Commit("edit a", map[string]string{"nix/a.nix": "{ a = 1; }\n"})
	g.Git("checkout", "-q", "-b", "side")
	side := g.Commit("side: add b", map[string]string{"nix/b.nix": "{ }\n"})
	g.Git("checkout", "-q", "main")
	g.Commit("main: docs", map[string]string{"docs/x.md": "x\n"})
	g.Git("merge", "-q", "--no-ff", "-m", "merge side", "side")
	merge := g.Git("rev-parse", "HEAD")
	g.Git("rm", "-q", "nix/b.nix")
	c7 := g.Commit("remove b", nil)
	g.Commit("after", map[string]string{"other.txt": "x\n"})

	r := mustOpen(t, g.Dir)
	ctx := context.Background()
	head, err := r.Resolve(ctx, "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	shas := func(n int) []string {
		t.Helper()
		revs, err := r.History(ctx, head, mustGlobs(t, DefaultModuleGlob), n)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, v := range revs {
			out = append(out, v.SHA)
		}
		return out
	}
	if diff := cmp.Diff([]string{c7, merge, c3, c1}, shas(10)); diff != "" {
		t.Errorf("History(10) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{c7, merge}, shas(2)); diff != "" {
		t.Errorf("History(2) (-want +got):\n%s", diff)
	}
	if got := shas(0); len(got) != 0 {
		t.Errorf("History(0) = %v", got)
	}

	// Each entry reads its own files.
	revs, err := r.History(ctx, head, mustGlobs(t, DefaultModuleGlob), 10)
	if err != nil {
		t.Fatal(err)
	}
	files, err := revs[1].Files(ctx, mustGlobs(t, DefaultModuleGlob))
	if err != nil || len(files) != 2 || files[1].Path != "nix/b.nix" {
		t.Errorf("files at the merge = %+v, %v", files, err)
	}
	if revs[1].Summary != "merge side" {
		t.Errorf("summary = %q", revs[1].Summary)
	}

	ancestry := []struct {
		a, d string
		want bool
	}{
		{c1, c7, true},
		{side, "HEAD", true},
		{c7, c1, false},
		{c3, c3, true},
		{side, c3, false},
	}
	for _, tt := range ancestry {
		got, err := r.IsAncestor(ctx, tt.a, tt.d)
		if err != nil || got != tt.want {
			t.Errorf("IsAncestor(%.7s, %.7s) = %v, %v; want %v", tt.a, tt.d, got, err, tt.want)
		}
	}
	if _, err := r.IsAncestor(ctx, "nope", "HEAD"); err == nil {
		t.Error("IsAncestor with an unknown revision: no error")
	}
}

// TestHistoryShallowClone walks a clone made with --depth: the walk stops
// at the boundary commit (which counts like a root and is marked) instead
// of failing to read its parent, and ancestry past the boundary is an
// ErrShallow, not a wrong answer.
func TestHistoryShallowClone(t *testing.T) {
	g := gittest.New(t)
	c1 := g.Commit("add a", map[string]string{"nix/a.nix": "{ }\n"})
	c2 := g.Commit("edit a", map[string]string{"nix/a.nix": "{ a = 1; }\n"})
	c3 := g.Commit("docs", map[string]string{"README.md": "x\n"})
	c4 := g.Commit("edit a again", map[string]string{"nix/a.nix": "{ a = 2; }\n"})
	clone := gittest.New(t)
	clone.Git("fetch", "-q", "--depth", "3", "file://"+g.Dir, "main")
	clone.Git("reset", "-q", "--hard", "FETCH_HEAD")

	r := mustOpen(t, clone.Dir)
	ctx := context.Background()
	head, err := r.Resolve(ctx, "HEAD")
	if err != nil || head.SHA != c4 {
		t.Fatalf("HEAD = %v, %v", head, err)
	}
	revs, err := r.History(ctx, head, mustGlobs(t, DefaultModuleGlob), 10)
	if err != nil {
		t.Fatalf("History of a shallow clone: %v", err)
	}
	var got []string
	for _, v := range revs {
		got = append(got, v.SHA)
	}
	if diff := cmp.Diff([]string{c4, c2}, got); diff != "" {
		t.Errorf("History (-want +got):\n%s", diff)
	}
	if len(revs) != 2 || revs[0].ShallowBoundary || !revs[1].ShallowBoundary {
		t.Errorf("boundary marks: %+v", revs)
	}
	if _, err := r.Resolve(ctx, "HEAD~3"); err == nil || !strings.Contains(err.Error(), "shallow") {
		t.Errorf("HEAD~3 past the boundary: %v, want an error naming the shallow clone", err)
	}
	if ok, err := r.IsAncestor(ctx, c3, c4); !ok || err != nil {
		t.Errorf("IsAncestor(c3, c4) = %v, %v", ok, err)
	}
	if ok, err := r.IsAncestor(ctx, c4, c2); ok || err == nil || !errors.Is(err, ErrShallow) {
		t.Errorf("IsAncestor(c4, c2) = %v, %v; want ErrShallow (c2's ancestors are cut)", ok, err)
	}
	if _, err := r.Resolve(ctx, c1); err == nil {
		t.Errorf("c1 is not in the clone, but resolves")
	}
}
