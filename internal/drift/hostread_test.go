package drift

import (
	"context"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/driftcheck/driftcheck/internal/gitrev/gittest"
	"github.com/driftcheck/driftcheck/internal/live/fakesystemd"
	"github.com/driftcheck/driftcheck/internal/unitdiff"
)

// renamedRepo declares old.service, then new.service instead: old.service
// is a name only the history gives the host read.
func renamedRepo(t *testing.T) *gittest.Repo {
	t.Helper()
	g := gittest.New(t)
	g.Commit("old", map[string]string{"nix/host.nix": "{ systemd.services.old = { }; }\n"})
	g.Commit("new", map[string]string{"nix/host.nix": "{ systemd.services.new = { }; }\n"})
	return g
}

func fakeHost(t *testing.T, delay time.Duration, names ...string) string {
	t.Helper()
	h := fakesystemd.Host{Units: map[string]map[string]dbus.Variant{}, FileStates: map[string]string{}, Delay: delay}
	for _, n := range names {
		h.Units[n] = fakesystemd.Service("loaded")
		h.FileStates[n] = "static"
	}
	return fakesystemd.Start(t, h)
}

// TestCheckReadsHistoryNamesToo: the host read starts with the revision's
// names, before the stale search; the names only earlier revisions
// declare are read when it is done, into the one snapshot, in name order.
func TestCheckReadsHistoryNamesToo(t *testing.T) {
	repo := renamedRepo(t)
	bus := fakeHost(t, 0, "new.service", "old.service", "other.service")
	facts, err := Gather(context.Background(), Options{RepoDir: repo.Dir, Rev: "HEAD", Globs: defaultGlobs(t), History: DefaultHistory, BusAddress: bus})
	if err != nil {
		t.Fatal(err)
	}
	defer facts.Repo.Close()
	var read []string
	for _, u := range facts.Input.Live.Units {
		read = append(read, u.Name+" "+u.UnitFileState)
	}
	if diff := cmp.Diff([]string{"new.service static", "old.service static"}, read); diff != "" {
		t.Errorf("units read (-want +got):\n%s", diff)
	}
	var kinds []string
	for _, f := range facts.Report.Findings {
		kinds = append(kinds, string(f.Kind)+" "+f.Unit)
	}
	if !slices.Contains(kinds, "stale old.service") {
		t.Errorf("findings %v lack stale old.service", kinds)
	}
}

// TestCheckRepositoryFailsWhileHostIsSlow: the repository side fails (an
// unreadable --deploy-source, after the host read has started) while
// systemd is slow to answer. The check returns the repository's error at
// once, without waiting for systemd, and leaves no reader behind.
func TestCheckRepositoryFailsWhileHostIsSlow(t *testing.T) {
	repo := renamedRepo(t)
	bus := fakeHost(t, 5*time.Second, "new.service", "old.service")
	start := time.Now()
	_, err := Check(context.Background(), Options{RepoDir: repo.Dir, Rev: "HEAD", Globs: defaultGlobs(t), History: DefaultHistory,
		BusAddress: bus, DeploySource: filepath.Join(t.TempDir(), "absent")})
	if err == nil || !strings.Contains(err.Error(), "--deploy-source") {
		t.Fatalf("error %v, want the --deploy-source error", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("check took %v: it waited for the slow host", d)
	}
	assertNoReaderLeft(t)
}

// TestCheckHostFailsWhileRepositoryIsRead: a bus without systemd (the read
// fails at its first call) or no bus at all: the check fails with the
// host's error, never a report.
func TestCheckHostFailsWhileRepositoryIsRead(t *testing.T) {
	repo := renamedRepo(t)
	for name, tc := range map[string]struct{ bus, want string }{
		"no systemd on the bus": {fakesystemd.Bus(t), "read units from"},
		"no bus":                {"unix:path=" + filepath.Join(t.TempDir(), "no-bus"), "connect to bus"},
	} {
		t.Run(name, func(t *testing.T) {
			r, err := Check(context.Background(), Options{RepoDir: repo.Dir, Rev: "HEAD", Globs: defaultGlobs(t), History: DefaultHistory, BusAddress: tc.bus})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("report %+v, error %v: want an error with %q", r, err, tc.want)
			}
			assertNoReaderLeft(t)
		})
	}
}

// TestCheckCancelled: a check cancelled while systemd is slow returns the
// cancellation, not a report, and leaves no reader behind.
func TestCheckCancelled(t *testing.T) {
	repo := renamedRepo(t)
	bus := fakeHost(t, 5*time.Second, "new.service", "old.service")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	r, err := Check(ctx, Options{RepoDir: repo.Dir, Rev: "HEAD", Globs: defaultGlobs(t), History: DefaultHistory, BusAddress: bus})
	if err == nil {
		t.Fatalf("report %s with %d findings, want an error", r.Verdict, len(r.Findings))
	}
	if r != nil && r.Verdict == unitdiff.VerdictInSync {
		t.Fatal("in sync although it could not look")
	}
	assertNoReaderLeft(t)
}

// assertNoReaderLeft fails when a goroutine of the host read, the live
// reader or a go-systemd connection outlives the check (a leak). Tests
// that call it do not run in parallel with other checks.
func assertNoReaderLeft(t *testing.T) {
	t.Helper()
	var stacks string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		buf := make([]byte, 1<<20)
		stacks = string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, "internal/drift.(*hostRead)") && !strings.Contains(stacks, "driftcheck/internal/live.") &&
			!strings.Contains(stacks, "coreos/go-systemd") {
			return
		}
	}
	t.Fatalf("goroutines of the host read left after the check:\n%s", stacks)
}
