package sdsandbox

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	dailyTimer = "[Timer]\nOnCalendar=daily\n[Install]\nWantedBy=timers.target\n"
	oneshot    = "[Service]\nType=oneshot\nExecStart=/bin/true\n"
)

func systemctl(t *testing.T, sb *Sandbox, args ...string) string {
	t.Helper()
	out, err := sb.Systemctl(context.Background(), args...)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

func TestLayouts(t *testing.T) {
	t.Parallel()
	for _, layout := range []Layout{DebianLike, NixOSLike} {
		t.Run(layout.String(), func(t *testing.T) {
			t.Parallel()
			sb := New(t, Options{Layout: layout, Units: []Unit{
				{Name: "daily.timer", Content: dailyTimer, WantedBy: []string{"timers.target"}},
				{Name: "daily.service", Content: oneshot},
				LinkedUnit("docker-prune.service", oneshot),
				{Name: "masked.service", Masked: true},
			}})
			got := systemctl(t, sb, "list-unit-files", "--no-legend", "daily.timer", "docker-prune.service", "masked.service")
			for _, want := range []string{"daily.timer enabled", "docker-prune.service linked", "masked.service masked"} {
				if !strings.Contains(strings.Join(strings.Fields(got), " "), want) {
					t.Errorf("list-unit-files lacks %q:\n%s", want, got)
				}
			}
			if st := systemctl(t, sb, "is-active", "daily.timer"); st != "active" {
				t.Errorf("daily.timer is %s, want active", st)
			}
			admin, err := os.Lstat(filepath.Join(sb.Dir(), "root/etc/systemd/system"))
			if err != nil {
				t.Fatal(err)
			}
			if isLink := admin.Mode()&os.ModeSymlink != 0; isLink != (layout == NixOSLike) {
				t.Errorf("/etc/systemd/system is a symlink: %v, want %v for %s", isLink, layout == NixOSLike, layout)
			}
			// The sandbox has its own /run and hostname, not the host's.
			if _, err := os.Stat(filepath.Join(sb.RootFS(), "run/dbus/system_bus_socket")); err != nil {
				t.Errorf("sandbox bus socket: %v", err)
			}
			if v := systemctl(t, sb, "show", "-p", "Virtualization", "--value"); v != "container-other" {
				t.Errorf("Virtualization = %q, want container-other (else systemd treats the host as its own)", v)
			}
		})
	}
}

// TestParallelSandboxesAreIsolated: each sandbox sees only its own units.
func TestParallelSandboxesAreIsolated(t *testing.T) {
	t.Parallel()
	for i := range 3 {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			t.Parallel()
			own := fmt.Sprintf("own-%d.service", i)
			sb := New(t, Options{Units: []Unit{{Name: own, Content: "[Service]\nExecStart=/bin/sleep infinity\n", WantedBy: []string{"multi-user.target"}}}})
			lines := strings.Split(systemctl(t, sb, "list-units", "--all", "--plain", "--no-legend", "own-*"), "\n")
			if len(lines) != 1 || strings.Fields(lines[0])[0] != own {
				t.Errorf("own-* units = %q, want only %s", lines, own)
			}
		})
	}
}

// TestCloseLeavesNothing: no process, cgroup or directory survives Close,
// and the units' processes die with PID 1.
func TestCloseLeavesNothing(t *testing.T) {
	t.Parallel()
	Require(t)
	sb, err := Start(context.Background(), Options{Units: []Unit{
		{Name: "sleeper.service", Content: "[Service]\nExecStart=/bin/sleep infinity\n", WantedBy: []string{"multi-user.target"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	pid := sb.PID()
	sleeper := unitMainPID(t, sb, "sleeper.service")
	if err := sb.Close(); err != nil {
		t.Fatal(err)
	}
	for what, p := range map[string]int{"systemd": pid, "sleeper": sleeper} {
		if processAlive(p) {
			t.Errorf("%s (pid %d) still alive after Close", what, p)
		}
	}
	for _, p := range []string{sb.cgroup, sb.Dir()} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left behind (%v)", p, err)
		}
	}
	if err := sb.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// unitMainPID returns the host PID of a unit's main process, found in the
// unit's cgroup (systemd reports namespace PIDs).
func unitMainPID(t *testing.T, sb *Sandbox, unit string) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(sb.cgroup, "system.slice", unit, "cgroup.procs"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatalf("cgroup.procs of %s: %q", unit, data)
	}
	return pid
}

// TestOwnerKilled: a test binary killed without cleanup takes its sandbox
// with it (Pdeathsig), and the next Start sweeps the leftovers.
func TestOwnerKilled(t *testing.T) {
	t.Parallel()
	Require(t)
	helper := exec.Command(os.Args[0], "-test.run=^TestHelperOwner$", "-test.v")
	helper.Env = append(os.Environ(), "SDSANDBOX_HELPER=1")
	stdout, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	var sandboxPID int
	var cgroup, dir string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if _, err := fmt.Sscanf(sc.Text(), "SANDBOX %d %s %s", &sandboxPID, &cgroup, &dir); err == nil {
			break
		}
	}
	if sandboxPID == 0 {
		_ = helper.Process.Kill()
		_ = helper.Wait()
		t.Fatal("helper did not report a sandbox")
	}
	_ = helper.Process.Kill()
	_ = helper.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for processAlive(sandboxPID) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if processAlive(sandboxPID) {
		_ = syscall.Kill(sandboxPID, syscall.SIGKILL)
		t.Fatalf("sandbox systemd (pid %d) outlived its owner", sandboxPID)
	}
	// The next Start sweeps (a parallel test's Start may have done it already).
	New(t, Options{})
	for _, p := range []string{cgroup, dir} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("dead owner's %s not swept (%v)", p, err)
		}
	}
}

// TestHelperOwner is the process TestOwnerKilled kills.
func TestHelperOwner(t *testing.T) {
	if os.Getenv("SDSANDBOX_HELPER") != "1" {
		t.Skip("helper process for TestOwnerKilled")
	}
	sb, err := Start(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("SANDBOX %d %s %s\n", sb.PID(), sb.cgroup, sb.Dir())
	time.Sleep(time.Minute)
}

func TestStartTimesOut(t *testing.T) {
	t.Parallel()
	Require(t)
	start := time.Now()
	sb, err := Start(context.Background(), Options{BootTimeout: time.Millisecond})
	if err == nil {
		sb.Close()
		t.Fatal("Start with a 1 ms boot timeout succeeded")
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("Start took %v to give up", time.Since(start))
	}
	if !strings.Contains(err.Error(), "not ready") {
		t.Errorf("error %q does not say the sandbox was not ready", err)
	}
}

func TestOwnerPID(t *testing.T) {
	tests := []struct {
		name string
		pid  int
		ok   bool
	}{
		{"sdsandbox-123-456", 123, true},
		{"sdsandbox-123-", 123, true},
		{"sdsandbox-x-456", 0, false},
		{"sdsandbox-123", 0, false},
		{"other-123-456", 0, false},
		{"sdsandbox--1-2", 0, false},
	}
	for _, tt := range tests {
		pid, ok := ownerPID(tt.name)
		if pid != tt.pid && tt.ok || ok != tt.ok {
			t.Errorf("ownerPID(%q) = %d, %v; want %d, %v", tt.name, pid, ok, tt.pid, tt.ok)
		}
	}
}
