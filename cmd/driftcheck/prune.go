package main

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/spf13/cobra"

	"github.com/driftcheck/driftcheck/internal/drift"
	"github.com/driftcheck/driftcheck/internal/prune"
	"github.com/driftcheck/driftcheck/internal/prune/dockerinv"
)

// pruneOptions are the prune command's flags.
type pruneOptions struct {
	repoOptions
	scope        []string
	busAddress   string
	nixosVersion string
	noDriftGate  bool
	dockerHost   string
	threshold    float64
	busyPattern  string
	until        time.Duration
	lock         string
	stateDir     string
	metricsFile  string
	dryRun       bool
	format       string
	decl         declaredOptions
}

func newPruneCmd(s streams) *cobra.Command {
	o := pruneOptions{}
	cmd := &cobra.Command{
		Use:   "prune",
		Short: "Prune Docker under disk pressure, only while git and host agree",
		Long: `prune deletes exited containers, untagged unreferenced images and unused build
cache, oldest first by --until, and only when every gate is open: the drift
check is in sync (strict), the Docker root's filesystem is at or above
--threshold (bytes or inodes), no CI run is live, no swarm service is
converging, and no lock is held. It never prunes tagged or digest-only
images, volumes or networks, and never escalates. See docs/prune.md.

Exit: 0 pruned, nothing to do, or skipped for a normal reason; 1 blocked by
the drift gate; 2 error; 4 still at or above the threshold afterwards.`,
		Example: `  driftcheck prune --repo /etc/nixos --lock /run/lock/ci-deploy.lock --metrics-file /var/lib/node-exporter/driftcheck_prune.prom
  driftcheck prune --dry-run --format json --threshold 0 --until 0s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPrune(cmd.Context(), s, o)
		},
	}
	f := cmd.Flags()
	o.addFlags(f)
	o.addHostFlags(f, "the repository's only host, else the host named like this machine (hostname); a repository without hosts is read whole")
	f.StringArrayVar(&o.scope, "scope", nil, "live unit name glob for the drift gate (repeatable; default as for check)")
	f.StringVar(&o.busAddress, "bus-address", "", "D-Bus address of the system bus")
	f.StringVar(&o.nixosVersion, "nixos-version", "", "the host's nixos-version, for its configurationRevision, as for check (the strict gate needs it with --bus-address)")
	f.BoolVar(&o.noDriftGate, "no-drift-gate", false, "prune without checking that git and host agree (loud warning)")
	f.StringVar(&o.dockerHost, "docker-host", "", "Docker daemon URL (default: DOCKER_HOST or the local socket)")
	f.Float64Var(&o.threshold, "threshold", 80, "prune only at or above this usage percent (bytes or inodes)")
	f.StringVar(&o.busyPattern, "busy-pattern", prune.DefaultBusyPattern, "regexp of CI run stack namespaces and names")
	f.DurationVar(&o.until, "until", 24*time.Hour, "minimum age: containers since exit, images since first seen unused, cache since last use")
	f.StringVar(&o.lock, "lock", "", "deploy lock file (flock); held by another process = skip")
	f.StringVar(&o.stateDir, "state-dir", "/var/lib/driftcheck", "directory for the prune state file and lock")
	f.StringVar(&o.metricsFile, "metrics-file", "", "write Prometheus textfile-collector metrics here")
	f.BoolVar(&o.dryRun, "dry-run", false, "print what a real run would delete, delete nothing")
	f.StringVar(&o.format, "format", "text", "output format: text or json")
	o.decl.addFlags(f, true)
	return cmd
}

func (o pruneOptions) validate() (*regexp.Regexp, error) {
	if err := o.repoOptions.validate(); err != nil {
		return nil, fmt.Errorf("prune: %w", err)
	}
	if err := drift.ValidateScope(o.scope); err != nil {
		return nil, fmt.Errorf("prune: %w", err)
	}
	if err := o.decl.validate(); err != nil {
		return nil, fmt.Errorf("prune: %w", err)
	}
	if o.format != "text" && o.format != "json" {
		return nil, fmt.Errorf("prune: --format %q: want text or json", o.format)
	}
	// Written so that NaN fails too: every comparison with NaN is false,
	// and a NaN threshold would keep the pressure gate closed forever.
	if !(o.threshold >= 0 && o.threshold <= 100) {
		return nil, fmt.Errorf("prune: --threshold %g: want a percentage from 0 to 100", o.threshold)
	}
	if o.until < 0 {
		return nil, fmt.Errorf("prune: --until %s: must not be negative", o.until)
	}
	if o.stateDir == "" {
		return nil, errors.New("prune: --state-dir must not be empty")
	}
	busy, err := regexp.Compile(o.busyPattern)
	if err != nil {
		return nil, fmt.Errorf("prune: --busy-pattern: %w", err)
	}
	return busy, nil
}

func runPrune(ctx context.Context, s streams, o pruneOptions) error {
	busy, err := o.validate()
	if err != nil {
		return cannotRun(err)
	}
	report, runErr := prune.Run(ctx, prune.Options{
		Policy:      prune.Policy{Until: o.until, ThresholdPct: o.threshold, BusyPattern: busy},
		DryRun:      o.dryRun,
		NoDriftGate: o.noDriftGate,
		Drift:       prune.DriftGateOf(o.driftCheck),
		Connect: func(ctx context.Context) (prune.Engine, error) {
			return dockerinv.Dial(ctx, o.dockerHost, dockerinv.DefaultCallTimeout)
		},
		DeployLock: o.lock,
		StateDir:   o.stateDir,
	})
	if o.format == "json" {
		err = report.WriteJSON(s.Out)
	} else {
		err = report.WriteText(s.Out)
	}
	if err != nil {
		return cannotRun(fmt.Errorf("prune: write report: %w", err))
	}
	if o.metricsFile != "" {
		if err := prune.WriteMetrics(o.metricsFile, report); err != nil {
			return cannotRun(fmt.Errorf("prune: %w", err))
		}
	}
	if runErr != nil {
		return &exitError{Code: exitCannotRun, Err: fmt.Errorf("prune: %w", runErr)}
	}
	return withCode(report.ExitCode())
}

// driftCheckTimeout bounds the in-process drift check (git, bus, parser).
const driftCheckTimeout = 2 * time.Minute

// driftCheck runs the strict in-process drift check the gate needs: a
// dirty work tree, a host built from another copy or another revision
// block as much as drift does.
func (o pruneOptions) driftCheck(ctx context.Context) (*drift.Report, error) {
	timeout := driftCheckTimeout
	if o.decl.evaluates() {
		timeout += o.decl.EvalTimeout // the evaluation has its own bound
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	opts, err := o.declaredSide()
	if err != nil {
		return nil, err // validated before the run
	}
	opts.Scope = o.scope
	opts.History = drift.DefaultHistory // what a check reads by default
	opts.BusAddress = o.busAddress
	opts.NixosVersionPath = o.nixosVersion
	opts.Strict = true
	opts.Hostname = machineHostname()
	o.decl.apply(&opts)
	return drift.Check(ctx, opts)
}
