package gitrev

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftcheck/driftcheck/internal/gitrev/gittest"
)

func mustOpen(t *testing.T, dir string) *Repo {
	t.Helper()
	r, err := Open(dir)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	return r
}

func TestResolve(t *testing.T) {
	g := gittest.New(t)
	first := g.Commit("first", map[string]string{"nix/a.nix": "{ }\n"})
	g.Git("tag", "light")
	g.Git("branch", "feature")
	second := g.Commit("second", map[string]string{"nix/a.nix": "{ x = 1; }\n"})
	g.Git("tag", "-a", "-m", "release one", "v1")
	g.Git("tag", "-a", "-m", "tag of a tag", "v1-again", "v1")

	clone := gittest.Open(t, t.TempDir())
	clone.Git("clone", "-q", g.Dir, clone.Dir)
	clone.Commit("local only", map[string]string{"nix/b.nix": "{ }\n"})

	ctx := context.Background()
	tests := []struct {
		dir, rev string
		want     string
		wantErr  error
	}{
		{g.Dir, "HEAD", second, nil},
		{g.Dir, "main", second, nil},
		{g.Dir, "refs/heads/main", second, nil},
		{g.Dir, "feature", first, nil},
		{g.Dir, "light", first, nil},
		{g.Dir, "v1", second, nil},
		{g.Dir, "refs/tags/v1", second, nil},
		{g.Dir, "v1-again", second, nil},
		{g.Dir, first, first, nil},
		{g.Dir, strings.ToUpper(first), first, nil},
		{g.Dir, first[:7], first, nil},
		{g.Dir, first[:5], first, nil},
		{g.Dir, "HEAD~1", first, nil},
		{g.Dir, "v1^", first, nil},
		{clone.Dir, "origin/main", second, nil},
		{clone.Dir, "refs/remotes/origin/main", second, nil},
		{clone.Dir, "origin/feature", first, nil},
		{g.Dir, "v1^0", second, nil},
		{g.Dir, "HEAD~1^0~0", first, nil},
		{g.Dir, "HEAD^^", "", ErrUnknownRevision},
		{g.Dir, "HEAD^2", "", ErrUnknownRevision},
		{g.Dir, "HEAD^{tree}", "", ErrUnsupportedRevision},
		{g.Dir, "main:nix", "", ErrUnsupportedRevision},
		{g.Dir, "HEAD@{1}", "", ErrUnsupportedRevision},
		{g.Dir, "HEAD~x", "", ErrUnsupportedRevision},
		{g.Dir, "~1", "", ErrUnsupportedRevision},
		{g.Dir, "main..feature", "", ErrUnsupportedRevision},
		{g.Dir, "--all", "", ErrUnsupportedRevision},
		{g.Dir, "nope", "", ErrUnknownRevision},
		{g.Dir, "", "", ErrUnknownRevision},
		{g.Dir, "HEAD~5", "", ErrUnknownRevision},
		{g.Dir, strings.Repeat("0", 40), "", ErrUnknownRevision},
		{g.Dir, "origin/main", "", ErrUnknownRevision},
	}
	for _, tt := range tests {
		t.Run(tt.rev, func(t *testing.T) {
			v, err := mustOpen(t, tt.dir).Resolve(ctx, tt.rev)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Resolve(%q) error = %v, want %v", tt.rev, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve(%q): %v", tt.rev, err)
			}
			if v.SHA != tt.want {
				t.Errorf("Resolve(%q) = %s, want %s", tt.rev, v.SHA, tt.want)
			}
		})
	}
}

func TestResolveMetadata(t *testing.T) {
	g := gittest.New(t)
	sha := g.Commit("add modules\n\nlong body", map[string]string{"nix/a.nix": "{ }\n"})
	v, err := mustOpen(t, g.Dir).Resolve(context.Background(), "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	if v.SHA != sha || v.Summary != "add modules" || v.Time.UTC().Format("2006-01-02T15:04:05Z") != "2026-01-02T03:04:05Z" {
		t.Errorf("got %s %q %s", v.SHA, v.Summary, v.Time)
	}
}

// TestResolveAmbiguousShortSHA builds enough commits with git fast-import
// (deterministic: fixed dates and messages) that two share a 4-digit
// prefix, then asks for that prefix.
func TestResolveAmbiguousShortSHA(t *testing.T) {
	g := gittest.New(t)
	var stream strings.Builder
	const n = 1500
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&stream, "commit refs/heads/many\ncommitter T <t@example.org> 1767322800 +0000\ndata <<EOF\nc%d\nEOF\n\n", i)
	}
	g.GitInput(stream.String(), "fast-import", "--quiet")
	byPrefix := map[string][]string{}
	var prefix string
	for _, sha := range strings.Fields(g.Git("rev-list", "many")) {
		byPrefix[sha[:4]] = append(byPrefix[sha[:4]], sha)
		if len(byPrefix[sha[:4]]) == 2 {
			prefix = sha[:4]
		}
	}
	if prefix == "" {
		t.Fatal("fixture: no two of the commits share a 4-digit prefix; add commits")
	}
	_, err := mustOpen(t, g.Dir).Resolve(context.Background(), prefix)
	if !errors.Is(err, ErrAmbiguousRevision) {
		t.Fatalf("Resolve(%q) error = %v, want ErrAmbiguousRevision", prefix, err)
	}
	for _, sha := range byPrefix[prefix] {
		if !strings.Contains(err.Error(), sha) {
			t.Errorf("error %q does not list candidate %s", err, sha)
		}
	}
	// Longer prefixes tell them apart.
	for _, sha := range byPrefix[prefix] {
		v, err := mustOpen(t, g.Dir).Resolve(context.Background(), sha[:12])
		if err != nil || v.SHA != sha {
			t.Errorf("Resolve(%q) = %v, %v; want %s", sha[:12], v, err, sha)
		}
	}
}

func TestOpen(t *testing.T) {
	g := gittest.New(t)
	sha := g.Commit("first", map[string]string{"nix/hosts/web.nix": "{ }\n"})
	// The bare repository sits inside another work tree: it must still be
	// opened as itself, as git does.
	outer := gittest.New(t)
	outer.Commit("outer", map[string]string{"README": "outer\n"})
	bare := filepath.Join(outer.Dir, "bare.git")
	g.Git("clone", "-q", "--bare", g.Dir, bare)
	ctx := context.Background()

	sub := mustOpen(t, filepath.Join(g.Dir, "nix", "hosts"))
	if sub.WorkTree() != g.Dir {
		t.Errorf("WorkTree() from a subdirectory = %q, want %q", sub.WorkTree(), g.Dir)
	}
	b := mustOpen(t, bare)
	if b.WorkTree() != "" {
		t.Errorf("bare repository has work tree %q", b.WorkTree())
	}
	for name, r := range map[string]*Repo{"subdirectory": sub, "bare": b} {
		v, err := r.Resolve(ctx, "main")
		if err != nil || v.SHA != sha {
			t.Errorf("%s: Resolve(main) = %v, %v; want %s", name, v, err, sha)
		}
	}

	linked := filepath.Join(t.TempDir(), "linked")
	g.Git("worktree", "add", "-q", "-b", "other", linked)
	lt := mustOpen(t, filepath.Join(linked, "nix"))
	if lt.WorkTree() != linked {
		t.Errorf("linked work tree root = %q, want %q", lt.WorkTree(), linked)
	}
	if v, err := lt.Resolve(ctx, "other"); err != nil || v.SHA != sha {
		t.Errorf("linked work tree: Resolve(other) = %v, %v; want %s", v, err, sha)
	}

	empty := gittest.New(t)
	if _, err := mustOpen(t, empty.Dir).Resolve(ctx, "HEAD"); !errors.Is(err, ErrUnknownRevision) || !strings.Contains(err.Error(), "no commits") {
		t.Errorf("HEAD of an empty repository: error = %v", err)
	}

	if _, err := Open(t.TempDir()); !errors.Is(err, ErrNotRepository) {
		t.Errorf("Open(empty dir) error = %v, want ErrNotRepository", err)
	}
	missing := filepath.Join(t.TempDir(), "missing")
	if _, err := Open(missing); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("Open(missing dir) error = %v, want one naming the directory", err)
	}
}

func TestCorruptRepository(t *testing.T) {
	ctx := context.Background()
	globs, _ := ParseGlobs([]string{DefaultModuleGlob})

	t.Run("garbled HEAD", func(t *testing.T) {
		g := gittest.New(t)
		g.Commit("first", map[string]string{"nix/a.nix": "{ }\n"})
		writeFile(t, filepath.Join(g.Dir, ".git", "HEAD"), "garbage\n")
		r, err := Open(g.Dir)
		if err == nil {
			_, err = r.Resolve(ctx, "HEAD")
		}
		if err == nil || errors.Is(err, ErrUnknownRevision) || !strings.Contains(err.Error(), "HEAD") {
			t.Fatalf("garbled HEAD: error = %v, want a corruption error naming HEAD", err)
		}
		t.Logf("error: %v", err)
	})

	t.Run("truncated object", func(t *testing.T) {
		g := gittest.New(t)
		g.Commit("first", map[string]string{"nix/a.nix": "{ services = 1; }\n"})
		blob := g.Git("rev-parse", "HEAD:nix/a.nix")
		obj := filepath.Join(g.Dir, ".git", "objects", blob[:2], blob[2:])
		if err := os.Chmod(obj, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(obj, 5); err != nil {
			t.Fatal(err)
		}
		v, err := mustOpen(t, g.Dir).Resolve(ctx, "HEAD")
		if err != nil {
			t.Fatalf("Resolve: %v", err)
		}
		_, err = v.Files(ctx, globs)
		if err == nil || !strings.Contains(err.Error(), "nix/a.nix") {
			t.Fatalf("Files on a truncated blob: error = %v, want one naming nix/a.nix", err)
		}
		t.Logf("error: %v", err)
	})

	t.Run("garbled commit", func(t *testing.T) {
		g := gittest.New(t)
		sha := g.Commit("first", map[string]string{"nix/a.nix": "{ }\n"})
		obj := filepath.Join(g.Dir, ".git", "objects", sha[:2], sha[2:])
		if err := os.Chmod(obj, 0o644); err != nil {
			t.Fatal(err)
		}
		writeFile(t, obj, "not zlib at all")
		_, err := mustOpen(t, g.Dir).Resolve(ctx, "HEAD")
		if err == nil || errors.Is(err, ErrUnknownRevision) {
			t.Fatalf("Resolve on a garbled commit: error = %v, want a read error", err)
		}
		t.Logf("error: %v", err)
	})
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestHasCommit(t *testing.T) {
	g := gittest.New(t)
	sha := g.Commit("first", map[string]string{"nix/a.nix": "{ }\n"})
	r := mustOpen(t, g.Dir)
	tree := g.Git("rev-parse", "HEAD^{tree}")
	tests := []struct {
		sha     string
		want    bool
		wantErr bool
	}{
		{sha, true, false},
		{strings.Repeat("1", 40), false, false},
		{tree, false, false},
		{sha[:7], false, true},
		{"not-a-sha", false, true},
	}
	for _, tt := range tests {
		got, err := r.HasCommit(tt.sha)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("HasCommit(%q) = %v, %v; want %v, error %v", tt.sha, got, err, tt.want, tt.wantErr)
		}
	}
}
