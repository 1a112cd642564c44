package prune

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestStateRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	st, err := LoadState(dir)
	if err != nil || len(st.FirstSeenUnused) != 0 {
		t.Fatalf("missing state = %+v, %v; want empty, nil", st, err)
	}
	want := State{FirstSeenUnused: map[string]time.Time{"sha256:aa": now}}
	if err := SaveState(dir, want); err != nil {
		t.Fatal(err)
	}
	got, err := LoadState(dir)
	if err != nil || !got.FirstSeenUnused["sha256:aa"].Equal(now) {
		t.Fatalf("loaded %+v, %v", got, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("state dir holds %d files, want only the state file (no temp leftovers)", len(entries))
	}
}

func TestStateCorruptIsAnError(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, StateFileName), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadState(dir); err == nil || !strings.Contains(err.Error(), StateFileName) {
		t.Fatalf("err = %v, want one naming the state file", err)
	}
}

func TestTryLockNeverWaits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "deploy.lock")
	held, err := TryLock(path)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = TryLock(path) // a second open file description conflicts even in this process
	if !errors.Is(err, ErrLockHeld) {
		t.Fatalf("second lock: %v, want ErrLockHeld", err)
	}
	if time.Since(start) > time.Second {
		t.Fatal("TryLock waited")
	}
	if err := held.Release(); err != nil {
		t.Fatal(err)
	}
	again, err := TryLock(path)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	again.Release()
}

// A lock whose directory does not exist is an error, and the directory is
// not created: a mistyped --lock must not become a lock no deploy takes.
func TestTryLockNeedsItsDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nonexistent", "dir")
	_, err := TryLock(filepath.Join(dir, "x.lock"))
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("TryLock in a missing directory: %v, want an error saying it does not exist", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("TryLock created %s (stat: %v)", dir, err)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := TryLock(filepath.Join(file, "x.lock")); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("TryLock under a file: %v, want 'not a directory'", err)
	}
}

// Run stops with an error on a deploy lock in a missing directory before
// it asks the drift gate or contacts a daemon, and creates nothing.
func TestRunRejectsDeployLockInMissingDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nonexistent", "dir")
	asked := false
	r, err := Run(context.Background(), Options{
		Policy:     Policy{ThresholdPct: 0, BusyPattern: busy},
		Drift:      func(context.Context) (Gate, error) { asked = true; return Gate{Open: true}, nil },
		Connect:    func(context.Context) (Engine, error) { t.Fatal("connected"); return nil, nil },
		DeployLock: filepath.Join(dir, "x.lock"),
		StateDir:   t.TempDir(),
	})
	if err == nil || r.ExitCode() != ExitError || !strings.Contains(err.Error(), "deploy lock") {
		t.Fatalf("err %v exit %d, want a deploy lock error with exit 2", err, r.ExitCode())
	}
	if asked {
		t.Error("the drift gate was asked before the lock path was validated")
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Run created %s (stat: %v)", dir, err)
	}
}
