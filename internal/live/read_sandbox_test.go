package live

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/driftcheck/driftcheck/internal/sdsandbox"
)

const (
	dailyTimer  = "[Unit]\nDescription=Daily\n[Timer]\nOnCalendar=daily\n[Install]\nWantedBy=timers.target\n"
	weeklyTimer = "[Timer]\nOnCalendar=weekly\n[Install]\nWantedBy=timers.target\n"
	oneshot     = "[Service]\nType=oneshot\nExecStart=/bin/true\n"
	longRun     = "[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=multi-user.target\n"
)

// connect opens a reader connection to sb, closed when the test ends.
func connect(t *testing.T, sb *sdsandbox.Sandbox) *Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := Connect(ctx, sb.BusAddress())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	return conn
}

func readSandbox(t *testing.T, sb *sdsandbox.Sandbox, q Query) *Snapshot {
	t.Helper()
	conn := connect(t, sb)
	q.Root = sb.RootFS()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	snap, err := Read(ctx, conn, q)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	// The check's read (ForComparison) must agree on every field the
	// comparison reads, unit by unit, read error by read error.
	q.ForComparison = true
	compared, err := Read(ctx, conn, q)
	if err != nil {
		t.Fatalf("Read ForComparison: %v", err)
	}
	want := *snap
	want.Units = nil
	for _, u := range snap.Units {
		u.Preset, u.FragmentPath, u.StorePath = "", "", ""
		want.Units = append(want.Units, u)
	}
	if want.Units == nil {
		want.Units = []Unit{}
	}
	want.TakenAt = compared.TakenAt
	// Read errors: the same units; the messages name the call that failed.
	want.Errors, compared.Errors = errorUnits(want.Errors), errorUnits(compared.Errors)
	if diff := cmp.Diff(&want, compared); diff != "" {
		t.Errorf("ForComparison read differs from the full read on what the comparison reads (-full +compared):\n%s", diff)
	}
	return snap
}

func errorUnits(errs []ReadError) []ReadError {
	var out []ReadError
	for _, e := range errs {
		out = append(out, ReadError{Unit: e.Unit})
	}
	return out
}

func byName(s *Snapshot) map[string]Unit {
	m := map[string]Unit{}
	for _, u := range s.Units {
		m[u.Name] = u
	}
	return m
}

// want is the part of a Unit a case asserts on; StoreDir says whether the
// store path must point into the sandbox's fake store.
type want struct {
	Load, Active, Sub, FileState, Preset string
	InStore                              bool
	LoadError                            string
	Timer                                *Timer
}

func got(u Unit, storeDir string) want {
	return want{
		Load: u.LoadState, Active: u.ActiveState, Sub: u.SubState, FileState: u.UnitFileState, Preset: u.Preset,
		InStore:   u.StorePath != "" && strings.HasPrefix(u.StorePath, storeDir+"/"),
		LoadError: u.LoadError, Timer: u.Timer,
	}
}

func checkUnits(t *testing.T, sb *sdsandbox.Sandbox, snap *Snapshot, cases map[string]want) {
	t.Helper()
	units := byName(snap)
	for name, w := range cases {
		u, ok := units[name]
		if !ok {
			t.Errorf("%s missing from snapshot (errors: %v)", name, snap.Errors)
			continue
		}
		if diff := cmp.Diff(w, got(u, sb.StoreDir())); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
}

// TestReadStatesDebianLike covers the state table of the sandbox note
// (§6.1) as the reader reports it.
func TestReadStatesDebianLike(t *testing.T) {
	t.Parallel()
	sb := sdsandbox.New(t, sdsandbox.Options{
		Units: []sdsandbox.Unit{
			{Name: "daily.timer", Content: dailyTimer, WantedBy: []string{"timers.target"}},
			{Name: "daily.service", Content: oneshot},
			{Name: "weekly.timer", Content: weeklyTimer},
			{Name: "ghost.service", Missing: true, WantedBy: []string{"multi-user.target"}},
			{Name: "foo.service", Content: longRun, Store: true, WantedBy: []string{"multi-user.target"}},
			sdsandbox.LinkedUnit("docker-prune.service", oneshot),
			{Name: "masked.service", Masked: true},
			{Name: "vendor.service", Content: longRun, Vendor: true, WantedBy: []string{"multi-user.target"}},
			{Name: "vendor-disabled.service", Content: longRun, Vendor: true},
			{Name: "fails.service", Content: "[Service]\nType=oneshot\nExecStart=/bin/false\n", WantedBy: []string{"multi-user.target"}},
			{Name: "bad.service", Content: "[Service]\nExecStart=relative/path\n"},
		},
		VendorPresets: "disable vendor-disabled.service\n",
	})
	cases := map[string]want{
		"daily.timer": {Load: "loaded", Active: "active", Sub: "waiting", FileState: "enabled", Preset: "enabled",
			Timer: &Timer{Calendar: []string{"*-*-* 00:00:00"}, Unit: "daily.service"}},
		"weekly.timer": {Load: "loaded", Active: "inactive", Sub: "dead", FileState: "disabled", Preset: "enabled",
			Timer: &Timer{Calendar: []string{"Mon *-*-* 00:00:00"}, Unit: "weekly.service"}},
		"missing.service": {Load: "not-found", Active: "inactive", Sub: "dead", LoadError: "Unit missing.service not found."},
		"ghost.service":   {Load: "not-found", Active: "inactive", Sub: "dead", LoadError: "Unit ghost.service not found."},
		"foo.service":     {Load: "loaded", Active: "active", Sub: "running", FileState: "enabled", Preset: "enabled", InStore: true},
		"docker-prune.service": {Load: "loaded", Active: "inactive", Sub: "dead", FileState: "linked", Preset: "enabled",
			InStore: true},
		"masked.service": {Load: "masked", Active: "inactive", Sub: "dead", FileState: "masked", Preset: "enabled",
			LoadError: "Unit masked.service is masked."},
		"vendor.service":          {Load: "loaded", Active: "active", Sub: "running", FileState: "enabled", Preset: "enabled"},
		"vendor-disabled.service": {Load: "loaded", Active: "inactive", Sub: "dead", FileState: "disabled", Preset: "disabled"},
		"fails.service":           {Load: "loaded", Active: "failed", Sub: "failed", FileState: "enabled", Preset: "enabled"},
		"bad.service": {Load: "bad-setting", Active: "inactive", Sub: "dead", FileState: "static", Preset: "enabled",
			LoadError: "Unit bad.service has a bad unit file setting."},
	}
	var names []string
	for name := range cases {
		names = append(names, name)
	}
	snap := readSandbox(t, sb, Query{Names: names})
	if len(snap.Errors) != 0 {
		t.Errorf("unexpected read errors: %v", snap.Errors)
	}
	if len(snap.Units) != len(cases) {
		t.Errorf("read %d units, want %d", len(snap.Units), len(cases))
	}
	if !strings.HasPrefix(snap.SystemdVersion, "2") {
		t.Errorf("SystemdVersion = %q, want a version number", snap.SystemdVersion)
	}
	t.Logf("systemd %s", snap.SystemdVersion)
	checkUnits(t, sb, snap, cases)

	units := byName(snap)
	if u := units["masked.service"]; u.StorePath != "/dev/null" {
		t.Errorf("masked.service store path = %q, want /dev/null", u.StorePath)
	}
	if u := units["vendor.service"]; !strings.HasSuffix(u.FragmentPath, "/systemd/system/vendor.service") || u.StorePath != "" {
		t.Errorf("vendor.service fragment %q store %q, want a vendor-dir regular file", u.FragmentPath, u.StorePath)
	}
	if u := units["daily.timer"]; u.Description != "Daily" || u.FragmentPath != "/etc/systemd/system/daily.timer" {
		t.Errorf("daily.timer description %q fragment %q", u.Description, u.FragmentPath)
	}
}

// TestReadNixOSLayout reads the incident's shape: git declares
// docker-prune.{service,timer}, the host also has ci-docker-prune.service
// linked but pulled in by nothing, hence not loaded; the scope glob must
// still find it.
func TestReadNixOSLayout(t *testing.T) {
	t.Parallel()
	sb := sdsandbox.New(t, sdsandbox.Options{Layout: sdsandbox.NixOSLike, Units: []sdsandbox.Unit{
		{Name: "docker-prune.timer", WantedBy: []string{"timers.target"},
			Content: "[Timer]\nOnCalendar=weekly\nPersistent=true\nUnit=docker-prune.service\n"},
		{Name: "docker-prune.service", Content: oneshot},
		{Name: "ci-docker-prune.service", Content: oneshot},
		{Name: "other.service", Content: longRun, WantedBy: []string{"multi-user.target"}},
	}})
	snap := readSandbox(t, sb, Query{ScopeGlobs: []string{"*docker-prune*"}})
	cases := map[string]want{
		"docker-prune.timer": {Load: "loaded", Active: "active", Sub: "waiting", FileState: "enabled", Preset: "enabled",
			InStore: true, Timer: &Timer{Calendar: []string{"Mon *-*-* 00:00:00"}, Unit: "docker-prune.service", Persistent: true}},
		"docker-prune.service": {Load: "loaded", Active: "inactive", Sub: "dead", FileState: "linked", Preset: "enabled",
			InStore: true},
		"ci-docker-prune.service": {Load: "loaded", Active: "inactive", Sub: "dead", FileState: "linked", Preset: "enabled",
			InStore: true},
	}
	checkUnits(t, sb, snap, cases)
	var names []string
	for _, u := range snap.Units {
		names = append(names, u.Name)
	}
	if diff := cmp.Diff([]string{"ci-docker-prune.service", "docker-prune.service", "docker-prune.timer"}, names); diff != "" {
		t.Errorf("units in scope (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"*docker-prune*"}, snap.Scope); diff != "" {
		t.Errorf("scope (-want +got):\n%s", diff)
	}
}

// TestReadUnitFileStateFresh changes enablement behind systemd's back (no
// daemon-reload): it removes an active timer's wants link and adds one for
// a loaded, disabled service. The cached UnitFileState property still says
// enabled and disabled; the disk says disabled and enabled, and the reader
// must report the disk, whichever way the units are asked for (by name, by
// scope glob, by name plus rename probe as check asks).
func TestReadUnitFileStateFresh(t *testing.T) {
	t.Parallel()
	sb := sdsandbox.New(t, sdsandbox.Options{Units: []sdsandbox.Unit{
		{Name: "daily.timer", Content: dailyTimer, WantedBy: []string{"timers.target"}},
		{Name: "daily.service", Content: oneshot + "[Install]\nWantedBy=multi-user.target\n"},
	}})
	showFileState := func(unit string) string {
		t.Helper()
		out, err := sb.Systemctl(context.Background(), "show", "-p", "UnitFileState", "--value", unit)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out))
	}
	// Reading the property once makes systemd cache it, as any
	// `systemctl status` on a real host does. daily.service is loaded
	// because the timer triggers it.
	before := map[string]string{"daily.timer": "enabled", "daily.service": "disabled"}
	for unit, state := range before {
		if got := showFileState(unit); got != state {
			t.Fatalf("UnitFileState of %s before = %q, want %s", unit, got, state)
		}
	}
	if err := sb.Unwant("daily.timer", "timers.target"); err != nil {
		t.Fatal(err)
	}
	if err := sb.Want("daily.service", "multi-user.target"); err != nil {
		t.Fatal(err)
	}
	for unit, state := range before {
		if got := showFileState(unit); got != state {
			t.Fatalf("precondition: cached UnitFileState of %s = %q, want still %s (else this test proves nothing)", unit, got, state)
		}
	}
	both := []string{"daily.service", "daily.timer"}
	for _, q := range []Query{
		{Names: both},
		{ScopeGlobs: []string{"daily.*"}},
		{Names: both, ScopeGlobs: []string{"*daily*.service", "*daily*.timer"}},
	} {
		units := byName(readSandbox(t, sb, q))
		if u := units["daily.timer"]; u.UnitFileState != "disabled" || u.ActiveState != "active" {
			t.Errorf("query %+v: daily.timer file state %q active %q, want disabled and still active", q, u.UnitFileState, u.ActiveState)
		}
		if u := units["daily.service"]; u.UnitFileState != "enabled" || u.LoadState != "loaded" {
			t.Errorf("query %+v: daily.service file state %q load %q, want enabled and loaded", q, u.UnitFileState, u.LoadState)
		}
	}
}

// TestReadEscapedNames: a name with a backslash cannot be its own fnmatch
// pattern; its install state is asked one by one, fresh from disk.
func TestReadEscapedNames(t *testing.T) {
	t.Parallel()
	const name = `with\x2ddash.service`
	sb := sdsandbox.New(t, sdsandbox.Options{Units: []sdsandbox.Unit{
		{Name: name, Content: longRun, WantedBy: []string{"multi-user.target"}},
		{Name: "plain.service", Content: longRun, WantedBy: []string{"multi-user.target"}},
	}})
	snap := readSandbox(t, sb, Query{Names: []string{name, "plain.service", `gone\x2dunit.service`}})
	units := byName(snap)
	if u := units[name]; u.UnitFileState != "enabled" || u.ActiveState != "active" {
		t.Errorf("%s: file state %q active %q, want enabled and active (errors %v)", name, u.UnitFileState, u.ActiveState, snap.Errors)
	}
	if u := units[`gone\x2dunit.service`]; u.LoadState != "not-found" || u.UnitFileState != "" {
		t.Errorf("gone: load %q file state %q, want not-found and none", u.LoadState, u.UnitFileState)
	}
	if u := units["plain.service"]; u.UnitFileState != "enabled" {
		t.Errorf("plain.service: file state %q, want enabled", u.UnitFileState)
	}
}

// TestReadNeedDaemonReload edits loaded units' files, in place and by
// re-pointing a store link as a NixOS switch does.
func TestReadNeedDaemonReload(t *testing.T) {
	t.Parallel()
	sb := sdsandbox.New(t, sdsandbox.Options{Units: []sdsandbox.Unit{
		{Name: "plain.service", Content: longRun, WantedBy: []string{"multi-user.target"}},
		{Name: "stored.service", Content: longRun, Store: true, WantedBy: []string{"multi-user.target"}},
		{Name: "untouched.service", Content: longRun, WantedBy: []string{"multi-user.target"}},
	}})
	before := byName(readSandbox(t, sb, Query{Names: []string{"plain.service", "stored.service"}}))
	time.Sleep(10 * time.Millisecond) // a visibly newer mtime
	edited := strings.Replace(longRun, "infinity", "1000000", 1)
	for _, name := range []string{"plain.service", "stored.service"} {
		if err := sb.EditUnit(name, edited); err != nil {
			t.Fatal(err)
		}
	}
	after := byName(readSandbox(t, sb, Query{Names: []string{"plain.service", "stored.service", "untouched.service"}}))
	for name, wantReload := range map[string]bool{"plain.service": true, "stored.service": true, "untouched.service": false} {
		if before[name].NeedDaemonReload {
			t.Errorf("%s: NeedDaemonReload before the edit", name)
		}
		if after[name].NeedDaemonReload != wantReload {
			t.Errorf("%s: NeedDaemonReload = %v, want %v", name, after[name].NeedDaemonReload, wantReload)
		}
	}
	if before["stored.service"].StorePath == after["stored.service"].StorePath {
		t.Errorf("stored.service store path unchanged after re-pointing: %s", after["stored.service"].StorePath)
	}
}

// TestReadUnitAddedAfterBoot: a file written after boot, without
// daemon-reload, is read as loaded (what a unit appearing mid-check looks
// like), and a unit removed behind systemd's back reads as not-found.
func TestReadUnitAddedAfterBoot(t *testing.T) {
	t.Parallel()
	sb := sdsandbox.New(t, sdsandbox.Options{Units: []sdsandbox.Unit{{Name: "old.service", Content: oneshot}}})
	if err := sb.AddUnit(sdsandbox.LinkedUnit("new.service", oneshot)); err != nil {
		t.Fatal(err)
	}
	if err := sb.RemoveUnit("old.service", false); err != nil {
		t.Fatal(err)
	}
	units := byName(readSandbox(t, sb, Query{Names: []string{"new.service", "old.service"}}))
	if u := units["new.service"]; u.LoadState != "loaded" || u.UnitFileState != "linked" {
		t.Errorf("new.service load %q file %q, want loaded linked", u.LoadState, u.UnitFileState)
	}
	if u := units["old.service"]; u.LoadState != "not-found" || u.UnitFileState != "" {
		t.Errorf("old.service load %q file %q, want not-found and no file state", u.LoadState, u.UnitFileState)
	}
}

// TestReadUnreadableUnit: systemd answers an error about one unit; the
// read goes on and records it.
func TestReadUnreadableUnit(t *testing.T) {
	t.Parallel()
	sb := sdsandbox.New(t, sdsandbox.Options{Units: []sdsandbox.Unit{{Name: "fine.service", Content: longRun, WantedBy: []string{"multi-user.target"}}}})
	snap := readSandbox(t, sb, Query{Names: []string{"fine.service", "template@.service", "bad\x1b[31m.service"}})
	if names := unitNames(snap); !cmp.Equal(names, []string{"fine.service"}) {
		t.Errorf("units = %v, want only fine.service", names)
	}
	var errUnits []string
	for _, e := range snap.Errors {
		errUnits = append(errUnits, e.Unit)
		if e.Message == "" {
			t.Errorf("read error for %q has no message", e.Unit)
		}
	}
	if diff := cmp.Diff([]string{"bad\x1b[31m.service", "template@.service"}, errUnits); diff != "" {
		t.Errorf("read errors (-want +got):\n%s", diff)
	}
}

func unitNames(s *Snapshot) []string {
	var names []string
	for _, u := range s.Units {
		names = append(names, u.Name)
	}
	return names
}

func TestConnectNoBus(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	addr := "unix:path=" + t.TempDir() + "/no-bus-here"
	conn, err := Connect(ctx, addr)
	if err == nil {
		conn.Close()
		t.Fatal("Connect to a missing socket succeeded")
	}
	if !strings.Contains(err.Error(), addr) {
		t.Errorf("error %q does not name the address", err)
	}
}

// killingBus kills the sandbox's systemd (SIGKILL of PID 1, from the
// worker goroutine that made the call) once `after` unit reads have been
// answered: a real fault at a deterministic point of the read.
type killingBus struct {
	*Conn
	sb    *sdsandbox.Sandbox
	after int64
	calls atomic.Int64
}

func (k *killingBus) unitProperties(ctx context.Context, name string) (map[string]any, error) {
	props, err := k.Conn.unitProperties(ctx, name)
	if k.calls.Add(1) == k.after {
		if err := k.sb.Close(); err != nil {
			panic(err)
		}
	}
	return props, err
}

// TestReadSystemdKilledMidRead kills PID 1 while 500 units are read: the
// read must fail, never return a snapshot lacking units.
func TestReadSystemdKilledMidRead(t *testing.T) {
	t.Parallel()
	var units []sdsandbox.Unit
	var names []string
	for i := range 500 {
		name := "svc-" + strconv.Itoa(i) + ".service"
		units = append(units, sdsandbox.Unit{Name: name, Content: oneshot})
		names = append(names, name)
	}
	sb := sdsandbox.New(t, sdsandbox.Options{Units: units})
	kb := &killingBus{Conn: connect(t, sb), sb: sb, after: 50}
	r := reader{bus: kb, q: Query{Names: names, Root: sb.RootFS(), CallTimeout: 10 * time.Second, Workers: DefaultWorkers}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	snap, err := r.read(ctx)
	if err == nil {
		t.Fatalf("read succeeded with %d units and %d errors after systemd was killed", len(snap.Units), len(snap.Errors))
	}
	if snap != nil {
		t.Errorf("a snapshot came back with the error %v", err)
	}
	if kb.calls.Load() >= int64(len(names)) {
		t.Errorf("all %d units were read before the kill took effect; the fault was not mid-read", len(names))
	}
	t.Logf("error after %d unit reads: %v", kb.calls.Load(), err)
}
