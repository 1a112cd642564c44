package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftcheck/driftcheck/internal/live"
	"github.com/driftcheck/driftcheck/internal/sdsandbox"
)

// docs/fleet.md, the central runner: collect `driftcheck snapshot` from
// every host (here two real systemd hosts in sandboxes; in production over
// ssh), then check each snapshot against one repository with
// `check --live FILE`. No orchestrator: a loop over hosts, exit codes per
// host. "web" runs what the repository declares; "ci" still runs the
// units of the revision before the rename.
func TestFleetCentralRunner(t *testing.T) {
	t.Parallel()
	repo, _, revB := checkIncidentRepo(t)
	hosts := map[string][]sdsandbox.Unit{
		"web": sbIncidentHost(),
		"ci": {
			sdsandbox.LinkedUnit("docker-prune.service", sbStockPrune),
			{Name: "docker-prune.timer", WantedBy: []string{"timers.target"}, Store: true,
				Content: "[Timer]\nOnCalendar=daily\nPersistent=true\nUnit=docker-prune.service\n"},
		},
	}

	// Step 1, on each host (ssh HOST driftcheck snapshot …): snapshot each
	// host over its own bus; the snapshot asks what a check of this
	// repository will need (--repo, --rev).
	dir := t.TempDir()
	for name, units := range hosts {
		sb := sdsandbox.New(t, sdsandbox.Options{Layout: sdsandbox.NixOSLike, Units: units})
		code, stdout, stderr := runCLI(t, "snapshot", "--bus-address="+sb.BusAddress(), "--root", sb.RootFS(),
			"--repo", repo.Dir, "--rev", revB)
		if code != exitOK {
			t.Fatalf("%s: snapshot exit %d: %s", name, code, stderr)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".json"), []byte(stdout), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Step 2, in CI: one check per collected snapshot.
	want := map[string]int{"web": exitOK, "ci": exitFindings}
	for name, wantCode := range want {
		file := filepath.Join(dir, name+".json")
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := live.ReadSnapshot(f); err != nil {
			t.Fatalf("%s: snapshot does not read back: %v", name, err)
		}
		f.Close()
		code, stdout, stderr := runCheckCLI(t, "--repo", repo.Dir, "--rev", revB, "--live", file)
		t.Logf("$ driftcheck check --rev %.7s --live %s.json  # exit %d\n%s", revB, name, code, stdout)
		if code != wantCode {
			t.Errorf("%s: check --live exit %d, want %d; stderr %q\n%s", name, code, wantCode, stderr, stdout)
		}
		if name == "ci" && !strings.Contains(stdout, "ci-docker-prune") {
			t.Errorf("ci: the report does not name the declared units it misses:\n%s", stdout)
		}
	}
}
