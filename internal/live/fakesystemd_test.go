package live

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sddbus "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"

	"github.com/driftcheck/driftcheck/internal/busdial"
	"github.com/driftcheck/driftcheck/internal/testreq"
)

// fakeSystemd is a tiny org.freedesktop.systemd1 on a private dbus-daemon
// the test starts: it answers the reader's calls from the unit properties
// it is given, so a test can send what a real systemd never would (a
// missing or mistyped LoadState) over a real bus, through the real reader.
type fakeSystemd struct {
	units      map[string]map[string]dbus.Variant // unit name → org.freedesktop.systemd1.Unit properties
	fileStates map[string]string                  // unit name → install state; absent = no unit file
	byPath     map[dbus.ObjectPath]string
}

// startFakeSystemd starts dbus-daemon on a socket in a temporary directory,
// registers the fake as org.freedesktop.systemd1 and returns the address.
func startFakeSystemd(t *testing.T, f *fakeSystemd) string {
	t.Helper()
	daemon := testreq.Command(t, "dbus-daemon", "dbus")
	dir := t.TempDir()
	conf := filepath.Join(dir, "bus.conf")
	err := os.WriteFile(conf, []byte(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>custom</type>
  <listen>unix:path=`+filepath.Join(dir, "bus")+`</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(daemon, "--config-file="+conf, "--nofork", "--nopidfile", "--print-address=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("dbus-daemon: %s", stderr.String())
		}
	})
	addrLine := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		addrLine <- strings.TrimSpace(line)
	}()
	var addr string
	select {
	case addr = <-addrLine:
	case <-time.After(10 * time.Second):
		t.Fatal("dbus-daemon printed no address in 10 s")
	}
	if addr == "" {
		t.Fatal("dbus-daemon exited without an address")
	}

	conn, err := busdial.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	f.byPath = map[dbus.ObjectPath]string{}
	for name := range f.units {
		f.byPath[dbus.ObjectPath("/org/freedesktop/systemd1/unit/"+sddbus.PathBusEscape(name))] = name
	}
	manager := dbus.ObjectPath("/org/freedesktop/systemd1")
	for _, export := range []error{
		conn.ExportMethodTable(map[string]any{"Get": f.managerProperty}, manager, "org.freedesktop.DBus.Properties"),
		conn.ExportMethodTable(map[string]any{
			"ListUnitsByPatterns":     f.listUnits,
			"ListUnitFilesByPatterns": f.listUnitFiles,
			"GetUnitFileState":        f.unitFileState,
		}, manager, "org.freedesktop.systemd1.Manager"),
		conn.ExportSubtreeMethodTable(map[string]any{"GetAll": f.unitProperties}, manager+"/unit", "org.freedesktop.DBus.Properties"),
	} {
		if export != nil {
			t.Fatal(export)
		}
	}
	reply, err := conn.RequestName("org.freedesktop.systemd1", dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own org.freedesktop.systemd1: reply %v, %v", reply, err)
	}
	return addr
}

func (f *fakeSystemd) managerProperty(iface, name string) (dbus.Variant, *dbus.Error) {
	if iface == "org.freedesktop.systemd1.Manager" && name == "Version" {
		return dbus.MakeVariant("252-fake"), nil
	}
	return dbus.Variant{}, dbus.NewError("org.freedesktop.DBus.Error.UnknownProperty", []any{name})
}

// unitProperties answers GetAll on a unit's object, as systemd does for
// any unit name (it loads unknown ones on demand).
func (f *fakeSystemd) unitProperties(msg dbus.Message, iface string) (map[string]dbus.Variant, *dbus.Error) {
	p, _ := msg.Headers[dbus.FieldPath].Value().(dbus.ObjectPath)
	name, ok := f.byPath[p]
	if !ok {
		return nil, dbus.NewError("org.freedesktop.systemd1.NoSuchUnit", []any{"no unit at " + string(p)})
	}
	if iface != "org.freedesktop.systemd1.Unit" {
		return map[string]dbus.Variant{}, nil
	}
	return f.units[name], nil
}

type fakeUnitStatus struct {
	Name, Description, LoadState, ActiveState, SubState, Followed string
	Path                                                          dbus.ObjectPath
	JobID                                                         uint32
	JobType                                                       string
	JobPath                                                       dbus.ObjectPath
}

func (f *fakeSystemd) listUnits(states, patterns []string) ([]fakeUnitStatus, *dbus.Error) {
	var out []fakeUnitStatus
	for p, name := range f.byPath {
		if matchAny(patterns, name) {
			load, _ := f.units[name]["LoadState"].Value().(string)
			out = append(out, fakeUnitStatus{Name: name, LoadState: load, Path: p, JobPath: "/"})
		}
	}
	return out, nil
}

type fakeUnitFile struct{ Path, Type string }

func (f *fakeSystemd) listUnitFiles(states, patterns []string) ([]fakeUnitFile, *dbus.Error) {
	var out []fakeUnitFile
	for name, state := range f.fileStates {
		if matchAny(patterns, name) {
			out = append(out, fakeUnitFile{Path: "/etc/systemd/system/" + name, Type: state})
		}
	}
	return out, nil
}

func (f *fakeSystemd) unitFileState(name string) (string, *dbus.Error) {
	state, ok := f.fileStates[name]
	if !ok {
		return "", dbus.NewError("org.freedesktop.DBus.Error.FileNotFound", []any{"No such file or directory"})
	}
	return state, nil
}

func matchAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return len(patterns) == 0
}

func loadedService(load any) map[string]dbus.Variant {
	props := map[string]dbus.Variant{
		"ActiveState": dbus.MakeVariant("active"), "SubState": dbus.MakeVariant("running"),
		"FragmentPath": dbus.MakeVariant(""), "UnitFilePreset": dbus.MakeVariant("enabled"),
		"NeedDaemonReload": dbus.MakeVariant(false), "LoadError": dbus.MakeVariant([]any{"", ""}),
	}
	if load != nil {
		props["LoadState"] = dbus.MakeVariant(load)
	}
	return props
}

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
	f := &fakeSystemd{
		units: map[string]map[string]dbus.Variant{
			"good.service":       loadedService("loaded"),
			"no-load.service":    loadedService(nil),
			"uint-load.service":  loadedService(uint32(1)),
			"odd-load.service":   loadedService("exploded"),
			"empty-load.service": loadedService(""),
			"long-desc.service":  longDescription(loadedService("loaded")),
		},
		fileStates: map[string]string{"good.service": "enabled", "no-load.service": "enabled",
			"uint-load.service": "enabled", "odd-load.service": "enabled", "empty-load.service": "enabled", "long-desc.service": "enabled"},
	}
	addr := startFakeSystemd(t, f)
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
