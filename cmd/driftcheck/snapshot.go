package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/driftcheck/driftcheck/internal/drift"
	"github.com/driftcheck/driftcheck/internal/live"
)

// snapshotOptions are the snapshot command's flags.
type snapshotOptions struct {
	busAddress string
	scope      []string
	units      []string
	root       string
	format     string
	repo       repoOptions
	decl       declaredOptions
	// fromRepo: --repo, --rev, --modules, --declared or --host was given, so the declared
	// units' names are read too.
	fromRepo bool
}

func newSnapshotCmd(s streams) *cobra.Command {
	var o snapshotOptions
	cmd := &cobra.Command{
		Use:   "snapshot",
		Short: "Write the host's systemd units, read over D-Bus, to a file for a later check",
		Long: `snapshot reads systemd units over D-Bus, read-only, and writes what it read:
the named units (--unit) whatever their state, and every unit systemd has
loaded or finds a file for that matches a scope glob (--scope), including
linked or disabled units nothing pulls in. For each: load, active and sub
state, the install state fresh from disk, preset, unit file and the store
path it links to, whether a daemon-reload is pending, and for timers the
normalized calendar specs.

The JSON form (schema driftcheck.snapshot/v1) can be checked later, on
another machine: driftcheck check --live FILE.

With --repo (and --rev, --modules, --scope as for check), it reads what a
check of that revision would read: the declared and formerly declared
units, the scope and the probes that find renamed units. Take the snapshot
that way for a later check of the file.

Exit codes: 0 every unit read, 2 could not run (bus unreachable or lost
mid-read, bad flag), 3 some unit could not be read (the snapshot is still
written and lists what could not be read).`,
		Example: `  driftcheck snapshot --scope '*docker-prune*' --unit docker-prune.timer > host.json
  driftcheck snapshot --bus-address unix:path=/run/dbus/system_bus_socket --scope 'ci-*' --format text`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f := cmd.Flags()
			o.fromRepo = f.Changed("repo") || f.Changed("rev") || f.Changed("modules") || f.Changed("declared") || f.Changed("host")
			return runSnapshot(cmd.Context(), s, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.busAddress, "bus-address", "", "D-Bus address of the system bus (default $DBUS_SYSTEM_BUS_ADDRESS, else the system bus)")
	f.StringArrayVar(&o.scope, "scope", nil, "unit name glob: read every unit that matches, loaded or only on disk (repeatable)")
	f.StringArrayVar(&o.units, "unit", nil, "exact unit name to read whatever its state (repeatable)")
	f.StringVar(&o.root, "root", "", "file system the unit file paths are resolved in to find store paths (default /; /proc/PID/root for a container)")
	f.StringVar(&o.format, "format", "json", "output format: json or text")
	o.repo.addFlags(f)
	o.repo.addHostFlags(f, "the repository's only host, else the host named like this machine (hostname); a repository without hosts is read whole")
	o.decl.addFlags(f, false)
	// Unlike for check, the repository is optional here: without these
	// flags no declared names are read.
	repo := f.Lookup("repo")
	repo.Usage = "also read every system unit the modules of this git repository declare at --rev (default: none; \".\" when only --rev or --modules is given)"
	repo.DefValue = ""
	return cmd
}

func (o snapshotOptions) validate() error {
	if o.format != "json" && o.format != "text" {
		return fmt.Errorf("snapshot: --format %q: want json or text", o.format)
	}
	if err := o.decl.validate(); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	if len(o.units) == 0 && len(o.scope) == 0 && !o.fromRepo {
		return errors.New("snapshot: nothing to read: give --unit NAME, --scope GLOB or --repo DIR")
	}
	if o.fromRepo {
		if err := o.repo.validate(); err != nil {
			return fmt.Errorf("snapshot: %w", err)
		}
	}
	for _, name := range o.units {
		if err := live.CheckUnitName(name); err != nil {
			return fmt.Errorf("snapshot: --unit %q: %w", name, err)
		}
	}
	if err := drift.ValidateScope(o.scope); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	return nil
}

func runSnapshot(ctx context.Context, s streams, o snapshotOptions) error {
	if err := o.validate(); err != nil {
		return cannotRun(err)
	}
	query, err := o.query(ctx)
	if err != nil {
		return err
	}
	snap, err := drift.ReadHost(ctx, o.busAddress, query)
	if err != nil {
		return cannotRun(fmt.Errorf("snapshot: %w", err))
	}
	if o.busAddress == "" {
		// Without an explicit bus the snapshot is of this host.
		snap.Host, _ = os.Hostname()
	}
	if o.format == "json" {
		err = snap.WriteJSON(s.Out)
	} else {
		err = snap.WriteText(s.Out)
	}
	if err != nil {
		return cannotRun(fmt.Errorf("snapshot: write: %w", err))
	}
	if len(snap.Errors) > 0 {
		return withCode(exitIncomplete)
	}
	return nil
}

// query is --unit and --scope plus, with --repo, exactly what a check of
// that revision asks systemd for (declared and formerly declared names,
// the scope of .driftcheck.json when no --scope is given, rename probes),
// so a check of the snapshot file sees renames and stale units too.
func (o snapshotOptions) query(ctx context.Context) (live.Query, error) {
	q := live.Query{Names: append([]string(nil), o.units...), ScopeGlobs: o.scope, Root: o.root}
	if !o.fromRepo {
		return q, nil
	}
	opts, err := o.repo.declaredSide()
	if err != nil {
		return live.Query{}, cannotRun(fmt.Errorf("snapshot: %w", err))
	}
	// What a check with the default --history would read.
	opts.Scope, opts.History, opts.Hostname = o.scope, drift.DefaultHistory, machineHostname()
	o.decl.apply(&opts)
	checkQuery, err := drift.Query(ctx, opts)
	if err != nil {
		return live.Query{}, declaredFailure("snapshot", err)
	}
	q.Names = append(q.Names, checkQuery.Names...)
	q.ScopeGlobs = checkQuery.ScopeGlobs
	return q, nil
}
