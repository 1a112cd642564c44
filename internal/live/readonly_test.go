package live

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	sddbus "github.com/coreos/go-systemd/v22/dbus"
	"github.com/google/go-cmp/cmp"

	"github.com/driftcheck/driftcheck/internal/sdsandbox"
)

// readCalls are the only go-systemd Conn methods and systemd manager
// methods the package may use. Anything else go-systemd offers (StartUnit,
// Reload, EnableUnitFiles, MaskUnitFiles, KillUnit, …) changes the host.
var (
	readOnlyGoSystemd = map[string]bool{
		"Close":                          true,
		"GetUnitPropertiesContext":       true,
		"GetUnitPropertyContext":         true,
		"ListUnitsByNamesContext":        true,
		"GetUnitTypePropertiesContext":   true,
		"ListUnitsByPatternsContext":     true,
		"ListUnitFilesByPatternsContext": true,
	}
	readOnlyManager = map[string]bool{"GetUnitFileState": true}
)

// TestNoMutatingCalls inspects the package's non-test source: every
// selector that names a go-systemd Conn method must be a read, and every
// manager method called by name must be a read.
func TestNoMutatingCalls(t *testing.T) {
	t.Parallel()
	connMethods := map[string]bool{}
	typ := reflect.TypeOf(&sddbus.Conn{})
	for i := range typ.NumMethod() {
		connMethods[typ.Method(i).Name] = true
	}
	if !connMethods["StartUnit"] || !connMethods["Reload"] {
		t.Fatal("go-systemd's method set lacks StartUnit/Reload: the check below would prove nothing")
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				name := n.Sel.Name
				if connMethods[name] && !readOnlyGoSystemd[name] {
					t.Errorf("%s: uses go-systemd method %s, which is not on the read-only list", fset.Position(n.Pos()), name)
				}
			case *ast.BasicLit:
				if n.Kind != token.STRING {
					return true
				}
				s, _ := strconv.Unquote(n.Value)
				if method, ok := strings.CutPrefix(s, "org.freedesktop.systemd1.Manager."); ok && !readOnlyManager[method] {
					t.Errorf("%s: calls manager method %s, which is not on the read-only list", fset.Position(n.Pos()), method)
				}
				if method, ok := strings.CutPrefix(s, "."); ok && !readOnlyManager[method] && method != "" &&
					strings.ToUpper(method[:1]) == method[:1] {
					t.Errorf("%s: builds method name %q, which is not on the read-only list", fset.Position(n.Pos()), s)
				}
			}
			return true
		})
	}
	if checked == 0 {
		t.Fatal("no source files inspected")
	}
}

// TestReadChangesNothing compares the sandbox's unit listing and unit-file
// listing before and after a full read, including names systemd does not
// know (which it loads on demand).
//
// Mount and device units are left out of the comparison: they mirror the
// host's mount table, which other tests change at any moment (a private
// dockerd's overlay mounts under /tmp appear in the sandbox as
// tmp-….mount units and vanish again), and so is NNames, which counts them.
// A unit a read left loaded would still show in list-units --all.
func TestReadChangesNothing(t *testing.T) {
	t.Parallel()
	sb := sdsandbox.New(t, sdsandbox.Options{Units: []sdsandbox.Unit{
		{Name: "daily.timer", Content: dailyTimer, WantedBy: []string{"timers.target"}},
		{Name: "daily.service", Content: oneshot},
		{Name: "weekly.timer", Content: weeklyTimer},
		sdsandbox.LinkedUnit("docker-prune.service", oneshot),
		{Name: "masked.service", Masked: true},
		{Name: "fails.service", Content: "[Service]\nType=oneshot\nExecStart=/bin/false\n", WantedBy: []string{"multi-user.target"}},
		{Name: "run.service", Content: longRun, WantedBy: []string{"multi-user.target"}},
	}})
	state := func() string {
		t.Helper()
		var b strings.Builder
		for _, args := range [][]string{
			{"list-units", "--all", "--plain", "--no-legend"},
			{"list-unit-files", "--no-legend"},
			{"list-jobs", "--no-legend"},
			{"show", "-p", "NJobs,NFailedUnits,SystemState", "--value"},
		} {
			out, err := sb.Systemctl(context.Background(), args...)
			if err != nil {
				t.Fatal(err)
			}
			lines := slices.DeleteFunc(strings.Split(string(out), "\n"), mirrorsHost)
			for i, line := range lines {
				lines[i] = strings.Join(strings.Fields(line), " ") // column widths follow the longest name
			}
			sort.Strings(lines)
			b.WriteString(strings.Join(lines, "\n"))
		}
		return b.String()
	}
	before := state()
	snap := readSandbox(t, sb, Query{
		Names:      []string{"weekly.timer", "missing.service", "masked.service", "fails.service"},
		ScopeGlobs: []string{"*"},
	})
	if len(snap.Units) < 8 {
		t.Fatalf("read only %d units; the read was not full", len(snap.Units))
	}
	if diff := cmp.Diff(before, state()); diff != "" {
		t.Errorf("systemd state changed by a read (-before +after):\n%s", diff)
	}
}

// mirrorsHost reports whether a listing line is about a mount or device
// unit, which mirror the host's mount table rather than anything a read
// could change.
func mirrorsHost(line string) bool {
	unit, _, _ := strings.Cut(strings.TrimSpace(line), " ")
	return strings.HasSuffix(unit, ".mount") || strings.HasSuffix(unit, ".device")
}
