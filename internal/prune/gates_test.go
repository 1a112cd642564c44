package prune

import (
	"strings"
	"testing"

	"github.com/driftcheck/driftcheck/internal/drift"
	"github.com/driftcheck/driftcheck/internal/unitdiff"
)

func TestPressureGate(t *testing.T) {
	tests := []struct {
		name          string
		bytes, inodes float64
		want          bool
	}{
		{"below", 50, 10, false},
		{"bytes at threshold", 80, 10, true},
		{"bytes above", 93.2, 10, true},
		{"inodes above", 20, 85, true},
		{"just below", 79.99, 79.99, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := PressureGate(Disk{Path: "/var/lib/docker", BytesPct: tt.bytes, InodesPct: tt.inodes}, 80)
			if g.Open != tt.want || g.Reason == "" || g.Name != GatePressure {
				t.Fatalf("gate = %+v, want open=%v with a reason", g, tt.want)
			}
		})
	}
}

func TestBusyGate(t *testing.T) {
	tests := []struct {
		name string
		inv  Inventory
		want bool
	}{
		{"idle", Inventory{Services: []Service{{Name: "web", Labels: map[string]string{LabelStackNamespace: "prod"}}}}, true},
		{"service stack", Inventory{Services: []Service{{Name: "web", Labels: map[string]string{LabelStackNamespace: "ab12-0a1b2c_ci_x"}}}}, false},
		{"service name", Inventory{Services: []Service{{Name: "ab12-0a1b2c_ci_web"}}}, false},
		{"container", Inventory{Containers: []Container{{Name: "ab12-0a1b2c_ci_web.1.xyz"}}}, false},
		{"network", Inventory{Networks: []Network{{Name: "n", Labels: map[string]string{LabelStackNamespace: "zz-abcdef_ci_"}}}}, false},
		{"uppercase does not match", Inventory{Networks: []Network{{Name: "AB12-0a1b2c_ci_x"}}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if g := BusyGate(&tt.inv, busy); g.Open != tt.want {
				t.Fatalf("gate = %+v, want open=%v", g, tt.want)
			}
		})
	}
}

func TestConvergingGate(t *testing.T) {
	tests := []struct {
		name string
		inv  Inventory
		want bool
		note string
	}{
		{"converged", Inventory{SwarmManager: true, Services: []Service{{Name: "a", HasStatus: true, Running: 2, Desired: 2}}}, true, ""},
		{"short of replicas", Inventory{SwarmManager: true, Services: []Service{{Name: "a", HasStatus: true, Running: 1, Desired: 2}}}, false, "1 of 2"},
		{"updating", Inventory{SwarmManager: true, Services: []Service{{Name: "a", HasStatus: true, Running: 2, Desired: 2, UpdateState: "updating"}}}, false, "updating"},
		{"update completed", Inventory{SwarmManager: true, Services: []Service{{Name: "a", HasStatus: true, Running: 2, Desired: 2, UpdateState: "completed"}}}, true, ""},
		{"rollback paused", Inventory{SwarmManager: true, Services: []Service{{Name: "a", UpdateState: "rollback_paused"}}}, false, "rollback_paused"},
		{"task preparing", Inventory{SwarmManager: true, Tasks: []Task{{ID: "t", DesiredState: "running", State: "preparing"}}}, false, "preparing"},
		{"task shutting down", Inventory{SwarmManager: true, Tasks: []Task{{ID: "t", DesiredState: "shutdown", State: "running"}}}, true, ""},
		{"not a manager, created container", Inventory{SwarmState: "inactive", Containers: []Container{{Name: "x", State: "created"}}}, false, "local containers"},
		{"not a manager, idle", Inventory{SwarmState: "inactive", Containers: []Container{{Name: "x", State: "exited"}}}, true, "not a swarm manager"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := ConvergingGate(&tt.inv)
			if g.Open != tt.want || !strings.Contains(g.Reason, tt.note) {
				t.Fatalf("gate = %+v, want open=%v and a reason containing %q", g, tt.want, tt.note)
			}
		})
	}
}

// The drift gate is strict: everything but a clean in-sync report closes it.
func TestGateFromDriftReport(t *testing.T) {
	finding := func(k unitdiff.Kind, sev unitdiff.Severity) unitdiff.Finding {
		return unitdiff.Finding{Kind: k, Unit: "docker-prune.service", Severity: sev}
	}
	tests := []struct {
		name     string
		findings []unitdiff.Finding
		want     bool
	}{
		{"in sync", nil, true},
		{"missing unit", []unitdiff.Finding{finding("missing", unitdiff.SeverityDrift)}, false},
		{"renamed unit", []unitdiff.Finding{finding("renamed", unitdiff.SeverityDrift)}, false},
		{"unresolved", []unitdiff.Finding{finding("unresolved", unitdiff.SeverityIncomplete)}, false},
		{"dirty tree (warning, strict)", []unitdiff.Finding{finding("dirty", unitdiff.SeverityWarning)}, false},
		{"source differs (warning, strict)", []unitdiff.Finding{finding("source-differs", unitdiff.SeverityWarning)}, false},
		{"host revision (warning, strict)", []unitdiff.Finding{finding("revision", unitdiff.SeverityWarning)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := &drift.Report{Schema: drift.ReportSchema, Rev: "abc123", Findings: tt.findings,
				Verdict: unitdiff.Verdict(tt.findings, true), Strict: true}
			g := GateFromDriftReport(rep)
			if g.Open != tt.want || g.Name != GateDrift || g.Reason == "" {
				t.Fatalf("gate = %+v, want open=%v", g, tt.want)
			}
		})
	}
	// The gate reads the verdict the check computed, and only a strict one:
	// a report checked without --strict never opens it.
	lenient := &drift.Report{Schema: drift.ReportSchema, Rev: "abc123", Verdict: unitdiff.VerdictInSync,
		Findings: []unitdiff.Finding{finding("dirty", unitdiff.SeverityWarning)}}
	if g := GateFromDriftReport(lenient); g.Open {
		t.Errorf("a non-strict in-sync report opened the gate: %+v", g)
	}
}
