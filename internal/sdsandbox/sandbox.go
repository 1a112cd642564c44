// Package sdsandbox boots a real systemd as PID 1 in private namespaces, with
// its own cgroup, /run, D-Bus system bus and unit directories, so tests and
// demos can read and change unit states without touching the host.
//
// The recipe and the reasons behind every step are in
// /work/shared/notes/systemd-sandbox-recipe.md (also summarised in
// docs/live.md). Start needs root, a cgroup2 mount, systemd, dbus-daemon and
// util-linux; tests call Require or New first.
package sdsandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/driftcheck/driftcheck/internal/busdial"
)

const systemdBinary = "/lib/systemd/systemd"

// Options configure a sandbox.
type Options struct {
	Units  []Unit
	Layout Layout
	// VendorPresets is written to /usr/lib/systemd/system-preset/50-sdsandbox.preset,
	// e.g. "disable vendor-disabled.service\n".
	VendorPresets string
	// BootTimeout bounds the wait for systemd to finish its initial
	// transaction; 0 means 30 s. The context given to Start bounds it too.
	BootTimeout time.Duration
}

// Sandbox is a running systemd. Close it; a process that dies without
// closing takes the sandbox with it (Pdeathsig) and the next Start sweeps
// what is left.
type Sandbox struct {
	name    string // sdsandbox-<ownerpid>-<n>: directory and cgroup name
	dir     string // host directory holding root/, init.log
	tree    tree
	cgroup  string // host path of the sandbox's cgroup2 directory
	cmd     *exec.Cmd
	console *console
	exited  chan struct{} // closed when PID 1 was reaped

	closeOnce sync.Once
	closeErr  error
	keepDir   bool
}

// initScript runs as PID 1 of the new namespaces and execs systemd in place.
const initScript = `set -eu
mount --make-rprivate /
mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 /sys/fs/cgroup
findmnt -rn -o TARGET | grep '^/run/' | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || :; done
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
mount --bind "$SB_ROOT/etc/systemd"                   /etc/systemd
mount --bind "$SB_ROOT/usr/lib/systemd/system"        /usr/lib/systemd/system
mount --bind "$SB_ROOT/usr/lib/systemd/system-preset" /usr/lib/systemd/system-preset
mount --bind "$SB_ROOT/var"                           /var
mount --bind "$SB_CONSOLE" /dev/console
exec env -i container=sdsandbox SYSTEMD_COLORS=0 PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  SYSTEMD_GENERATOR_PATH=/run/sdsandbox-none SYSTEMD_ENVIRONMENT_GENERATOR_PATH=/run/sdsandbox-none \
  ` + systemdBinary + ` --system --unit=multi-user.target --log-target=console --log-level=info --show-status=no
`

// Start builds the unit tree, boots systemd and waits until it has finished
// its initial transaction and owns its bus name.
func Start(ctx context.Context, opts Options) (*Sandbox, error) {
	sweepDeadOwners()
	dir, err := os.MkdirTemp("", fmt.Sprintf("%s%d-", namePrefix, os.Getpid()))
	if err != nil {
		return nil, fmt.Errorf("create sandbox dir: %w", err)
	}
	sb := &Sandbox{
		name:   filepath.Base(dir),
		dir:    dir,
		tree:   tree{root: filepath.Join(dir, "root"), layout: opts.Layout},
		exited: make(chan struct{}),
	}
	if err := sb.boot(ctx, opts); err != nil {
		// The error carries init's output and systemd's console tail, so
		// the directory is not kept.
		sb.Close()
		return nil, fmt.Errorf("start systemd sandbox: %w", err)
	}
	return sb, nil
}

func (s *Sandbox) boot(ctx context.Context, opts Options) error {
	if err := s.tree.build(opts.Units); err != nil {
		return err
	}
	if opts.VendorPresets != "" {
		p := filepath.Join(s.tree.root, "usr/lib/systemd/system-preset/50-sdsandbox.preset")
		if err := os.WriteFile(p, []byte(opts.VendorPresets), 0o644); err != nil {
			return fmt.Errorf("write vendor presets: %w", err)
		}
	}
	cgroot, err := cgroup2Root()
	if err != nil {
		return err
	}
	s.cgroup = filepath.Join(cgroot, s.name)
	if err := os.Mkdir(s.cgroup, 0o755); err != nil {
		return fmt.Errorf("create cgroup: %w", err)
	}
	cg, err := os.Open(s.cgroup)
	if err != nil {
		return fmt.Errorf("open cgroup: %w", err)
	}
	defer cg.Close()
	if s.console, err = openConsole(); err != nil {
		return err
	}
	logFile, err := os.Create(filepath.Join(s.dir, "init.log"))
	if err != nil {
		return fmt.Errorf("create init log: %w", err)
	}
	defer logFile.Close()

	cmd := exec.Command("/bin/sh", "-c", initScript)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "SB_ROOT=" + s.tree.root, "SB_CONSOLE=" + s.console.slavePath}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWPID | syscall.CLONE_NEWNS | syscall.CLONE_NEWUTS |
			syscall.CLONE_NEWIPC | syscall.CLONE_NEWCGROUP,
		// clone3 CLONE_INTO_CGROUP: the cgroup namespace is rooted at our cgroup.
		UseCgroupFD: true,
		CgroupFD:    int(cg.Fd()),
		// The sandbox must not outlive the process that started it.
		Pdeathsig: syscall.SIGKILL,
		Setsid:    true,
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("clone init: %w", err)
	}
	s.cmd = cmd
	go func() {
		_ = cmd.Wait()
		close(s.exited)
	}()

	timeout := opts.BootTimeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	bootCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := s.waitReady(bootCtx); err != nil {
		return fmt.Errorf("%w; %s", err, s.logTail())
	}
	return nil
}

// waitReady polls, in order: systemd exec'd (before that /proc/PID/root/run
// is the host's /run), the bus answers, systemd owns its name, and the
// initial transaction is done.
func (s *Sandbox) waitReady(ctx context.Context) error {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	started := time.Now()
	probedUnits := false
	var last error
	for {
		last = s.readyStep(ctx)
		if last == nil {
			return nil
		}
		if !probedUnits && time.Since(started) > time.Second && strings.HasPrefix(last.Error(), "bus:") {
			probedUnits = true
			if out, err := s.Systemctl(ctx, "is-failed", "dbus.socket", "dbus.service"); err == nil {
				return fmt.Errorf("dbus failed inside the sandbox (%s): %w", strings.TrimSpace(string(out)), last)
			}
		}
		select {
		case <-s.exited:
			return fmt.Errorf("systemd exited during boot: %v", s.cmd.ProcessState)
		case <-ctx.Done():
			return fmt.Errorf("not ready: %w (last: %v)", ctx.Err(), last)
		case <-tick.C:
		}
	}
}

func (s *Sandbox) readyStep(ctx context.Context) error {
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", s.PID()))
	if err != nil || !strings.HasSuffix(exe, "systemd") {
		return errors.New("systemd not exec'd yet")
	}
	stepCtx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	conn, err := busdial.Dial(s.BusAddress(), dbus.WithContext(stepCtx))
	if err != nil {
		return fmt.Errorf("bus: %w", err)
	}
	defer conn.Close()
	var owned bool
	err = conn.BusObject().CallWithContext(stepCtx, "org.freedesktop.DBus.NameHasOwner", 0, "org.freedesktop.systemd1").Store(&owned)
	if err != nil {
		return fmt.Errorf("bus: NameHasOwner: %w", err)
	}
	if !owned {
		return errors.New("systemd has not joined the bus yet")
	}
	var state dbus.Variant
	err = conn.Object("org.freedesktop.systemd1", "/org/freedesktop/systemd1").CallWithContext(stepCtx,
		"org.freedesktop.DBus.Properties.Get", 0, "org.freedesktop.systemd1.Manager", "SystemState").Store(&state)
	if err != nil {
		return fmt.Errorf("read SystemState: %w", err)
	}
	if st, _ := state.Value().(string); st != "running" && st != "degraded" {
		return fmt.Errorf("system state %q", st)
	}
	return nil
}

// PID is the host PID of the sandbox's systemd.
func (s *Sandbox) PID() int { return s.cmd.Process.Pid }

// BusAddress is the sandbox's system bus, reachable from the host.
func (s *Sandbox) BusAddress() string {
	return fmt.Sprintf("unix:path=/proc/%d/root/run/dbus/system_bus_socket", s.PID())
}

// RootFS is the sandbox's file system as its systemd sees it, from the host:
// join a unit's FragmentPath to it to read the file systemd loaded.
func (s *Sandbox) RootFS() string { return fmt.Sprintf("/proc/%d/root", s.PID()) }

// Dir is the host directory holding the sandbox's tree (root/) and init.log.
func (s *Sandbox) Dir() string { return s.dir }

// StoreDir is the host path of the fake Nix store unit files link into.
func (s *Sandbox) StoreDir() string { return s.tree.storeDir() }

// Layout reports how the admin unit directory was built.
func (s *Sandbox) Layout() Layout { return s.tree.layout }

// Systemctl runs `systemctl --no-pager args…` inside the sandbox and
// returns its standard output. A non-zero exit is an error that carries
// stderr; the output is returned too (is-active, is-failed use the code).
func (s *Sandbox) Systemctl(ctx context.Context, args ...string) ([]byte, error) {
	argv := append([]string{"-t", strconv.Itoa(s.PID()), "-m", "-p", "--", "systemctl", "--no-pager"}, args...)
	cmd := exec.CommandContext(ctx, "nsenter", argv...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("systemctl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// AddUnit installs a unit after boot, without daemon-reload: systemd loads
// a new file on the next query for it.
func (s *Sandbox) AddUnit(u Unit) error { return s.tree.install(u) }

// RemoveUnit deletes a unit's file or link (admin or vendor directory) and
// every wants link to it, behind systemd's back.
func (s *Sandbox) RemoveUnit(name string, vendor bool) error {
	if err := checkUnitName(name); err != nil {
		return err
	}
	links, _ := filepath.Glob(filepath.Join(s.tree.adminDir(), "*.wants", name))
	for _, p := range append(links, filepath.Join(s.tree.unitDir(Unit{Vendor: vendor}), name)) {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove %s: %w", p, err)
		}
	}
	return nil
}

// Unwant removes the link that makes target want unit (admin directory),
// behind systemd's back: the unit stays loaded and active.
func (s *Sandbox) Unwant(unit, target string) error {
	p := filepath.Join(s.tree.adminDir(), target+".wants", unit)
	if err := os.Remove(p); err != nil {
		return fmt.Errorf("remove wants link %s: %w", p, err)
	}
	return nil
}

// Want adds the link that makes target want an admin-directory unit,
// behind systemd's back (no daemon-reload), as a hand-made
// `ln -s ../unit target.wants/` would: the cached UnitFileState stays as it
// was, the disk says enabled.
func (s *Sandbox) Want(unit, target string) error {
	if err := checkUnitName(unit); err != nil {
		return err
	}
	return s.tree.want(Unit{Name: unit}, target)
}

// EditUnit changes an admin-directory unit's content: in place for a
// regular file, by re-pointing the link at a new store path for a store
// unit (what a NixOS switch does).
func (s *Sandbox) EditUnit(name, content string) error {
	if err := checkUnitName(name); err != nil {
		return err
	}
	path := filepath.Join(s.tree.adminDir(), name)
	fi, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("edit %s: %w", name, err)
	}
	if fi.Mode()&os.ModeSymlink == 0 {
		return os.WriteFile(path, []byte(content), 0o644)
	}
	file, err := s.tree.writeStoreFile(name, content)
	if err != nil {
		return err
	}
	tmp := path + ".sdsandbox-new"
	if err := os.Symlink(file, tmp); err != nil {
		return fmt.Errorf("edit %s: %w", name, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("edit %s: %w", name, err)
	}
	return nil
}

// KeepDir leaves the sandbox directory on disk after Close, for
// post-mortem reading of init.log and the tree.
func (s *Sandbox) KeepDir() { s.keepDir = true }

// Log returns what systemd wrote to its console so far (the last 64 KiB).
func (s *Sandbox) Log() string {
	if s.console == nil {
		return ""
	}
	return s.console.String()
}

func (s *Sandbox) logTail() string {
	initLog, _ := os.ReadFile(filepath.Join(s.dir, "init.log"))
	console := s.Log()
	if len(console) > 2000 {
		console = console[len(console)-2000:]
	}
	return fmt.Sprintf("init log: %q; console: %q", strings.TrimSpace(string(initLog)), console)
}

// Close kills the sandbox and removes its cgroup and directory. Killing PID
// 1 of a PID namespace makes the kernel kill everything in it; SIGTERM would
// make systemd re-execute instead.
func (s *Sandbox) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.teardown() })
	return s.closeErr
}

func (s *Sandbox) teardown() error {
	var errs []error
	if s.cmd != nil {
		_ = s.cmd.Process.Signal(syscall.SIGKILL)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			errs = append(errs, fmt.Errorf("systemd pid %d did not exit after SIGKILL", s.PID()))
		}
	}
	if s.cgroup != "" {
		if err := removeCgroup(s.cgroup, 5*time.Second); err != nil {
			errs = append(errs, err)
		}
	}
	if s.console != nil {
		s.console.Close()
	}
	if !s.keepDir {
		if err := os.RemoveAll(s.dir); err != nil {
			errs = append(errs, fmt.Errorf("remove sandbox dir: %w", err))
		}
	}
	return errors.Join(errs...)
}
