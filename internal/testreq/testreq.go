// Package testreq decides what a test does when a real component it needs
// (nix-instantiate, systemd, dockerd, git) is missing: outside CI it skips
// and says why; in CI (the CI variable is set) it fails, because a skipped
// integration test there is a missing test.
package testreq

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// InCI reports whether the tests run in CI.
func InCI() bool { return os.Getenv("CI") != "" }

// Missing stops the test because a prerequisite is absent.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if InCI() {
		t.Fatalf("prerequisite missing in CI: "+format, args...)
	}
	t.Skipf("skipped, prerequisite missing: "+format, args...)
}

// Command returns the path of an executable, or stops the test when it is
// not installed.
func Command(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, "%s not found on PATH (install Debian package %s)", name, pkg)
	}
	return p
}

// Root stops the test unless it runs as root.
func Root(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		Missing(t, "needs root: %s", why)
	}
}

// SharedDir returns the project's shared test data directory: $DRIFTCHECK_SHARED
// when set, else the first "shared" directory found beside the repository
// root or one of its parents (CI clones main with a copy of shared/ beside
// it). It stops the test when there is none.
func SharedDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("DRIFTCHECK_SHARED"); d != "" {
		return d
	}
	root, err := repoRoot()
	if err != nil {
		Missing(t, "shared test data: %v", err)
	}
	for dir := filepath.Dir(root); ; dir = filepath.Dir(dir) {
		cand := filepath.Join(dir, "shared")
		if st, err := os.Stat(filepath.Join(cand, "corpus", "MANIFEST.tsv")); err == nil && !st.IsDir() {
			return cand
		}
		if dir == filepath.Dir(dir) {
			break
		}
	}
	Missing(t, "shared test data (corpus, nixpkgs-lib) not found beside %s; set DRIFTCHECK_SHARED", root)
	return ""
}

// repoRoot is the directory holding go.mod, from the test's working directory up.
func repoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		if dir == filepath.Dir(dir) {
			return "", fmt.Errorf("no go.mod above %s", wd)
		}
	}
}

var unpackMu sync.Mutex

// Corpus unpacks the real-world NixOS configuration corpus (shared/corpus,
// six public configuration repositories as git repositories) once per user
// cache and returns the directory holding them, one subdirectory per
// repository as named in MANIFEST.tsv's dir column. The unpacked copy is
// keyed by the archive's size and time, so a new archive unpacks anew.
func Corpus(t testing.TB) string {
	t.Helper()
	return unpack(t, "corpus", "realworld-nix.tar.gz")
}

// NixpkgsLib unpacks shared/nixpkgs-lib once and returns the directory
// holding lib/ and flake.nix (`import DIR/lib` is nixpkgs' lib).
func NixpkgsLib(t testing.TB) string {
	t.Helper()
	return unpack(t, "nixpkgs-lib", "nixpkgs-lib.tar.gz")
}

func unpack(t testing.TB, name, archive string) string {
	t.Helper()
	Command(t, "git", "git")
	src := filepath.Join(SharedDir(t), name)
	st, err := os.Stat(filepath.Join(src, archive))
	if err != nil {
		Missing(t, "shared/%s: %v", name, err)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dest := filepath.Join(cache, "driftcheck-testdata", fmt.Sprintf("%s-%d-%d", name, st.Size(), st.ModTime().Unix()))
	unpackMu.Lock()
	defer unpackMu.Unlock()
	// Several test binaries may unpack at once: each unpacks into its own
	// directory and renames it into place; the first rename wins.
	if _, err := os.Stat(filepath.Join(dest, ".complete")); err == nil {
		return dest
	}
	tmp, err := os.MkdirTemp(filepath.Dir(mustMkdir(t, dest)), name+"-unpack-")
	if err != nil {
		t.Fatalf("unpack %s: %v", name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "sh", filepath.Join(src, "unpack.sh"), tmp).CombinedOutput()
	if err != nil {
		os.RemoveAll(tmp)
		t.Fatalf("unpack %s: %v: %s", name, err, out)
	}
	if err := os.WriteFile(filepath.Join(tmp, ".complete"), nil, 0o644); err != nil {
		t.Fatalf("unpack %s: %v", name, err)
	}
	if err := os.Rename(tmp, dest); err != nil {
		os.RemoveAll(tmp)
		if _, serr := os.Stat(filepath.Join(dest, ".complete")); serr != nil {
			t.Fatalf("unpack %s: %v", name, err)
		}
	}
	return dest
}

func mustMkdir(t testing.TB, dest string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		t.Fatalf("cache dir: %v", err)
	}
	return dest
}
