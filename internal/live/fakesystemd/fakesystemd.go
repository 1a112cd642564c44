// Package fakesystemd runs a tiny org.freedesktop.systemd1 on a private
// dbus-daemon started by a test: it answers the calls driftcheck's reader
// makes from unit properties the test gives, so a test can send what a real
// systemd never would (a missing or mistyped LoadState) over a real bus,
// through the real reader and the real commands. Tests only.
package fakesystemd

import (
	"bufio"
	"bytes"
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

// Host is what the fake systemd knows.
type Host struct {
	Units      map[string]map[string]dbus.Variant // unit name → org.freedesktop.systemd1.Unit properties
	FileStates map[string]string                  // unit name → install state; absent = no unit file
	// NotLoaded are units ListUnitsByPatterns leaves out, as systemd does
	// for units nothing pulls in; their properties are still answered
	// (systemd loads a unit on demand).
	NotLoaded map[string]bool
	// Delay holds every reply back this long: a busy or slow systemd.
	Delay time.Duration
}

type fake struct {
	Host
	byPath map[dbus.ObjectPath]string
}

// Start starts dbus-daemon on a socket in a temporary directory, registers
// a fake systemd for h on it as org.freedesktop.systemd1 and returns the
// bus address. Everything stops when the test ends.
func Start(t testing.TB, h Host) string {
	t.Helper()
	addr := Bus(t)
	conn, err := busdial.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	f := &fake{Host: h, byPath: map[dbus.ObjectPath]string{}}
	for name := range f.Units {
		f.byPath[dbus.ObjectPath("/org/freedesktop/systemd1/unit/"+sddbus.PathBusEscape(name))] = name
	}
	manager := dbus.ObjectPath("/org/freedesktop/systemd1")
	for _, export := range []error{
		conn.ExportMethodTable(map[string]any{"Get": f.managerProperty}, manager, "org.freedesktop.DBus.Properties"),
		conn.ExportMethodTable(map[string]any{
			"ListUnitsByPatterns":     f.listUnits,
			"ListUnitsByNames":        f.listUnitsByNames,
			"ListUnitFilesByPatterns": f.listUnitFiles,
			"GetUnitFileState":        f.unitFileState,
		}, manager, "org.freedesktop.systemd1.Manager"),
		conn.ExportSubtreeMethodTable(map[string]any{"GetAll": f.unitProperties, "Get": f.unitProperty}, manager+"/unit", "org.freedesktop.DBus.Properties"),
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

func (f *fake) managerProperty(iface, name string) (dbus.Variant, *dbus.Error) {
	time.Sleep(f.Delay)
	if iface == "org.freedesktop.systemd1.Manager" && name == "Version" {
		return dbus.MakeVariant("252-fake"), nil
	}
	return dbus.Variant{}, dbus.NewError("org.freedesktop.DBus.Error.UnknownProperty", []any{name})
}

// unitProperties answers GetAll on a unit's object, as systemd does for
// any unit name (it loads unknown ones on demand).
func (f *fake) unitProperties(msg dbus.Message, iface string) (map[string]dbus.Variant, *dbus.Error) {
	time.Sleep(f.Delay)
	p, _ := msg.Headers[dbus.FieldPath].Value().(dbus.ObjectPath)
	name, ok := f.byPath[p]
	if !ok {
		return nil, dbus.NewError("org.freedesktop.systemd1.NoSuchUnit", []any{"no unit at " + string(p)})
	}
	if iface != "org.freedesktop.systemd1.Unit" {
		return map[string]dbus.Variant{}, nil
	}
	return f.Units[name], nil
}

// unitProperty answers Get on a unit's object from the same properties.
func (f *fake) unitProperty(msg dbus.Message, iface, property string) (dbus.Variant, *dbus.Error) {
	props, err := f.unitProperties(msg, iface)
	if err != nil {
		return dbus.Variant{}, err
	}
	v, ok := props[property]
	if !ok {
		return dbus.Variant{}, dbus.NewError("org.freedesktop.DBus.Error.UnknownProperty", []any{property})
	}
	return v, nil
}

// listUnitsByNames answers one entry per name, in order, as systemd does:
// a name it has no properties for is not-found. A LoadState the test left
// out or gave another type is sent as "" (the method's reply is typed).
func (f *fake) listUnitsByNames(names []string) ([]fakeUnitStatus, *dbus.Error) {
	time.Sleep(f.Delay)
	out := make([]fakeUnitStatus, 0, len(names))
	for _, name := range names {
		st := fakeUnitStatus{Name: name, LoadState: "not-found", ActiveState: "inactive", SubState: "dead",
			Path: dbus.ObjectPath("/org/freedesktop/systemd1/unit/" + sddbus.PathBusEscape(name)), JobPath: "/"}
		if props, ok := f.Units[name]; ok {
			st.LoadState, _ = props["LoadState"].Value().(string)
			st.ActiveState, _ = props["ActiveState"].Value().(string)
			st.SubState, _ = props["SubState"].Value().(string)
			st.Description, _ = props["Description"].Value().(string)
		}
		out = append(out, st)
	}
	return out, nil
}

type fakeUnitStatus struct {
	Name, Description, LoadState, ActiveState, SubState, Followed string
	Path                                                          dbus.ObjectPath
	JobID                                                         uint32
	JobType                                                       string
	JobPath                                                       dbus.ObjectPath
}

func (f *fake) listUnits(states, patterns []string) ([]fakeUnitStatus, *dbus.Error) {
	time.Sleep(f.Delay)
	var out []fakeUnitStatus
	for p, name := range f.byPath {
		if matchAny(patterns, name) && !f.NotLoaded[name] {
			load, _ := f.Units[name]["LoadState"].Value().(string)
			out = append(out, fakeUnitStatus{Name: name, LoadState: load, Path: p, JobPath: "/"})
		}
	}
	return out, nil
}

type fakeUnitFile struct{ Path, Type string }

func (f *fake) listUnitFiles(states, patterns []string) ([]fakeUnitFile, *dbus.Error) {
	time.Sleep(f.Delay)
	var out []fakeUnitFile
	for name, state := range f.FileStates {
		if matchAny(patterns, name) {
			out = append(out, fakeUnitFile{Path: "/etc/systemd/system/" + name, Type: state})
		}
	}
	return out, nil
}

func (f *fake) unitFileState(name string) (string, *dbus.Error) {
	time.Sleep(f.Delay)
	state, ok := f.FileStates[name]
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

// Service is the properties of an active service whose LoadState is load;
// nil leaves LoadState out.
func Service(load any) map[string]dbus.Variant {
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

// Bus starts a dbus-daemon on a socket in a temporary directory, with no
// systemd on it, and returns its address. It stops when the test ends.
func Bus(t testing.TB) string {
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

	return addr
}
