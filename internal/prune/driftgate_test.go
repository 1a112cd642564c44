package prune

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/driftcheck/driftcheck/internal/drift"
	"github.com/driftcheck/driftcheck/internal/gitrev/gittest"
	"github.com/driftcheck/driftcheck/internal/live"
)

// The incident, for real: revision A declares docker-prune.*, B renamed
// them to ci-docker-prune.*, the host runs ci-docker-prune.* (snapshot).
const (
	incidentDockerModule = "{ ... }:\n{\n  virtualisation.docker.enable = true;\n}\n"
	incidentPruneModule  = `{ pkgs, ... }:
{
  systemd.services.NAME = {
    serviceConfig.Type = "oneshot";
    script = "docker system prune -f --filter until=24h";
  };

  systemd.timers.NAME = {
    wantedBy = [ "timers.target" ];
    timerConfig = {
      OnCalendar = "daily";
      Persistent = true;
    };
  };
}
`
)

func incidentRepo(t *testing.T) (dir, revA, revB string) {
	t.Helper()
	repo := gittest.New(t)
	revA = repo.Commit("docker prune", map[string]string{
		"nix/modules/docker.nix":       incidentDockerModule,
		"nix/modules/docker-prune.nix": replaceName(incidentPruneModule, "docker-prune"),
	})
	revB = repo.Commit("rename the prune units", map[string]string{
		"nix/modules/docker-prune.nix": replaceName(incidentPruneModule, "ci-docker-prune"),
	})
	return repo.Dir, revA, revB
}

func replaceName(s, name string) string { return strings.ReplaceAll(s, "NAME", name) }

func incidentSnapshot(t *testing.T) string {
	t.Helper()
	snap := live.Snapshot{
		Schema:  live.SnapshotSchema,
		TakenAt: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC),
		Units: []live.Unit{
			{Name: "ci-docker-prune.service", LoadState: "loaded", ActiveState: "inactive", SubState: "dead", UnitFileState: "linked"},
			{Name: "ci-docker-prune.timer", LoadState: "loaded", ActiveState: "active", SubState: "waiting", UnitFileState: "enabled",
				Timer: &live.Timer{Calendar: []string{"*-*-* 00:00:00"}, Unit: "ci-docker-prune.service", Persistent: true}},
			{Name: "docker-prune.service", LoadState: "loaded", ActiveState: "inactive", SubState: "dead", UnitFileState: "linked"},
			{Name: "docker-prune.timer", LoadState: "not-found", ActiveState: "inactive", SubState: "dead"},
		},
	}
	path := filepath.Join(t.TempDir(), "snapshot.json")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := snap.WriteJSON(f); err != nil {
		t.Fatal(err)
	}
	return path
}

func realDriftGate(repo, rev, snapshot string) DriftGate {
	return DriftGateOf(func(ctx context.Context) (*drift.Report, error) {
		return drift.Check(ctx, drift.Options{RepoDir: repo, Rev: rev, LiveFile: snapshot, Strict: true})
	})
}

// The drift gate on a real check: the committed revision that still
// declares docker-prune.* closes it and the run contacts no daemon (a
// socket that counts connections sees none); the renamed revision opens it.
func TestDriftGateOnTheIncident(t *testing.T) {
	repo, revA, revB := incidentRepo(t)
	snap := incidentSnapshot(t)

	sock := filepath.Join(t.TempDir(), "docker.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var conns atomic.Int64
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			c.Close()
		}
	}()
	connected := false
	opts := Options{
		Policy:   Policy{ThresholdPct: 0, BusyPattern: busy},
		Drift:    realDriftGate(repo, revA, snap),
		StateDir: t.TempDir(),
		Connect: func(ctx context.Context) (Engine, error) {
			connected = true
			c, err := net.Dial("unix", sock)
			if err == nil {
				c.Close()
			}
			return nil, err
		},
	}
	r, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if r.Outcome != OutcomeBlocked || r.ExitCode() != 1 || len(r.Gates) != 1 || r.Gates[0].Open {
		t.Fatalf("revision A: outcome %s exit %d gates %+v; want blocked on drift alone", r.Outcome, r.ExitCode(), r.Gates)
	}
	time.Sleep(50 * time.Millisecond)
	if connected || conns.Load() != 0 {
		t.Fatalf("a blocked prune contacted the daemon (connector called %v, %d connections)", connected, conns.Load())
	}

	g, err := realDriftGate(repo, revB, snap)(context.Background())
	if err != nil || !g.Open {
		t.Fatalf("revision B: gate %+v, err %v; want open (in sync)", g, err)
	}
}
