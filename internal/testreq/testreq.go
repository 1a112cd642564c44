// Package testreq decides what a test does when a real component it needs
// (nix-instantiate, systemd, dockerd, git) is missing: outside CI it skips
// and says why; in CI (the CI variable is set) it fails, because a skipped
// integration test there is a missing test.
package testreq

import (
	"os"
	"os/exec"
	"testing"
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
