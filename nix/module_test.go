package nix_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/driftcheck/driftcheck/internal/sdsandbox"
	"github.com/driftcheck/driftcheck/internal/testreq"
)

type moduleEval struct {
	Services         map[string]unitEval `json:"services"`
	Timers           map[string]unitEval `json:"timers"`
	FailedAssertions []string            `json:"failedAssertions"`
	PreSwitchChecks  map[string]string   `json:"preSwitchChecks"`
	Tmpfiles         []string            `json:"tmpfiles"`
	RuleFiles        []string            `json:"prometheusRuleFiles"`
}

type unitEval struct {
	Description   string         `json:"description"`
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
				for _, want := range []string{`/bin/driftcheck "prune"`, `"--repo" "/etc/nixos"`, `"--rev" "origin/main"`, `"--modules" "nix/**/*.nix"`, `"--until" "24h"`} {
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
				if !slices.Equal(rw, []string{"-/var/lib/node-exporter", "-/run/lock"}) {
					t.Errorf("ReadWritePaths = %v", rw)
				}
				exec, _ := svc.ServiceConfig["ExecStart"].(string)
				if !strings.Contains(exec, `"--metrics-file" "/var/lib/node-exporter/driftcheck.prom"`) || !strings.Contains(exec, `"--lock" "/run/lock/deploy.lock"`) {
					t.Errorf("ExecStart = %q", exec)
				}
				if !slices.Equal(svc.OnFailure, []string{"alert@%n.service"}) {
					t.Errorf("onFailure = %v", svc.OnFailure)
				}
			},
		},
		{
			name:     "custom state directory",
			settings: `{ services.driftcheck.prune = { enable = true; stateDir = "/srv/driftcheck"; }; }`,
			wantUnit: "ci-docker-prune",
			check: func(t *testing.T, m moduleEval) {
				svc := m.Services["ci-docker-prune"]
				if rw := anyStrings(svc.ServiceConfig["ReadWritePaths"]); !slices.Equal(rw, []string{"/srv/driftcheck"}) {
					t.Errorf("ReadWritePaths = %v, want the state directory", rw)
				}
				if _, ok := svc.ServiceConfig["StateDirectory"]; ok {
					t.Errorf("StateDirectory set for a custom state directory")
				}
				if !slices.Equal(m.Tmpfiles, []string{"d /srv/driftcheck 0700 root root -"}) {
					t.Errorf("tmpfiles = %q", m.Tmpfiles)
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

// TestModuleUnitsVerify renders the module's service and timer the way
// NixOS writes unit files (a list value becomes one line per element) and
// has the real systemd-analyze verify them: every hardening key must be
// known and every value parse. ExecStart's program is swapped for a real
// executable; its arguments stay.
func TestModuleUnitsVerify(t *testing.T) {
	analyze := testreq.Command(t, "systemd-analyze", "systemd")
	m := evalModule(t, `{ services.driftcheck.prune = { enable = true; metricsFile = "/var/lib/node-exporter/driftcheck.prom";
	  lockFile = "/run/lock/deploy.lock"; onFailure = [ "alert@%n.service" ]; }; services.driftcheck.scope = [ "ci-*" ]; }`)
	verifyUnits(t, analyze, "ci-docker-prune", m.Services["ci-docker-prune"], m.Timers["ci-docker-prune"])
}

// verifyUnits writes the service and timer name as NixOS would and has
// systemd-analyze verify them.
func verifyUnits(t *testing.T, analyze, name string, svc, tmr unitEval) {
	t.Helper()
	dir := t.TempDir()
	exec, _ := svc.ServiceConfig["ExecStart"].(string)
	_, args, ok := strings.Cut(exec, " ")
	if !ok {
		t.Fatalf("ExecStart %q has no arguments", exec)
	}
	svc.ServiceConfig["ExecStart"] = "/bin/true " + args
	unitSection := map[string]any{"Description": name, "After": svc.After, "Requires": svc.Requires, "OnFailure": svc.OnFailure}
	files := map[string]string{
		name + ".service": renderSection("Unit", unitSection) + renderSection("Service", svc.ServiceConfig),
		name + ".timer": renderSection("Unit", map[string]any{"Description": name + " timer"}) +
			renderSection("Timer", tmr.TimerConfig) + renderSection("Install", map[string]any{"WantedBy": tmr.WantedBy}),
	}
	var paths []string
	for file, content := range files {
		p := filepath.Join(dir, file)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	slices.Sort(paths)
	out, err := combinedOutput(t, analyze, append([]string{"verify", "--man=no"}, paths...)...)
	// verify exits 0 on unknown keys and unparsable values; its messages
	// are what matter. Missing dependencies (docker.service) are not
	// mentioned for a unit file given by path.
	var problems []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l != "" && !strings.Contains(l, "docker.service") && !strings.Contains(l, "alert@") {
			problems = append(problems, l)
		}
	}
	if err != nil || len(problems) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s\nunits:\n%s\n%s", err, strings.Join(problems, "\n"),
			files[name+".service"], files[name+".timer"])
	}
}

// The daily check that writes metrics: its own service and timer, next to
// the prune's and independent of it, hardened like it, verified by
// systemd-analyze; drift and incomplete do not fail the unit.
func TestModuleCheckTimer(t *testing.T) {
	m := evalModule(t, `{ services.driftcheck.check.enable = true; }`)
	svc, tmr := m.Services["driftcheck-check"], m.Timers["driftcheck-check"]
	if len(m.Services) != 1 || len(m.Timers) != 1 || svc.ServiceConfig == nil {
		t.Fatalf("services %v timers %v, want driftcheck-check only", m.Services, m.Timers)
	}
	exec, _ := svc.ServiceConfig["ExecStart"].(string)
	for _, want := range []string{`/bin/driftcheck "check"`, `"--repo" "/etc/nixos"`, `"--rev" "origin/main"`,
		`"--metrics-file" "/var/lib/prometheus-node-exporter-text-files/driftcheck-check.prom"`} {
		if !strings.Contains(exec, want) {
			t.Errorf("ExecStart %q lacks %q", exec, want)
		}
	}
	if strings.Contains(exec, "--strict") {
		t.Errorf("ExecStart %q is strict by default", exec)
	}
	if svc.ServiceConfig["SuccessExitStatus"] != "1 3" || svc.ServiceConfig["ProtectSystem"] != "strict" ||
		!slices.Equal(anyStrings(svc.ServiceConfig["ReadWritePaths"]), []string{"-/var/lib/prometheus-node-exporter-text-files"}) {
		t.Errorf("serviceConfig = %v", svc.ServiceConfig)
	}
	if tmr.TimerConfig["OnCalendar"] != "daily" || tmr.TimerConfig["Persistent"] != true || !slices.Contains(tmr.WantedBy, "timers.target") {
		t.Errorf("timer = %+v", tmr)
	}
	if analyze, err := osexec.LookPath("systemd-analyze"); err == nil {
		verifyUnits(t, analyze, "driftcheck-check", svc, tmr)
	} else {
		testreq.Missing(t, "systemd-analyze not found (Debian package systemd)")
	}

	both := evalModule(t, `{ services.driftcheck = { check = { enable = true; calendar = "hourly"; strict = true; metricsFile = "/srv/tf/dc.prom"; };
	  prune.enable = true; }; }`)
	if len(both.Services) != 2 || len(both.Timers) != 2 {
		t.Fatalf("services %v timers %v: want the check's and the prune's", both.Services, both.Timers)
	}
	if both.Timers["driftcheck-check"].TimerConfig["OnCalendar"] != "hourly" || both.Timers["ci-docker-prune"].TimerConfig["OnCalendar"] != "daily" {
		t.Errorf("calendars: check %v prune %v", both.Timers["driftcheck-check"].TimerConfig, both.Timers["ci-docker-prune"].TimerConfig)
	}
	exec, _ = both.Services["driftcheck-check"].ServiceConfig["ExecStart"].(string)
	if !strings.Contains(exec, `"--strict"`) || !strings.Contains(exec, `"--metrics-file" "/srv/tf/dc.prom"`) {
		t.Errorf("ExecStart %q", exec)
	}

	same := evalModule(t, `{ services.driftcheck = { check = { enable = true; unitName = "x"; }; prune = { enable = true; unitName = "x"; }; }; }`)
	if len(same.FailedAssertions) != 1 || !strings.Contains(same.FailedAssertions[0], "must differ") {
		t.Errorf("same unit name for check and prune: assertions %q", same.FailedAssertions)
	}
}

// On the monitoring host the module adds the shipped rules file.
func TestModulePrometheusRules(t *testing.T) {
	if m := evalModule(t, `{ }`); len(m.RuleFiles) != 0 {
		t.Fatalf("rule files %v without prometheusRules", m.RuleFiles)
	}
	m := evalModule(t, `{ services.driftcheck.prometheusRules = true; }`)
	want := filepath.Join(repoRoot(t), "nix", "prometheus", "driftcheck.rules.yml")
	if !slices.Equal(m.RuleFiles, []string{want}) {
		t.Fatalf("rule files %v, want %s", m.RuleFiles, want)
	}
	if _, err := os.Stat(want); err != nil {
		t.Fatal(err)
	}
}

// renderSection writes one unit file section as NixOS does: booleans as
// true/false, lists as one line per element, keys sorted.
func renderSection(name string, kv map[string]any) string {
	var b strings.Builder
	b.WriteString("[" + name + "]\n")
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		switch v := kv[k].(type) {
		case []any:
			for _, x := range v {
				fmt.Fprintf(&b, "%s=%v\n", k, x)
			}
		case []string:
			for _, x := range v {
				fmt.Fprintf(&b, "%s=%s\n", k, x)
			}
		case bool:
			fmt.Fprintf(&b, "%s=%t\n", k, v)
		default:
			fmt.Fprintf(&b, "%s=%v\n", k, v)
		}
	}
	return b.String() + "\n"
}

// combinedOutput runs a command and returns its combined output.
func combinedOutput(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := osexec.CommandContext(ctx, name, args...).CombinedOutput()
	return string(out), err
}

// TestFlakeOutputs evaluates flake.nix against a stub nixpkgs: only
// nixpkgs as input, the documented outputs for both systems, the package
// from nix/package.nix, the module importing nix/modules/driftcheck.nix.
func TestFlakeOutputs(t *testing.T) {
	nixInstantiate := testreq.Command(t, "nix-instantiate", "nix-bin")
	root := repoRoot(t)
	out := command(t, time.Minute, root, nixInstantiate, "--readonly-mode", "--eval", "--strict", "--json",
		filepath.Join(root, "nix", "tests", "eval-flake.nix"))
	var got struct {
		Inputs              []string            `json:"inputs"`
		Outputs             []string            `json:"outputs"`
		Packages            map[string][]string `json:"packages"`
		PackagePath         string              `json:"packagePath"`
		Checks              map[string][]string `json:"checks"`
		ModuleImports       []string            `json:"moduleImports"`
		ModulePackageSystem string              `json:"modulePackageSystem"`
		Overlay             string              `json:"overlay"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("decode: %v\n%s", err, out)
	}
	if !slices.Equal(got.Inputs, []string{"nixpkgs"}) {
		t.Errorf("inputs %q, want only nixpkgs", got.Inputs)
	}
	if !slices.Equal(got.Outputs, []string{"checks", "nixosModules", "overlays", "packages"}) {
		t.Errorf("outputs %q", got.Outputs)
	}
	for _, system := range []string{"x86_64-linux", "aarch64-linux"} {
		if !slices.Equal(got.Packages[system], []string{"default", "driftcheck"}) {
			t.Errorf("packages.%s = %q", system, got.Packages[system])
		}
		if !slices.Equal(got.Checks[system], []string{"module-eval", "package"}) {
			t.Errorf("checks.%s = %q", system, got.Checks[system])
		}
	}
	if got.PackagePath != filepath.Join(root, "nix", "package.nix") {
		t.Errorf("package built from %q", got.PackagePath)
	}
	if !slices.Equal(got.ModuleImports, []string{filepath.Join(root, "nix", "modules", "driftcheck.nix")}) {
		t.Errorf("nixosModules.default imports %q", got.ModuleImports)
	}
	if got.ModulePackageSystem != "x86_64-linux" || got.Overlay != "driftcheck" {
		t.Errorf("module package for %q, overlay %q", got.ModulePackageSystem, got.Overlay)
	}
}

// TestModuleExecStartQuoting boots a real systemd (sdsandbox) with the
// module's ExecStart and records the argv the started process receives:
// regex characters systemd treats specially ($, %, \, quotes, spaces) must
// reach driftcheck unchanged. The program is swapped for a shell script that
// writes its arguments to a file; the hardening is left out, because it
// would (rightly) keep the script from writing there.
func TestModuleExecStartQuoting(t *testing.T) {
	sdsandbox.Require(t)
	const pattern = `^ci-\d+_[a-z]$ 100% "q" 'x' ${HOME}`
	m := evalModule(t, `{ services.driftcheck.prune = { enable = true; busyPattern = `+nixString(pattern)+`; }; }`)
	exec, _ := m.Services["ci-docker-prune"].ServiceConfig["ExecStart"].(string)
	_, args, _ := strings.Cut(exec, " ")

	dir := t.TempDir()
	script, argvFile := filepath.Join(dir, "argv.sh"), filepath.Join(dir, "argv")
	if err := os.WriteFile(script, []byte("printf '%s\\n' \"$@\" > "+argvFile+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	unit := renderSection("Unit", map[string]any{"Description": "quoting"}) +
		renderSection("Service", map[string]any{"Type": "oneshot", "ExecStart": "/bin/sh " + script + " " + args})
	sb := sdsandbox.New(t, sdsandbox.Options{Units: []sdsandbox.Unit{{Name: "ci-docker-prune.service", Content: unit}}})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, err := sb.Systemctl(ctx, "start", "ci-docker-prune.service"); err != nil {
		t.Fatalf("systemctl start: %v\n%s", err, out)
	}
	data, err := os.ReadFile(argvFile)
	if err != nil {
		t.Fatalf("the service did not record its argv: %v", err)
	}
	argv := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	i := slices.Index(argv, "--busy-pattern")
	if i < 0 || i+1 >= len(argv) || argv[i+1] != pattern {
		t.Errorf("argv %q; want --busy-pattern %q as one argument\nExecStart=%s", argv, pattern, args)
	}
	if argv[0] != "prune" {
		t.Errorf("argv[0] = %q, want prune", argv[0])
	}
}

// nixString quotes s as a Nix double-quoted string.
func nixString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "${", `\${`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}
