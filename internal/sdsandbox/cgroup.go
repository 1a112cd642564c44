package sdsandbox

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// namePrefix starts every sandbox's directory and cgroup name, followed by
// the owner's PID, so a sweep can tell dead owners' leftovers from live ones.
const namePrefix = "sdsandbox-"

// cgroup2Root finds a cgroup2 mount whose root is the hierarchy's root, in
// /proc/self/mountinfo (hybrid hosts mount it at /sys/fs/cgroup/unified).
func cgroup2Root() (string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", fmt.Errorf("find cgroup2 mount: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent major:minor root mountpoint options... - fstype source superoptions
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		fields, after := strings.Fields(pre), strings.Fields(post)
		if len(fields) >= 5 && len(after) >= 1 && after[0] == "cgroup2" && fields[3] == "/" {
			return fields[4], nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("read mountinfo: %w", err)
	}
	return "", errors.New("no cgroup2 mount found")
}

// removeCgroup kills what is left in a cgroup subtree and removes it,
// deepest first, retrying while the kernel finishes tearing tasks down.
func removeCgroup(path string, within time.Duration) error {
	// Second line of defence after SIGKILL of PID 1. Kernels before 5.14
	// lack cgroup.kill, so a failed write is not an error.
	_ = os.WriteFile(filepath.Join(path, "cgroup.kill"), []byte("1"), 0)
	deadline := time.Now().Add(within)
	for {
		err := rmdirTree(path)
		if err == nil || errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("remove cgroup %s: %w", path, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func rmdirTree(root string) error {
	var dirs []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
	for _, d := range dirs {
		if err := syscall.Rmdir(d); err != nil && !errors.Is(err, syscall.ENOENT) {
			return err
		}
	}
	return nil
}

// sweepDeadOwners removes cgroups and directories of sandboxes whose owner
// process is gone (test binary killed, os.Exit, go test timeout). Pdeathsig
// already killed their systemd. A live owner's sandboxes are never touched,
// so parallel test binaries are safe. Failures are left for the next sweep.
func sweepDeadOwners() {
	if cgroot, err := cgroup2Root(); err == nil {
		for _, p := range deadOwnerEntries(cgroot) {
			_ = removeCgroup(p, time.Second)
		}
	}
	for _, p := range deadOwnerEntries(os.TempDir()) {
		_ = os.RemoveAll(p)
	}
}

func deadOwnerEntries(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var dead []string
	for _, e := range entries {
		pid, ok := ownerPID(e.Name())
		if ok && e.IsDir() && !processAlive(pid) {
			dead = append(dead, filepath.Join(dir, e.Name()))
		}
	}
	return dead
}

// ownerPID parses "sdsandbox-<pid>-<n>".
func ownerPID(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, namePrefix)
	if !ok {
		return 0, false
	}
	pidText, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	pid, err := strconv.Atoi(pidText)
	return pid, err == nil && pid > 0
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
