package sdsandbox

import (
	"context"
	"os"
	"os/exec"
	"os/user"
	"testing"

	"github.com/driftcheck/driftcheck/internal/testreq"
)

// Require stops the test (skip outside CI, fail in CI) unless the host can
// boot a sandbox.
func Require(t testing.TB) {
	t.Helper()
	testreq.Root(t, "a systemd sandbox needs mount, cgroup and PID namespaces")
	for _, cmd := range []struct{ name, pkg string }{
		{"mount", "mount"}, {"umount", "mount"}, {"nsenter", "util-linux"},
		{"findmnt", "util-linux"}, {"dbus-daemon", "dbus"}, {"systemctl", "systemd"},
	} {
		if _, err := exec.LookPath(cmd.name); err != nil {
			testreq.Missing(t, "%s not found on PATH (install Debian package %s)", cmd.name, cmd.pkg)
		}
	}
	for _, p := range []string{systemdBinary, "/bin/sh", "/etc/systemd", "/usr/lib/systemd/system",
		"/usr/lib/systemd/system-preset", "/usr/lib/systemd/system/dbus.service", "/usr/lib/systemd/system/dbus.socket"} {
		if _, err := os.Stat(p); err != nil {
			testreq.Missing(t, "%s missing (install Debian packages systemd and dbus)", p)
		}
	}
	if _, err := user.Lookup("messagebus"); err != nil {
		testreq.Missing(t, "user messagebus missing (install Debian package dbus)")
	}
	if _, err := cgroup2Root(); err != nil {
		testreq.Missing(t, "no cgroup2 mount: %v", err)
	}
}

// New checks the prerequisites, starts a sandbox for the test and closes it
// when the test ends, keeping its directory (and logging where) when the
// test failed.
func New(t testing.TB, opts Options) *Sandbox {
	t.Helper()
	Require(t)
	sb, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			sb.KeepDir()
			t.Logf("sandbox kept at %s; systemd console:\n%s", sb.Dir(), sb.Log())
		}
		if err := sb.Close(); err != nil {
			t.Errorf("close sandbox: %v", err)
		}
	})
	return sb
}
