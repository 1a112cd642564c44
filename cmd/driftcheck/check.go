package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	"github.com/driftcheck/driftcheck/internal/drift"
)

// checkOptions are the check command's flags.
type checkOptions struct {
	repoOptions
	scope            []string
	liveSource       string // "dbus" or a snapshot file
	busAddress       string
	deploySource     string
	history          int
	nixosVersionPath string
	format           string
	strict           bool
	decl             declaredOptions
	metricsFile      string
}

func newCheckCmd(s streams) *cobra.Command {
	var o checkOptions
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Compare the units a revision declares with the units the host runs",
		Long: `check reads the NixOS modules at a git revision, extracts the systemd units they
declare, reads the host's units (over D-Bus, read-only, or from a snapshot
file) and reports every difference as a finding with its fix.

Exit codes: 0 in sync, 1 drift, 2 could not run, 3 incomplete (nothing wrong
in what could be read, but not everything could be read or compared).
With --strict (the pre-claim check), a dirty work tree, a deploy source that
differs from the revision, and a host built from another revision are drift
too; without it they are warnings.`,
		Example: `  driftcheck check --repo /etc/nixos --scope 'ci-*' --scope 'docker-*'
  driftcheck check --rev origin/main --live snapshot.json --format json
  driftcheck check --strict --deploy-source /srv/nixos-deploy`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCheck(cmd, s, o)
		},
	}
	f := cmd.Flags()
	o.addFlags(f)
	f.StringVar(&o.format, "format", "text", "output format: text or json")
	f.StringVar(&o.metricsFile, "metrics-file", "", "also write the verdict as Prometheus metrics to this node_exporter textfile (atomically; written even when the check cannot run)")
	return cmd
}

// addFlags registers the flags that say what a check compares; reconcile
// takes the same.
func (o *checkOptions) addFlags(f *pflag.FlagSet) {
	o.repoOptions.addFlags(f)
	o.addHostFlags(f, "the repository's only host, else the host named like this machine (hostname); a repository without hosts is read whole")
	f.StringArrayVar(&o.scope, "scope", nil, "live unit name glob whose undeclared units count as drift (repeatable; default: "+drift.ConfigFile+" at the revision, else the declared names only)")
	f.StringVar(&o.liveSource, "live", "dbus", `where the host's units come from: "dbus", or a snapshot file written by driftcheck snapshot`)
	f.StringVar(&o.busAddress, "bus-address", "", "D-Bus address of the system bus (default $DBUS_SYSTEM_BUS_ADDRESS, else the system bus)")
	f.StringVar(&o.deploySource, "deploy-source", "", "directory the host is built from, compared with the revision")
	f.IntVar(&o.history, "history", drift.DefaultHistory, "earlier commits that touched module files to search for stale units (0 = none)")
	f.StringVar(&o.nixosVersionPath, "nixos-version", "", "the host's nixos-version, for its configurationRevision (default /run/current-system/sw/bin/nixos-version, read only when checking this host's system bus)")
	f.BoolVar(&o.strict, "strict", false, "the pre-claim check: dirty, source-differs, revision and toplevel findings fail the check")
	o.decl.addFlags(f, true)
}

func runCheck(cmd *cobra.Command, s streams, o checkOptions) error {
	if o.format != "text" && o.format != "json" {
		return cannotRun(fmt.Errorf("check: --format %q: want text or json", o.format))
	}
	opts, err := o.driftOptions()
	if err != nil {
		return cannotRun(fmt.Errorf("check: %w", err))
	}
	started := time.Now()
	report, err := drift.Check(cmd.Context(), opts)
	if merr := writeCheckMetrics(o.metricsFile, report, started); err == nil && merr != nil {
		return cannotRun(fmt.Errorf("check: %w", merr))
	}
	if err != nil {
		return declaredFailure("check", err)
	}
	if o.format == "json" {
		err = report.WriteJSON(s.Out)
	} else {
		err = report.WriteText(s.Out, drift.TextStyle{Color: useColor(s.Out, os.Getenv)})
	}
	if err != nil {
		return cannotRun(fmt.Errorf("check: %w", err))
	}
	return withCode(report.ExitCode())
}

// driftOptions validates the check flags and turns them into the
// options of a check.
func (o checkOptions) driftOptions() (drift.Options, error) {
	opts, err := o.declaredSide()
	if err != nil {
		return drift.Options{}, err
	}
	if err := o.decl.validate(); err != nil {
		return drift.Options{}, err
	}
	if o.history < 0 {
		return drift.Options{}, fmt.Errorf("--history %d: want 0 or more", o.history)
	}
	if o.liveSource == "" {
		return drift.Options{}, errors.New(`--live: want "dbus" or a snapshot file`)
	}
	if o.liveSource != "dbus" && o.busAddress != "" {
		return drift.Options{}, errors.New("--bus-address and --live FILE exclude each other")
	}
	opts.Scope = o.scope // validated where it is used, like .driftcheck.json's
	opts.History = o.history
	opts.BusAddress = o.busAddress
	opts.DeploySource = o.deploySource
	opts.NixosVersionPath = o.nixosVersionPath
	opts.Strict = o.strict
	opts.Hostname = machineHostname()
	o.decl.apply(&opts)
	if o.liveSource != "dbus" {
		opts.LiveFile = o.liveSource
	}
	return opts, nil
}

// useColor: colour only on a terminal, and never when NO_COLOR is set
// (https://no-color.org: any non-empty value).
func useColor(w io.Writer, getenv func(string) string) bool {
	if getenv("NO_COLOR") != "" {
		return false
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
