package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/godbus/dbus/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/driftcheck/driftcheck/internal/gitrev/gittest"
	"github.com/driftcheck/driftcheck/internal/live/fakesystemd"
)

// TestCheckSnapshotFileIsTrustedOnlyWhenWellFormed runs the probe:
// a revision declaring probe-s.service, checked with --strict against
// hand-written snapshot files. Only a file that says one known thing about
// the unit may give "in sync"; a unit without a known load state makes the
// check incomplete (3), a file that is not one well-formed snapshot cannot
// be used (2).
func TestCheckSnapshotFileIsTrustedOnlyWhenWellFormed(t *testing.T) {
	t.Parallel()
	repo := gittest.New(t)
	rev := repo.Commit("probe", map[string]string{
		"nix/modules/probe.nix": "{ ... }:\n{\n  systemd.services.probe-s = {\n    script = \"true\";\n  };\n}\n",
	})
	const head = `{"schema":"driftcheck.snapshot/v1","units":[`
	const loaded = `{"name":"probe-s.service","load":"loaded","active":"inactive","sub":"dead","file_state":"static"}`
	write := func(content string) string {
		p := filepath.Join(t.TempDir(), "s.json")
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	huge := filepath.Join(t.TempDir(), "huge.json")
	if err := os.WriteFile(huge, []byte(head+loaded+`]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(huge, 200<<20); err != nil { // sparse
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		snapshot string
		code     int
		findings []string // for exit 0, 1 and 3
		stderr   string   // for exit 2
	}{
		{"well formed and in sync", write(head + loaded + `]}`), exitOK, []string{}, ""},
		{"no load state", write(head + `{"name":"probe-s.service"}]}`), exitIncomplete, []string{"unresolved probe-s.service"}, ""},
		{"empty load state", write(head + `{"name":"probe-s.service","load":"","active":"active","file_state":"enabled"}]}`),
			exitIncomplete, []string{"unresolved probe-s.service"}, ""},
		{"unknown load state", write(head + `{"name":"probe-s.service","load":"present","active":"active","file_state":"enabled"}]}`),
			exitIncomplete, []string{"unresolved probe-s.service"}, ""},
		{"unit listed twice", write(head + loaded + `,{"name":"probe-s.service","load":"not-found","active":"inactive","file_state":""}]}`),
			exitCannotRun, nil, `lists unit "probe-s.service" more than once`},
		{"second document", write(head + loaded + `]}` + "\n" + head + `]}`), exitCannotRun, nil, "data after the snapshot document"},
		{"larger than the limit", huge, exitCannotRun, nil, "larger than 64 MiB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCheckCLI(t, "--repo", repo.Dir, "--rev", rev, "--strict", "--format", "json", "--live", tc.snapshot,
				"--nixos-version", hostNixosVersion(t, rev))
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %q\n%s", code, tc.code, stderr, stdout)
			}
			if code == exitCannotRun {
				if stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tc.stderr) {
					t.Errorf("stdout %q stderr %q, want nothing and one line with %q", stdout, stderr, tc.stderr)
				}
				return
			}
			if diff := cmp.Diff(tc.findings, decodeCheck(t, stdout).kinds()); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCheckBusWithoutLoadState: the same probe over D-Bus, against a tiny
// org.freedesktop.systemd1 on a private bus that omits LoadState, sends it
// as another type or sends an unknown value. The check must say it could
// not read the unit (exit 3), never "in sync".
func TestCheckBusWithoutLoadState(t *testing.T) {
	t.Parallel()
	repo := gittest.New(t)
	rev := repo.Commit("probe", map[string]string{
		"nix/modules/probe.nix": "{ ... }:\n{\n  systemd.services.probe-s = {\n    script = \"true\";\n  };\n}\n",
	})
	host := func(load any) string {
		props := fakesystemd.Service(load)
		props["ActiveState"] = dbus.MakeVariant("inactive")
		props["SubState"] = dbus.MakeVariant("dead")
		return fakesystemd.Start(t, fakesystemd.Host{
			Units:      map[string]map[string]dbus.Variant{"probe-s.service": props},
			FileStates: map[string]string{"probe-s.service": "static"},
		})
	}
	tests := []struct {
		name     string
		load     any
		code     int
		findings []string
	}{
		{"loaded", "loaded", exitOK, []string{}},
		{"no LoadState", nil, exitIncomplete, []string{"unresolved probe-s.service"}},
		{"LoadState as uint32", uint32(1), exitIncomplete, []string{"unresolved probe-s.service"}},
		{"unknown LoadState", "present", exitIncomplete, []string{"unresolved probe-s.service"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCheckCLI(t, "--repo", repo.Dir, "--rev", rev, "--format", "json", "--bus-address", host(tc.load))
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %q\n%s", code, tc.code, stderr, stdout)
			}
			if diff := cmp.Diff(tc.findings, decodeCheck(t, stdout).kinds()); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}
