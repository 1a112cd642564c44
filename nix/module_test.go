package nix_test

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/driftcheck/driftcheck/internal/testreq"
)

type moduleEval struct {
	Services         map[string]unitEval `json:"services"`
	Timers           map[string]unitEval `json:"timers"`
	FailedAssertions []string            `json:"failedAssertions"`
	PreSwitchChecks  map[string]string   `json:"preSwitchChecks"`
}

type unitEval struct {
	After         []string       `json:"after"`
	Requires      []string       `json:"requires"`
	WantedBy      []string       `json:"wantedBy"`
	OnFailure     []string       `json:"onFailure"`
	ServiceConfig map[string]any `json:"serviceConfig"`
	TimerConfig   map[string]any `json:"timerConfig"`
}

// evalModule evaluates nix/modules/driftcheck.nix with real Nix through the
// stub module system in nix/tests/eval-module.nix.
func evalModule(t *testing.T, settings string) moduleEval {
	t.Helper()
	nixInstantiate := testreq.Command(t, "nix-instantiate", "nix-bin")
	root := repoRoot(t)
	out := command(t, time.Minute, root, nixInstantiate, "--readonly-mode", "--eval", "--strict", "--json",
		filepath.Join(root, "nix", "tests", "eval-module.nix"), "--arg", "settings", settings)
	var m moduleEval
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("decode evaluation: %v\n%s", err, out)
	}
	return m
}

func TestModuleEvaluation(t *testing.T) {
	tests := []struct {
		name         string
		settings     string
		wantUnit     string // "" = no unit
		wantFailures []string
		check        func(t *testing.T, m moduleEval)
	}{
		{
			name:     "disabled declares nothing",
			settings: `{ }`,
		},
		{
			name:     "defaults",
			settings: `{ services.driftcheck.prune.enable = true; virtualisation.docker.enable = true; }`,
			wantUnit: "ci-docker-prune",
			check: func(t *testing.T, m moduleEval) {
				svc, tmr := m.Services["ci-docker-prune"], m.Timers["ci-docker-prune"]
				if svc.ServiceConfig["Type"] != "oneshot" || !slices.Contains(svc.After, "docker.service") || !slices.Contains(svc.Requires, "docker.service") {
					t.Errorf("service = %+v, want oneshot after/requires docker.service", svc)
				}
				exec, _ := svc.ServiceConfig["ExecStart"].(string)
				for _, want := range []string{"/bin/driftcheck 'prune'", "'--repo' '/etc/nixos'", "'--rev' 'origin/main'", "'--modules' 'nix/**/*.nix'", "'--until' '24h'"} {
					if !strings.Contains(exec, want) {
						t.Errorf("ExecStart %q lacks %q", exec, want)
					}
				}
				if strings.Contains(exec, "--metrics-file") || strings.Contains(exec, "--lock") || strings.Contains(exec, "--scope") {
					t.Errorf("ExecStart %q passes unset optional flags", exec)
				}
				if tmr.TimerConfig["OnCalendar"] != "daily" || tmr.TimerConfig["Persistent"] != true || !slices.Contains(tmr.WantedBy, "timers.target") {
					t.Errorf("timer = %+v, want OnCalendar daily, Persistent, wantedBy timers.target", tmr)
				}
				if svc.ServiceConfig["ProtectSystem"] != "strict" || !slices.Equal(anyStrings(svc.ServiceConfig["RestrictAddressFamilies"]), []string{"AF_UNIX"}) {
					t.Errorf("hardening lost: %v", svc.ServiceConfig)
				}
			},
		},
		{
			name: "custom name, schedule, metrics, lock, onFailure",
			settings: `{ services.driftcheck.prune = { enable = true; unitName = "ci-image-prune"; calendar = "03:00";
			  metricsFile = "/var/lib/node-exporter/driftcheck.prom"; lockFile = "/run/lock/deploy.lock"; onFailure = [ "alert@%n.service" ]; }; }`,
			wantUnit: "ci-image-prune",
			check: func(t *testing.T, m moduleEval) {
				svc := m.Services["ci-image-prune"]
				if m.Timers["ci-image-prune"].TimerConfig["OnCalendar"] != "03:00" {
					t.Errorf("OnCalendar = %v", m.Timers["ci-image-prune"].TimerConfig["OnCalendar"])
				}
				rw := anyStrings(svc.ServiceConfig["ReadWritePaths"])
				if !slices.Equal(rw, []string{"/var/lib/driftcheck", "/var/lib/node-exporter", "/run/lock"}) {
					t.Errorf("ReadWritePaths = %v", rw)
				}
				exec, _ := svc.ServiceConfig["ExecStart"].(string)
				if !strings.Contains(exec, "'--metrics-file' '/var/lib/node-exporter/driftcheck.prom'") || !strings.Contains(exec, "'--lock' '/run/lock/deploy.lock'") {
					t.Errorf("ExecStart = %q", exec)
				}
				if !slices.Equal(svc.OnFailure, []string{"alert@%n.service"}) {
					t.Errorf("onFailure = %v", svc.OnFailure)
				}
			},
		},
		{
			name:         "docker-prune name is refused",
			settings:     `{ services.driftcheck.prune = { enable = true; unitName = "docker-prune"; }; }`,
			wantUnit:     "docker-prune",
			wantFailures: []string{"must not be \"docker-prune\""},
		},
		{
			name:         "stock autoPrune is refused",
			settings:     `{ services.driftcheck.prune.enable = true; virtualisation.docker.autoPrune.enable = true; }`,
			wantUnit:     "ci-docker-prune",
			wantFailures: []string{"virtualisation.docker.autoPrune.enable = false"},
		},
		{
			name:     "pre-switch check",
			settings: `{ services.driftcheck = { preSwitchCheck = true; scope = [ "ci-*" ]; revision = "HEAD"; }; }`,
			check: func(t *testing.T, m moduleEval) {
				script := m.PreSwitchChecks["driftcheck"]
				for _, want := range []string{"pre-switch-check.sh \"$1\" '--scope' 'ci-*' '--' '--repo' '/etc/nixos' '--rev' 'HEAD'", "-jq/bin"} {
					if !strings.Contains(script, want) {
						t.Errorf("preSwitchChecks.driftcheck = %q, lacks %q", script, want)
					}
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := evalModule(t, tt.settings)
			var services, timers []string
			for n := range m.Services {
				services = append(services, n)
			}
			for n := range m.Timers {
				timers = append(timers, n)
			}
			var want []string
			if tt.wantUnit != "" {
				want = []string{tt.wantUnit}
			}
			if !slices.Equal(services, want) || !slices.Equal(timers, want) {
				t.Errorf("services %v, timers %v; want %v for both", services, timers, want)
			}
			if len(m.FailedAssertions) != len(tt.wantFailures) {
				t.Errorf("failed assertions = %q, want %d", m.FailedAssertions, len(tt.wantFailures))
			}
			for i, want := range tt.wantFailures {
				if i < len(m.FailedAssertions) && !strings.Contains(m.FailedAssertions[i], want) {
					t.Errorf("assertion message %q lacks %q", m.FailedAssertions[i], want)
				}
			}
			if tt.check != nil {
				tt.check(t, m)
			}
		})
	}
}

func anyStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}
