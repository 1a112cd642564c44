package prune

import (
	"errors"
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
