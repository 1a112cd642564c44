package live

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	sddbus "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/driftcheck/driftcheck/internal/live/fakesystemd"
)

func longDescription(props map[string]dbus.Variant) map[string]dbus.Variant {
	props["Description"] = dbus.MakeVariant(strings.Repeat("d", MaxUnitString+1))
	return props
}

// TestReadBusWithoutLoadState: a bus that omits LoadState, sends it as
// another type or sends a value systemd never reports gets those units
// recorded as unreadable; they never count as present, and the rest of the
// read goes on. So does a unit with an overlong string (what a snapshot
// file could not hold either).
func TestReadBusWithoutLoadState(t *testing.T) {
	t.Parallel()
	addr := fakesystemd.Start(t, fakesystemd.Host{
		Units: map[string]map[string]dbus.Variant{
			"good.service":       fakesystemd.Service("loaded"),
			"no-load.service":    fakesystemd.Service(nil),
			"uint-load.service":  fakesystemd.Service(uint32(1)),
			"odd-load.service":   fakesystemd.Service("exploded"),
			"empty-load.service": fakesystemd.Service(""),
			"long-desc.service":  longDescription(fakesystemd.Service("loaded")),
		},
		FileStates: map[string]string{"good.service": "enabled", "no-load.service": "enabled",
			"uint-load.service": "enabled", "odd-load.service": "enabled", "empty-load.service": "enabled", "long-desc.service": "enabled"},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := Connect(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []Query{
		{Names: []string{"empty-load.service", "good.service", "long-desc.service", "no-load.service", "odd-load.service", "uint-load.service"}},
		{ScopeGlobs: []string{"*.service"}},
	} {
		snap, err := Read(ctx, conn, q)
		if err != nil {
			t.Fatalf("query %+v: %v", q, err)
		}
		if names := unitNames(snap); len(names) != 1 || names[0] != "good.service" {
			t.Errorf("query %+v: units %v, want only good.service", q, names)
		}
		wantErr := map[string]string{
			"empty-load.service": "no load state",
			"no-load.service":    "the bus sent no LoadState property",
			"odd-load.service":   `unknown load state "exploded"`,
			"uint-load.service":  "property LoadState is a uint32, not a string",
			"long-desc.service":  "description is 8193 bytes, more than 8192",
		}
		for _, e := range snap.Errors {
			if want, ok := wantErr[e.Unit]; !ok || !strings.Contains(e.Message, want) {
				t.Errorf("query %+v: error for %s: %q, want %q", q, e.Unit, e.Message, want)
			}
			delete(wantErr, e.Unit)
		}
		for unit := range wantErr {
			t.Errorf("query %+v: no read error for %s", q, unit)
		}
	}
}

// countingBus records the install-state calls a read makes.
type countingBus struct {
	*Conn
	mu       sync.Mutex
	listings [][]string // patterns of each ListUnitFilesByPatterns call
	perUnit  []string   // names asked with GetUnitFileState
}

func (c *countingBus) unitFiles(ctx context.Context, patterns []string) ([]sddbus.UnitFile, error) {
	c.mu.Lock()
	c.listings = append(c.listings, slices.Clone(patterns))
	c.mu.Unlock()
	return c.Conn.unitFiles(ctx, patterns)
}

func (c *countingBus) unitFileState(ctx context.Context, name string) (string, error) {
	c.mu.Lock()
	c.perUnit = append(c.perUnit, name)
	c.mu.Unlock()
	return c.Conn.unitFileState(ctx, name)
}

// TestReadListsInstallStatesOnce: a read asks systemd for install states in
// one listing of the scope globs plus the names no plain glob covers; only
// a name with a backslash is asked on its own. Each listed file's state
// lands on its unit, also for a unit only the listing finds.
func TestReadListsInstallStatesOnce(t *testing.T) {
	t.Parallel()
	inactive := func() map[string]dbus.Variant {
		p := fakesystemd.Service("loaded")
		p["ActiveState"] = dbus.MakeVariant("inactive")
		return p
	}
	// app-b.service is linked and pulled in by nothing: not loaded, so
	// only the file listing finds it.
	addr := fakesystemd.Start(t, fakesystemd.Host{
		Units: map[string]map[string]dbus.Variant{
			"app-a.service": fakesystemd.Service("loaded"), "app-b.service": inactive(),
			"other.service": fakesystemd.Service("loaded"), `esc\x2dx.service`: fakesystemd.Service("loaded"),
		},
		FileStates: map[string]string{"app-a.service": "enabled", "app-b.service": "linked",
			"other.service": "disabled", `esc\x2dx.service`: "static"},
		NotLoaded: map[string]bool{"app-b.service": true},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := Connect(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cb := &countingBus{Conn: conn}
	r := reader{bus: cb, q: Query{Names: []string{"app-a.service", "other.service", `esc\x2dx.service`},
		ScopeGlobs: []string{"app-*.service"}, CallTimeout: 10 * time.Second, Workers: DefaultWorkers}}
	snap, err := r.read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([][]string{{"app-*.service", "other.service"}}, cb.listings); diff != "" {
		t.Errorf("ListUnitFilesByPatterns calls (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{`esc\x2dx.service`}, cb.perUnit); diff != "" {
		t.Errorf("GetUnitFileState calls (-want +got):\n%s", diff)
	}
	states := map[string]string{}
	for _, u := range snap.Units {
		states[u.Name] = u.UnitFileState
	}
	want := map[string]string{"app-a.service": "enabled", "app-b.service": "linked", "other.service": "disabled", `esc\x2dx.service`: "static"}
	if diff := cmp.Diff(want, states); diff != "" || len(snap.Errors) != 0 {
		t.Errorf("install states (-want +got):\n%s\nerrors %v", diff, snap.Errors)
	}
}
