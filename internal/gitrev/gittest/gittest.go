// Package gittest builds real git repositories for tests with the real git
// binary, so that what go-git reads is what git wrote.
package gittest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftcheck/driftcheck/internal/testreq"
)

// Repo is a git work tree in a temporary directory.
type Repo struct {
	t   testing.TB
	git string
	Dir string
}

// New creates an empty repository (branch main) in a temporary directory;
// it stops the test when git is not installed (see testreq).
func New(t testing.TB) *Repo {
	t.Helper()
	r := &Repo{t: t, git: testreq.Command(t, "git", "git"), Dir: t.TempDir()}
	r.Git("init", "-q", "-b", "main")
	return r
}

// Open wraps an existing directory (a clone, a bare repository).
func Open(t testing.TB, dir string) *Repo {
	t.Helper()
	return &Repo{t: t, git: testreq.Command(t, "git", "git"), Dir: dir}
}

// Git runs git in the repository with a fixed identity and dates and no
// user or system configuration, and returns its trimmed stdout.
func (r *Repo) Git(args ...string) string {
	r.t.Helper()
	out, err := r.TryGit(args...)
	if err != nil {
		r.t.Fatalf("git %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// GitInput is Git with stdin.
func (r *Repo) GitInput(stdin string, args ...string) string {
	r.t.Helper()
	out, err := r.run(stdin, args)
	if err != nil {
		r.t.Fatalf("git %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// TryGit is Git returning the error instead of failing the test.
func (r *Repo) TryGit(args ...string) (string, error) {
	r.t.Helper()
	return r.run("", args)
}

func (r *Repo) run(stdin string, args []string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.git, args...)
	cmd.Dir = r.Dir
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = append(os.Environ(),
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "HOME="+r.Dir,
		"GIT_AUTHOR_NAME=Test", "GIT_AUTHOR_EMAIL=test@example.org", "GIT_AUTHOR_DATE=2026-01-02T03:04:05Z",
		"GIT_COMMITTER_NAME=Test", "GIT_COMMITTER_EMAIL=test@example.org", "GIT_COMMITTER_DATE=2026-01-02T03:04:05Z",
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", &gitError{err: err, stderr: strings.TrimSpace(stderr.String())}
	}
	return strings.TrimSpace(stdout.String()), nil
}

type gitError struct {
	err    error
	stderr string
}

func (e *gitError) Error() string { return e.err.Error() + ": " + e.stderr }

// Write creates or replaces a file of the work tree (slash path).
func (r *Repo) Write(path, content string) {
	r.t.Helper()
	p := filepath.Join(r.Dir, filepath.FromSlash(path))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// Remove deletes a file of the work tree.
func (r *Repo) Remove(path string) {
	r.t.Helper()
	if err := os.Remove(filepath.Join(r.Dir, filepath.FromSlash(path))); err != nil {
		r.t.Fatal(err)
	}
}

// Commit writes files (path → content), stages everything and commits;
// it returns the new commit's sha.
func (r *Repo) Commit(msg string, files map[string]string) string {
	r.t.Helper()
	for p, c := range files {
		r.Write(p, c)
	}
	r.Git("add", "-A")
	r.Git("commit", "-q", "--allow-empty", "-m", msg)
	return r.Git("rev-parse", "HEAD")
}
