package gitrev

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftcheck/driftcheck/internal/gitrev/gittest"
)

func TestCommitOnNewBranch(t *testing.T) {
	g := gittest.New(t)
	g.Commit("base", map[string]string{
		"README.md":          "hello\n",
		"nix/modules/a.nix":  "{ }\n",
		"nix/modules/b.nix":  "{ b = 1; }\n",
		"nix/other/keep.nix": "{ }\n",
		"run.sh":             "#!/bin/sh\n",
	})
	if err := os.Chmod(filepath.Join(g.Dir, "run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	base := g.Commit("exec bit", nil)
	// Uncommitted work the commit must never touch.
	g.Write("nix/modules/a.nix", "{ dirty = true; }\n")
	g.Write("untracked.nix", "{ }\n")
	g.Git("add", "untracked.nix")
	indexBefore := g.Git("diff", "--cached", "--name-status")
	statusBefore := g.Git("status", "--porcelain")

	r := mustOpen(t, g.Dir)
	ctx := context.Background()
	rev, err := r.Resolve(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	changes := []Change{
		{Path: "nix/modules/a.nix", Data: []byte("{ a = 2; }\n")},
		{Path: "nix/modules/b.nix", Delete: true},
		{Path: "nix/modules/new/c.nix", Data: []byte("{ c = 3; }\n")},
		{Path: "nix/other/keep.nix", Delete: true}, // leaves nix/other empty: the directory goes
		{Path: "run.sh", Data: []byte("#!/bin/sh\necho hi\n")},
	}
	sig := Signature{Name: "driftcheck", Email: "driftcheck@localhost", When: time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)}
	sha, err := r.CommitOnNewBranch(ctx, rev, "driftcheck/reconcile-test", changes, "Reconcile\n", sig)
	if err != nil {
		t.Fatal(err)
	}
	if got := g.Git("rev-parse", "driftcheck/reconcile-test"); got != sha {
		t.Errorf("branch at %s, want %s", got, sha)
	}
	if got := g.Git("rev-parse", sha+"^"); got != base {
		t.Errorf("parent %s, want %s", got, base)
	}
	if got := g.Git("rev-parse", "HEAD"); got != base {
		t.Errorf("HEAD moved to %s", got)
	}
	if got := g.Git("symbolic-ref", "HEAD"); got != "refs/heads/main" {
		t.Errorf("HEAD is %s", got)
	}
	if got := g.Git("diff", "--cached", "--name-status"); got != indexBefore {
		t.Errorf("index changed: %q, was %q", got, indexBefore)
	}
	if got := g.Git("status", "--porcelain"); got != statusBefore {
		t.Errorf("work tree status changed: %q, was %q", got, statusBefore)
	}
	if data, _ := os.ReadFile(filepath.Join(g.Dir, "nix/modules/a.nix")); string(data) != "{ dirty = true; }\n" {
		t.Errorf("work tree file changed: %q", data)
	}
	g.Git("fsck", "--strict", "--no-dangling")
	files := g.Git("ls-tree", "-r", "--name-only", sha)
	if want := "README.md\nnix/modules/a.nix\nnix/modules/new/c.nix\nrun.sh"; files != want {
		t.Errorf("tree:\n%s\nwant\n%s", files, want)
	}
	if got := g.Git("show", sha+":nix/modules/a.nix"); got != "{ a = 2; }" {
		t.Errorf("a.nix = %q", got)
	}
	if mode := strings.Fields(g.Git("ls-tree", sha, "run.sh"))[0]; mode != "100755" {
		t.Errorf("run.sh mode %s, want 100755 kept", mode)
	}
	if got := g.Git("log", "-1", "--format=%an <%ae> %s", sha); got != "driftcheck <driftcheck@localhost> Reconcile" {
		t.Errorf("commit: %s", got)
	}

	// The branch exists now: a second commit is refused and moves nothing.
	_, err = r.CommitOnNewBranch(ctx, rev, "driftcheck/reconcile-test", changes, "again", sig)
	if !errors.Is(err, ErrBranchExists) {
		t.Errorf("second commit on the branch: %v, want ErrBranchExists", err)
	}
	if got := g.Git("rev-parse", "driftcheck/reconcile-test"); got != sha {
		t.Errorf("branch moved to %s", got)
	}
	for _, bad := range []string{"", "a..b", "x y", "../up"} {
		if _, err := r.CommitOnNewBranch(ctx, rev, bad, changes, "m", sig); err == nil {
			t.Errorf("branch %q accepted", bad)
		}
	}
	if _, err := r.CommitOnNewBranch(ctx, rev, "other", []Change{{Path: "../x", Data: []byte("x")}}, "m", sig); err == nil {
		t.Error("a path outside the repository was accepted")
	}
}
