package prune

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// ErrLockHeld reports that another process holds a lock; the prune skips.
var ErrLockHeld = errors.New("lock held by another process")

// Lock is a held flock(2) lock; Release drops it.
type Lock struct{ f *os.File }

// TryLock takes an exclusive flock on path without waiting. It returns
// ErrLockHeld (wrapped) when another process holds it: deploy tooling that
// takes the same lock keeps the prune away, and the prune never waits.
//
// The lock file is created if needed, its directory never: a lock in a
// directory nobody else uses (a typo, a path from another host) is a lock
// no deploy takes, so the gate would be open for the wrong reason.
func TryLock(path string) (*Lock, error) {
	if err := CheckLockDir(path); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("lock %s: %w", path, ErrLockHeld)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return &Lock{f: f}, nil
}

// CheckLockDir reports an error when the directory of the lock file path
// does not exist or is not a directory.
func CheckLockDir(path string) error {
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("lock %s: directory %s does not exist", path, dir)
		}
		return fmt.Errorf("lock %s: %w", path, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("lock %s: %s is not a directory", path, dir)
	}
	return nil
}

// Release drops the lock.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the descriptor releases the flock
	l.f = nil
	return err
}
