package prune

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftcheck/driftcheck/examples/incident"
	"github.com/driftcheck/driftcheck/internal/drift"
	"github.com/driftcheck/driftcheck/internal/gitrev"
	"github.com/driftcheck/driftcheck/internal/prune/prunetest"
	"github.com/driftcheck/driftcheck/internal/testreq"
)

// incidentRepo builds the bundled incident repository (examples/incident):
// tag "incident" declares docker-prune.*, tag "reconciled" renamed them to
// ci-docker-prune.*; its recorded host snapshot runs ci-docker-prune.*.
func incidentRepo(t *testing.T) (repo *incident.Repo, snapshot string) {
	t.Helper()
	gitPath := testreq.Command(t, "git", "git")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	repo, err := incident.BuildRepo(ctx, gitPath, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	snap, err := incident.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	snapshot = filepath.Join(t.TempDir(), "snapshot.json")
	if err := os.WriteFile(snapshot, snap, 0o644); err != nil {
		t.Fatal(err)
	}
	return repo, snapshot
}

// realDriftGate checks rev against the snapshot strictly, with a
// nixos-version that says the host was built from rev: the strict check
// passes only when the host's provenance is known.
func realDriftGate(t *testing.T, repo, rev, snapshot string) DriftGate {
	nixosVersion := filepath.Join(t.TempDir(), "nixos-version")
	if err := os.WriteFile(nixosVersion, []byte("#!/bin/sh\necho '{\"configurationRevision\":\""+rev+"\"}'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	globs, err := gitrev.ParseGlobs([]string{gitrev.DefaultModuleGlob})
	if err != nil {
		t.Fatal(err)
	}
	return DriftGateOf(func(ctx context.Context) (*drift.Report, error) {
		return drift.Check(ctx, drift.Options{RepoDir: repo, Rev: rev, Globs: globs, History: drift.DefaultHistory,
			LiveFile: snapshot, NixosVersionPath: nixosVersion, Strict: true})
	})
}

// The drift gate on a real check: the committed revision that still
// declares docker-prune.* closes it and the run contacts no daemon (a
// socket that counts connections sees none); the renamed revision opens it.
func TestDriftGateOnTheIncident(t *testing.T) {
	repo, snap := incidentRepo(t)
	revA, revB := repo.Incident, repo.Reconciled
	host, conns := prunetest.CountingSocket(t)
	sock := strings.TrimPrefix(host, "unix://")
	connected := false
	opts := Options{
		Policy:   Policy{ThresholdPct: 0, BusyPattern: busy},
		Drift:    realDriftGate(t, repo.Dir, revA, snap),
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

	g, err := realDriftGate(t, repo.Dir, revB, snap)(context.Background())
	if err != nil || !g.Open {
		t.Fatalf("revision B: gate %+v, err %v; want open (in sync)", g, err)
	}
}
