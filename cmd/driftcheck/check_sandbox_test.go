package main

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/driftcheck/driftcheck/internal/gitrev/gittest"
	"github.com/driftcheck/driftcheck/internal/sdsandbox"
)

// These tests check against a real systemd 252 booted in private
// namespaces (internal/sdsandbox), over its D-Bus system bus, in the
// NixOS-like layout: every unit a store symlink, wants links relative.

const (
	sbOneshot      = "[Service]\nType=oneshot\nExecStart=/bin/true\n"
	sbLongRunning  = "[Service]\nExecStart=/bin/sleep infinity\n"
	sbStockPrune   = "[Unit]\nDescription=Prune docker resources\n[Service]\nType=oneshot\nExecStart=/bin/true\n"
	sbCIPruneTimer = "[Timer]\nOnCalendar=daily\nPersistent=true\nUnit=ci-docker-prune.service\n"
)

// sbIncidentHost is the incident's host: ci-docker-prune.{service,timer}
// from an uncommitted copy, the timer enabled, next to the stock
// docker-prune.service (linked, wanted by nothing).
func sbIncidentHost() []sdsandbox.Unit {
	return []sdsandbox.Unit{
		sdsandbox.LinkedUnit("docker-prune.service", sbStockPrune),
		sdsandbox.LinkedUnit("ci-docker-prune.service", sbOneshot),
		{Name: "ci-docker-prune.timer", Content: sbCIPruneTimer, WantedBy: []string{"timers.target"}, Store: true},
	}
}

func TestCheckSandboxIncident(t *testing.T) {
	t.Parallel()
	repo, revA, revB := checkIncidentRepo(t)
	sb := sdsandbox.New(t, sdsandbox.Options{Layout: sdsandbox.NixOSLike, Units: sbIncidentHost()})
	bus := "--bus-address=" + sb.BusAddress()

	code, stdout, stderr := runCheckCLI(t, "--repo", repo.Dir, "--rev", revA, bus, "--format", "json")
	if code != exitFindings {
		t.Fatalf("revision A: exit %d, want %d; stderr %q\n%s", code, exitFindings, stderr, stdout)
	}
	r := decodeCheck(t, stdout)
	want := []string{
		"renamed docker-prune.service->ci-docker-prune.service",
		"renamed docker-prune.timer->ci-docker-prune.timer",
	}
	if diff := cmp.Diff(want, r.kinds()); diff != "" {
		t.Errorf("revision A findings (-want +got):\n%s", diff)
	}
	if len(r.Findings) == 2 {
		if h := r.Findings[1].Host; h.Load != "loaded" || h.Active != "active" || h.FileState != "enabled" {
			t.Errorf("ci-docker-prune.timer on the host: %+v, want loaded/active/enabled", h)
		}
	}

	code, stdout, stderr = runCheckCLI(t, "--repo", repo.Dir, "--rev", revB, bus, "--format", "json")
	if code != exitOK {
		t.Fatalf("revision B: exit %d, want 0; stderr %q\n%s", code, stderr, stdout)
	}
	if r := decodeCheck(t, stdout); r.Verdict != "in-sync" {
		t.Errorf("revision B: verdict %s, findings %v", r.Verdict, r.kinds())
	}

	// Issue 8: with --bus-address the host's provenance is not read, so the
	// pre-claim check cannot pass: incomplete, with a revision finding that
	// says why; with the host's nixos-version it passes.
	code, stdout, stderr = runCheckCLI(t, "--repo", repo.Dir, "--rev", revB, bus, "--format", "json", "--strict")
	r = decodeCheck(t, stdout)
	if code != exitIncomplete || r.Verdict != "incomplete" || len(r.Findings) != 1 || r.Findings[0].Kind != "revision" ||
		r.Findings[0].Severity != "incomplete" || !strings.Contains(r.Findings[0].Detail, "not read") {
		t.Errorf("revision B --strict over --bus-address: exit %d, verdict %s, findings %+v; want 3 and one incomplete revision finding; stderr %q",
			code, r.Verdict, r.Findings, stderr)
	}
	code, stdout, _ = runCheckCLI(t, "--repo", repo.Dir, "--rev", revB, bus, "--format", "json", "--strict", "--nixos-version", hostNixosVersion(t, revB))
	if r := decodeCheck(t, stdout); code != exitOK || r.Verdict != "in-sync" {
		t.Errorf("revision B --strict with the host's nixos-version: exit %d, verdict %s, findings %v", code, r.Verdict, r.kinds())
	}
}

// sbKindsModule declares one unit per finding kind; the sandbox below
// holds the host state that produces it.
const sbKindsModule = `{ ... }:
{
  systemd.services.present = { serviceConfig.Type = "oneshot"; };
  systemd.services.absent = { serviceConfig.Type = "oneshot"; };
  systemd.services.masked = { serviceConfig.Type = "oneshot"; };
  systemd.services.bad = { serviceConfig.Type = "oneshot"; };
  systemd.services.off = { enable = false; };
  systemd.services.reload = { wantedBy = [ "multi-user.target" ]; };
  systemd.services.cleanup = { serviceConfig.Type = "oneshot"; };

  systemd.timers.backup = {
    wantedBy = [ "timers.target" ];
    timerConfig.OnCalendar = "weekly";
  };
  systemd.timers.report = {
    wantedBy = [ "timers.target" ];
    timerConfig.OnCalendar = "Mon..Fri 04:00";
  };
  systemd.timers.unwanted = {
    wantedBy = [ "timers.target" ];
    timerConfig.OnCalendar = "daily";
  };
}
`

func TestCheckSandboxFindingKinds(t *testing.T) {
	t.Parallel()
	repo := gittest.New(t)
	repo.Commit("old", map[string]string{"nix/modules/host.nix": strings.Replace(sbKindsModule,
		"systemd.services.present", "systemd.services.retired = { serviceConfig.Type = \"oneshot\"; };\n  systemd.services.present", 1)})
	rev := repo.Commit("retire a unit", map[string]string{"nix/modules/host.nix": sbKindsModule})

	sb := sdsandbox.New(t, sdsandbox.Options{Layout: sdsandbox.NixOSLike, Units: []sdsandbox.Unit{
		sdsandbox.LinkedUnit("present.service", sbOneshot),
		sdsandbox.LinkedUnit("cleanup.service", sbOneshot),
		{Name: "masked.service", Masked: true},
		sdsandbox.LinkedUnit("bad.service", "[Service]\nExecStart=relative/path\n"),
		{Name: "off.service", Content: sbLongRunning, WantedBy: []string{"multi-user.target"}, Store: true},
		{Name: "reload.service", Content: sbLongRunning, WantedBy: []string{"multi-user.target"}, Store: true},
		{Name: "backup.timer", Content: "[Timer]\nOnCalendar=daily\n", WantedBy: []string{"timers.target"}, Store: true},
		sdsandbox.LinkedUnit("backup.service", sbOneshot),
		{Name: "report.timer", Content: "[Timer]\nOnCalendar=Mon,Tue,Wed,Thu,Fri *-*-* 4:00\n", WantedBy: []string{"timers.target"}, Store: true},
		sdsandbox.LinkedUnit("report.service", sbOneshot),
		sdsandbox.LinkedUnit("unwanted.timer", "[Timer]\nOnCalendar=daily\n"),
		sdsandbox.LinkedUnit("unwanted.service", sbOneshot),
		sdsandbox.LinkedUnit("retired.service", sbOneshot),
		sdsandbox.LinkedUnit("ci-extra.service", sbOneshot),
	}})
	// reload.service runs; a switch that re-points its unit file without
	// daemon-reload leaves NeedDaemonReload=yes.
	if err := sb.EditUnit("reload.service", sbLongRunning+"# changed\n"); err != nil {
		t.Fatal(err)
	}

	code, stdout, stderr := runCheckCLI(t, "--repo", repo.Dir, "--rev", rev, "--bus-address", sb.BusAddress(),
		"--scope", "ci-*", "--format", "json")
	if code != exitFindings {
		t.Fatalf("exit %d, want %d; stderr %q\n%s", code, exitFindings, stderr, stdout)
	}
	r := decodeCheck(t, stdout)
	want := []string{
		"missing absent.service",
		"missing masked.service",
		"stale retired.service",
		"undeclared ci-extra.service",
		"mismatch backup.timer",   // weekly declared, daily on the host
		"mismatch bad.service",    // bad-setting
		"mismatch off.service",    // enable = false, but running
		"mismatch reload.service", // NeedDaemonReload
		"mismatch unwanted.timer", // wantedBy timers.target, but linked and inactive
	}
	if diff := cmp.Diff(want, r.kinds()); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	byUnit := map[string]string{}
	for _, f := range r.Findings {
		byUnit[f.Unit] = f.Host.Load + "/" + f.Host.Active + "/" + f.Host.FileState + " " + f.Detail
	}
	for unit, wantIn := range map[string]string{
		"masked.service":  "masked/",
		"absent.service":  "not-found/",
		"bad.service":     "bad-setting",
		"backup.timer":    `"*-*-* 00:00:00" on the host, "weekly"`,
		"reload.service":  "NeedDaemonReload=yes",
		"unwanted.timer":  "linked (nothing wants it) and it is inactive",
		"off.service":     "loaded/active/enabled",
		"retired.service": "loaded/inactive/linked",
	} {
		if !strings.Contains(byUnit[unit], wantIn) {
			t.Errorf("%s: %q lacks %q", unit, byUnit[unit], wantIn)
		}
	}
}

func TestCheckSandboxUnreadableUnitIsIncomplete(t *testing.T) {
	t.Parallel()
	repo := gittest.New(t)
	rev := repo.Commit("template", map[string]string{"nix/modules/t.nix": `{ ... }:
{
  systemd.services."worker@" = { serviceConfig.Type = "oneshot"; };
  systemd.services.present = { serviceConfig.Type = "oneshot"; };
}
`})
	sb := sdsandbox.New(t, sdsandbox.Options{Layout: sdsandbox.NixOSLike, Units: []sdsandbox.Unit{
		sdsandbox.LinkedUnit("present.service", sbOneshot),
		sdsandbox.LinkedUnit("worker@.service", sbOneshot),
	}})
	code, stdout, stderr := runCheckCLI(t, "--repo", repo.Dir, "--rev", rev, "--bus-address", sb.BusAddress(), "--format", "json")
	if code != exitIncomplete {
		t.Fatalf("exit %d, want %d; stderr %q\n%s", code, exitIncomplete, stderr, stdout)
	}
	r := decodeCheck(t, stdout)
	if diff := cmp.Diff([]string{"unresolved worker@.service"}, r.kinds()); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

func TestCheckSandboxGone(t *testing.T) {
	t.Parallel()
	repo, _, revB := checkIncidentRepo(t)
	sb := sdsandbox.New(t, sdsandbox.Options{Layout: sdsandbox.NixOSLike, Units: sbIncidentHost()})
	bus := sb.BusAddress()
	if err := sb.Close(); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCheckCLI(t, "--repo", repo.Dir, "--rev", revB, "--bus-address", bus)
	if code != exitCannotRun || stdout != "" || strings.Count(stderr, "\n") != 1 {
		t.Errorf("exit %d stdout %q stderr %q; want 2, no report, one line", code, stdout, stderr)
	}
}

// TestCheckSandboxKilledMidRead kills systemd while the check reads it.
// 1,000 extra unit files make systemd's unit-file listing slow
// (systemd-sandbox-recipe.md §7), and the host is read last, so a kill
// halfway through a check usually lands mid-read. Whenever the kill comes
// before the check returns, the exit code must be 2 or 3, never 0. A kill
// that comes too late proves nothing, so the test retries with earlier
// kills and fails if none landed.
func TestCheckSandboxKilledMidRead(t *testing.T) {
	t.Parallel()
	repo, _, revB := checkIncidentRepo(t)
	units := sbIncidentHost()
	for i := 0; i < 1000; i++ {
		units = append(units, sdsandbox.LinkedUnit(fmt.Sprintf("filler-%04d.service", i), sbOneshot))
	}
	boot := func() *sdsandbox.Sandbox {
		return sdsandbox.New(t, sdsandbox.Options{Layout: sdsandbox.NixOSLike, Units: units, BootTimeout: time.Minute})
	}

	// The same check with systemd alive is in sync; its duration sets the
	// kill times.
	sb := boot()
	start := time.Now()
	code, stdout, stderr := runCheckCLI(t, "--repo", repo.Dir, "--rev", revB, "--bus-address", sb.BusAddress())
	alive := time.Since(start)
	if code != exitOK {
		t.Fatalf("alive: exit %d, want 0; stderr %q\n%s", code, stderr, stdout)
	}
	t.Logf("check against the live sandbox took %v", alive)

	type result struct {
		code           int
		stdout, stderr string
		returned       time.Time
	}
	for attempt, fraction := range []float64{0.5, 0.3, 0.15} {
		if attempt > 0 {
			sb = boot()
		}
		done := make(chan result, 1)
		began := time.Now()
		go func(bus string) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			var out, errOut strings.Builder
			c := run(ctx, []string{"check", "--repo", repo.Dir, "--rev", revB, "--bus-address", bus},
				streams{In: strings.NewReader(""), Out: &out, Err: &errOut})
			done <- result{c, out.String(), errOut.String(), time.Now()}
		}(sb.BusAddress())
		time.Sleep(time.Duration(float64(alive) * fraction))
		killedAt := time.Now()
		if err := syscall.Kill(sb.PID(), syscall.SIGKILL); err != nil {
			t.Fatalf("kill systemd: %v", err)
		}
		res := <-done
		if res.returned.Before(killedAt) {
			t.Logf("attempt %d: the check returned (exit %d) before the kill; retrying earlier", attempt, res.code)
			continue
		}
		// The bus read runs alongside the git side and may finish before
		// the kill while the check goes on: then the whole, in-sync
		// report of the live sandbox is the right answer. A read cut
		// short can never produce it (every lost call is an error).
		if res.code == exitOK && res.stdout == stdout {
			t.Logf("attempt %d: the bus read finished before the kill (exit 0, the alive report); retrying earlier", attempt)
			continue
		}
		if res.code != exitCannotRun && res.code != exitIncomplete {
			t.Fatalf("systemd killed mid-check: exit %d, want 2 or 3\nstdout %q\nstderr %q", res.code, res.stdout, res.stderr)
		}
		t.Logf("killed %v into the check: exit %d, stderr %q", killedAt.Sub(began), res.code, res.stderr)
		return
	}
	t.Fatal("no kill landed before the check returned")
}
