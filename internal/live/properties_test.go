package live

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/godbus/dbus/v5"
	"github.com/google/go-cmp/cmp"
)

func TestUnitFromProperties(t *testing.T) {
	tests := []struct {
		name  string
		props map[string]any
		want  Unit
	}{
		{
			name: "loaded unit, cached file state ignored",
			props: map[string]any{
				"LoadState": "loaded", "ActiveState": "active", "SubState": "running",
				"UnitFileState": "enabled", "UnitFilePreset": "ignored",
				"FragmentPath": "/etc/systemd/system/a.service", "NeedDaemonReload": true,
				"LoadError": []any{"", ""}, "Description": "A",
			},
			want: Unit{Name: "a.service", LoadState: "loaded", ActiveState: "active", SubState: "running",
				Preset: "ignored", FragmentPath: "/etc/systemd/system/a.service", NeedDaemonReload: true, Description: "A"},
		},
		{
			name: "not found",
			props: map[string]any{"LoadState": "not-found", "ActiveState": "inactive", "SubState": "dead",
				"LoadError": []any{"org.freedesktop.systemd1.NoSuchUnit", "Unit a.service not found."}},
			want: Unit{Name: "a.service", LoadState: "not-found", ActiveState: "inactive", SubState: "dead",
				LoadError: "Unit a.service not found."},
		},
		{
			name:  "load error without message keeps the error name",
			props: map[string]any{"LoadState": "bad-setting", "LoadError": []any{"org.freedesktop.systemd1.BadUnitSetting", ""}},
			want:  Unit{Name: "a.service", LoadState: "bad-setting", LoadError: "org.freedesktop.systemd1.BadUnitSetting"},
		},
		{
			name:  "wrong types of other properties are ignored, not a panic",
			props: map[string]any{"LoadState": "stub", "ActiveState": 3, "NeedDaemonReload": "yes", "LoadError": "x"},
			want:  Unit{Name: "a.service", LoadState: "stub"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := unitFromProperties("a.service", tt.props)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestUnitFromPropertiesNeedsLoadState: whether a unit exists hangs on its
// load state, so a missing, mistyped, empty or unknown one is an error
// about the unit (never a unit that counts as present), the read goes on,
// and the message does not repeat an unbounded value.
func TestUnitFromPropertiesNeedsLoadState(t *testing.T) {
	long := strings.Repeat("x", 1<<20)
	tests := []struct {
		name  string
		props map[string]any
		want  string
	}{
		{"missing", map[string]any{"ActiveState": "active"}, "the bus sent no LoadState property"},
		{"mistyped", map[string]any{"LoadState": uint32(1)}, "property LoadState is a uint32, not a string"},
		{"empty", map[string]any{"LoadState": ""}, "no load state"},
		{"unknown", map[string]any{"LoadState": "exploded"}, `unknown load state "exploded"`},
		{"unknown and long", map[string]any{"LoadState": long}, "(1048576 bytes)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := unitFromProperties("a.service", tt.props)
			if err == nil {
				t.Fatalf("accepted as %+v", u)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "a.service") {
				t.Errorf("error %q, want it to name a.service and say %q", err, tt.want)
			}
			if len(err.Error()) > 200 {
				t.Errorf("error is %d bytes long, want a bounded excerpt", len(err.Error()))
			}
			if isFatal(fmt.Errorf("wrapped: %w", err)) {
				t.Error("isFatal: a bad property of one unit must not abort the read")
			}
		})
	}
	for state := range loadStates {
		if _, err := unitFromProperties("a.service", map[string]any{"LoadState": state}); err != nil {
			t.Errorf("load state %q: %v", state, err)
		}
	}
}

func TestTimerFromProperties(t *testing.T) {
	tests := []struct {
		name  string
		props map[string]any
		want  *Timer
	}{
		{
			name: "normalized calendar",
			props: map[string]any{
				"TimersCalendar": [][]any{{"OnCalendar", "*-*-* 00:00:00", uint64(1795392000000000)}},
				"Unit":           "daily.service", "Persistent": true,
			},
			want: &Timer{Calendar: []string{"*-*-* 00:00:00"}, Unit: "daily.service", Persistent: true},
		},
		{
			name: "several specs keep their order",
			props: map[string]any{"TimersCalendar": [][]any{
				{"OnCalendar", "Mon *-*-* 00:00:00", uint64(0)}, {"OnCalendar", "*-*-* 00/6:00:00", uint64(0)}}},
			want: &Timer{Calendar: []string{"Mon *-*-* 00:00:00", "*-*-* 00/6:00:00"}},
		},
		{
			name:  "malformed entries are skipped",
			props: map[string]any{"TimersCalendar": [][]any{{"OnCalendar"}, {"OnCalendar", 5, uint64(0)}}},
			want:  &Timer{},
		},
		{name: "monotonic only", props: map[string]any{"Unit": "x.service"}, want: &Timer{Unit: "x.service"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, timerFromProperties(tt.props)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckUnitName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"docker-prune.service", true},
		{"getty@tty1.service", true},
		{"sys-devices-x\\x2dy.device", true},
		{"", false},
		{"noSuffix", false},
		{"trailing.", false},
		{".service", false},
		{"a/b.service", false},
		{"esc\x1b[31m.service", false},
		{"space x.service", false},
		{string(make([]byte, 300)) + ".service", false},
	}
	for _, tt := range tests {
		err := CheckUnitName(tt.name)
		if (err == nil) != tt.ok {
			t.Errorf("CheckUnitName(%q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

// Issue 8: the message showed U+202E as 'â', its first byte. It names the
// rune.
func TestCheckUnitNameNamesTheRune(t *testing.T) {
	tests := []struct{ name, want string }{
		{"evil\u202eecivres.service", "unit name contains U+202E"},
		{"a/b.service", "unit name contains U+002F '/'"},
		{"caf\u00e9.service", "unit name contains U+00E9 'é'"},
		{"bad\xff.service", "unit name contains byte 0xff (not UTF-8)"},
	}
	for _, tt := range tests {
		if err := CheckUnitName(tt.name); err == nil || err.Error() != tt.want {
			t.Errorf("CheckUnitName(%q) = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestBusAddress(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "DBUS_SYSTEM_BUS_ADDRESS" {
				return v
			}
			return ""
		}
	}
	tests := []struct {
		flag, env, want string
	}{
		{"unix:path=/flag", "unix:path=/env", "unix:path=/flag"},
		{"", "unix:path=/env", "unix:path=/env"},
		{"", "", DefaultSystemBus},
	}
	for _, tt := range tests {
		if got := BusAddress(tt.flag, env(tt.env)); got != tt.want {
			t.Errorf("BusAddress(%q, env %q) = %q, want %q", tt.flag, tt.env, got, tt.want)
		}
	}
}

func TestIsFatal(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"closed connection", dbus.ErrClosed, true},
		{"wrapped transport error", errors.New("read unix: EOF"), true},
		{"systemd left the bus", dbus.Error{Name: "org.freedesktop.DBus.Error.NoReply"}, true},
		{"name gone", dbus.Error{Name: "org.freedesktop.DBus.Error.ServiceUnknown"}, true},
		{"reply about one unit", dbus.Error{Name: "org.freedesktop.DBus.Error.InvalidArgs"}, false},
		{"wrapped reply about one unit", wrap(dbus.Error{Name: "org.freedesktop.systemd1.NoSuchUnit"}), false},
	}
	for _, tt := range tests {
		if got := isFatal(tt.err); got != tt.want {
			t.Errorf("%s: isFatal = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func wrap(err error) error { return errors.Join(errors.New("context"), err) }

func TestResolveStorePath(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "etc/systemd/system")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	links := map[string]string{
		"abs.service":  "/nix/store/abc-unit-abs.service/abs.service",
		"rel.service":  "../../../nix/store/def-unit-rel.service/rel.service",
		"mask.service": "/dev/null",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "plain.service"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ fragment, want string }{
		{"/etc/systemd/system/abs.service", "/nix/store/abc-unit-abs.service/abs.service"},
		{"/etc/systemd/system/rel.service", "/nix/store/def-unit-rel.service/rel.service"},
		{"/etc/systemd/system/mask.service", "/dev/null"},
		{"/etc/systemd/system/plain.service", ""},
		{"/etc/systemd/system/gone.service", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := resolveStorePath(root, tt.fragment); got != tt.want {
			t.Errorf("resolveStorePath(%q) = %q, want %q", tt.fragment, got, tt.want)
		}
	}
}
