// Command driftcheck-demo replays the incident driftcheck was written for,
// on this machine, with real components: it builds the example repository
// (examples/incident) in a temporary directory, boots a throwaway systemd
// seeded with the host's units, and runs the driftcheck binary against the
// commit before the incident (drift, prune blocked) and the reconciling
// commit (in sync). Where no sandbox can boot (not root, no namespaces) it
// says why and checks the recorded snapshot of the same host instead.
//
//	go run ./cmd/driftcheck-demo [-driftcheck bin/driftcheck] [-keep]
//
// It exits 0 when every step ended with the exit code the story expects.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/driftcheck/driftcheck/examples/incident"
	"github.com/driftcheck/driftcheck/internal/sdsandbox"
	"github.com/driftcheck/driftcheck/internal/termsafe"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	driftcheck string // binary; "" = build one
	keep       bool   // keep the temporary directory
	record     string // write a snapshot of the sandbox here
	noSandbox  bool   // skip the sandbox even as root
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("driftcheck-demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.driftcheck, "driftcheck", "", "driftcheck binary to run (default: build ./cmd/driftcheck with go)")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory with the example repository")
	fs.StringVar(&o.record, "record-snapshot", "", "write a snapshot of the sandbox host to this file (maintainers: examples/incident/host/snapshot.json)")
	fs.BoolVar(&o.noSandbox, "no-sandbox", false, "use the recorded snapshot even where a sandbox could boot")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	d := &demo{out: stdout, opts: o}
	if err := d.run(ctx); err != nil {
		fmt.Fprintf(stderr, "driftcheck-demo: %s\n", termsafe.String(err.Error()))
		return 2
	}
	if d.unexpected > 0 {
		fmt.Fprintf(stdout, "\n%d step(s) ended with an unexpected exit code.\n", d.unexpected)
		return 1
	}
	fmt.Fprintln(stdout, "\nEvery step ended as expected.")
	return 0
}

type demo struct {
	out        io.Writer
	opts       options
	dir        string
	bin        string
	repo       *incident.Repo
	rootFS     string // the sandbox's file system, where its unit symlinks resolve
	storeDir   string // the sandbox's fake Nix store, as a host path
	unexpected int
}

func (d *demo) run(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "driftcheck-demo-")
	if err != nil {
		return fmt.Errorf("create work directory: %w", err)
	}
	d.dir = dir
	if d.opts.keep {
		fmt.Fprintf(d.out, "Keeping %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	if err := d.prepare(ctx); err != nil {
		return err
	}
	d.section("1. The repository, checked in CI without a host (driftcheck lint)")
	d.step(ctx, []int{1}, "lint", "--repo", d.repo.Dir, "--rev", incident.TagIncident)
	d.step(ctx, []int{0}, "lint", "--repo", d.repo.Dir, "--rev", incident.TagReconciled)

	bus, closeSandbox, why := d.startSandbox(ctx)
	if bus == "" {
		return d.recorded(ctx, why)
	}
	defer closeSandbox()
	return d.live(ctx, bus)
}

// prepare builds driftcheck (unless given) and the example repository.
func (d *demo) prepare(ctx context.Context) error {
	gitPath, err := exec.LookPath("git")
	if err != nil {
		return errors.New("git not found on PATH: apt-get install -y git")
	}
	d.bin = d.opts.driftcheck
	if d.bin == "" {
		d.bin = filepath.Join(d.dir, "driftcheck")
		fmt.Fprintln(d.out, "Building driftcheck …")
		buildCtx, cancel := context.WithTimeout(ctx, 10*time.Minute) // a cold module cache on 2 cores
		build := exec.CommandContext(buildCtx, "go", "build", "-o", d.bin, "github.com/driftcheck/driftcheck/cmd/driftcheck")
		build.Stdout, build.Stderr = d.out, d.out
		err := build.Run()
		cancel()
		if err != nil {
			return fmt.Errorf("go build ./cmd/driftcheck (run inside the repository, or pass -driftcheck): %w", err)
		}
	}
	repo, err := incident.BuildRepo(ctx, gitPath, filepath.Join(d.dir, "ci-host"))
	if err != nil {
		return err
	}
	d.repo = repo
	fmt.Fprintf(d.out, "Example repository %s\n  %.12s %s  declares docker-prune.{service,timer}\n  %.12s %s  declares ci-docker-prune.{service,timer}\n",
		repo.Dir, repo.Incident, incident.TagIncident, repo.Reconciled, incident.TagReconciled)
	return nil
}

// startSandbox boots systemd with the example host's units. It returns the
// bus address, or "" and the reason no sandbox could boot.
func (d *demo) startSandbox(ctx context.Context) (bus string, closeFn func(), why string) {
	if d.opts.noSandbox {
		return "", nil, "-no-sandbox was given"
	}
	if os.Geteuid() != 0 {
		return "", nil, "not root: a systemd sandbox needs mount, PID and cgroup namespaces (run as root: sudo make demo)"
	}
	units, err := incident.HostUnits()
	if err != nil {
		return "", nil, err.Error()
	}
	var sbUnits []sdsandbox.Unit
	for _, u := range units {
		sbUnits = append(sbUnits, sdsandbox.Unit{Name: u.Name, Content: u.Content, WantedBy: u.WantedBy, Store: true})
	}
	d.section("2. The host: a throwaway systemd seeded with the units the host runs")
	bootCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	sb, err := sdsandbox.Start(bootCtx, sdsandbox.Options{Units: sbUnits, Layout: sdsandbox.NixOSLike})
	if err != nil {
		return "", nil, fmt.Sprintf("the sandbox did not boot: %v (needs the Debian packages systemd, dbus, util-linux: apt-get install -y systemd dbus util-linux)", err)
	}
	d.rootFS, d.storeDir = sb.RootFS(), sb.StoreDir()
	fmt.Fprintf(d.out, "systemd is PID %d in its own namespaces; bus %s\n", sb.PID(), sb.BusAddress())
	out, err := sb.Systemctl(ctx, "list-unit-files", "--no-legend", "ci-docker-prune.*", "docker-prune.*")
	if err == nil {
		fmt.Fprint(d.out, indent(string(out)))
	}
	return sb.BusAddress(), func() {
		if err := sb.Close(); err != nil {
			fmt.Fprintf(d.out, "close sandbox: %v\n", err)
		}
	}, ""
}

// live runs the check and the gated prune against the sandbox.
func (d *demo) live(ctx context.Context, bus string) error {
	state := filepath.Join(d.dir, "prune-state")
	if d.opts.record != "" {
		if err := d.recordSnapshot(ctx, bus); err != nil {
			return err
		}
	}
	// The strict drift gate verifies which revision the host was built
	// from; over --bus-address it cannot ask the sandbox, so the sandbox
	// host's nixos-version is given: after the fix, it runs the reconciled
	// revision.
	nixosVersion := filepath.Join(d.dir, "nixos-version")
	script := fmt.Sprintf("#!/bin/sh\necho '{\"nixosVersion\":\"25.11\",\"configurationRevision\":\"%s\"}'\n", d.repo.Reconciled)
	if err := os.WriteFile(nixosVersion, []byte(script), 0o755); err != nil {
		return fmt.Errorf("write the sandbox host's nixos-version: %w", err)
	}
	d.section("3. Before the fix: git declares docker-prune, the host runs ci-docker-prune")
	d.step(ctx, []int{1}, "check", "--repo", d.repo.Dir, "--rev", incident.TagIncident, "--bus-address", bus)
	d.step(ctx, []int{1}, "prune", "--dry-run", "--repo", d.repo.Dir, "--rev", incident.TagIncident,
		"--bus-address", bus, "--nixos-version", nixosVersion, "--state-dir", state)

	d.section("4. After the fix: the reconciling commit declares what the host runs")
	d.step(ctx, []int{0}, "check", "--repo", d.repo.Dir, "--rev", incident.TagReconciled, "--bus-address", bus)
	fmt.Fprintln(d.out, "The drift gate opens; what follows depends on Docker on this machine: exit 0 (pruned, nothing to do,\n"+
		"or skipped below the threshold), or exit 2 when no Docker daemon answers (scripts/ensure-dockerd starts one).")
	d.step(ctx, []int{0, 2}, "prune", "--dry-run", "--repo", d.repo.Dir, "--rev", incident.TagReconciled,
		"--bus-address", bus, "--nixos-version", nixosVersion, "--state-dir", state)
	d.reconcile(ctx, "--bus-address", bus)
	return nil
}

// reconcile ends the demo: the plan that adopts the host into git, the
// branch --apply writes, a check of that branch against the same host, and
// the other way out, the commands that put git back on the host.
func (d *demo) reconcile(ctx context.Context, hostArgs ...string) {
	d.section("5. Reconcile: make the commit that ends the drift (driftcheck reconcile)")
	at := func(args ...string) []string {
		return append(append([]string{"reconcile", "--repo", d.repo.Dir, "--rev", incident.TagIncident}, hostArgs...), args...)
	}
	d.step(ctx, []int{1}, at()...)
	d.step(ctx, []int{1}, at("--format", "patch")...)
	d.step(ctx, []int{1}, at("--apply")...)
	branch := "driftcheck/reconcile-" + d.repo.Incident[:12]
	d.step(ctx, []int{0}, append([]string{"check", "--repo", d.repo.Dir, "--rev", branch}, hostArgs...)...)
	fmt.Fprintln(d.out, "\nOr the other way out: rebuild the host from git (driftcheck prints the commands, never runs them).")
	d.step(ctx, []int{1}, at("--to", "host", "--host", "ci-host")...)
}

// recorded runs the check against the recorded snapshot of the same host.
func (d *demo) recorded(ctx context.Context, why string) error {
	d.section("2. The host: recorded snapshot (no sandbox)")
	fmt.Fprintf(d.out, "No systemd sandbox: %s.\nChecking against the recorded snapshot of the same host instead.\n", why)
	data, err := incident.Snapshot()
	if err != nil {
		return err
	}
	snap := filepath.Join(d.dir, "snapshot.json")
	if err := os.WriteFile(snap, data, 0o644); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	d.section("3. Before the fix: git declares docker-prune, the host runs ci-docker-prune")
	d.step(ctx, []int{1}, "check", "--repo", d.repo.Dir, "--rev", incident.TagIncident, "--live", snap)
	fmt.Fprintln(d.out, "(driftcheck prune reads the host over D-Bus only, so it is not run against a snapshot.)")
	d.section("4. After the fix: the reconciling commit declares what the host runs")
	d.step(ctx, []int{0}, "check", "--repo", d.repo.Dir, "--rev", incident.TagReconciled, "--live", snap)
	d.reconcile(ctx, "--live", snap)
	return nil
}

func (d *demo) recordSnapshot(ctx context.Context, bus string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, d.bin, "snapshot", "--bus-address", bus, "--root", d.rootFS,
		"--scope", "ci-*", "--scope", "docker-prune*")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("driftcheck snapshot: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	// The sandbox's store lives under a temporary host directory; record
	// the paths as they read on a NixOS host.
	out = bytes.ReplaceAll(out, []byte(d.storeDir), []byte("/nix/store"))
	if err := os.WriteFile(d.opts.record, out, 0o644); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	fmt.Fprintf(d.out, "Recorded the sandbox host in %s\n", d.opts.record)
	return nil
}

func (d *demo) section(title string) {
	fmt.Fprintf(d.out, "\n== %s\n", title)
}

// step runs driftcheck with args, shows the command and its output, and
// counts an exit code outside want as unexpected.
func (d *demo) step(ctx context.Context, want []int, args ...string) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	fmt.Fprintf(d.out, "\n$ driftcheck %s\n", strings.Join(quoteAll(args), " "))
	cmd := exec.CommandContext(ctx, d.bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	code := 0
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			fmt.Fprintf(d.out, "could not run driftcheck: %v\n", err)
			d.unexpected++
			return
		}
		code = exit.ExitCode()
	}
	fmt.Fprint(d.out, indent(out.String()))
	verdict := "as expected"
	if !contains(want, code) {
		verdict = fmt.Sprintf("UNEXPECTED, want %v", want)
		d.unexpected++
	}
	fmt.Fprintf(d.out, "→ exit %d (%s)\n", code, verdict)
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

func quoteAll(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " *?'\"$") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out[i] = a
	}
	return out
}

// indent indents output by two spaces, escaping each line for the
// terminal: unit names and repository paths come from outside.
func indent(s string) string {
	if s == "" {
		return ""
	}
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = "  " + termsafe.String(l)
	}
	return strings.Join(lines, "\n") + "\n"
}
