package live

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

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
