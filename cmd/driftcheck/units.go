package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/driftcheck/driftcheck/internal/declared"
	"github.com/driftcheck/driftcheck/internal/drift"
	"github.com/driftcheck/driftcheck/internal/modules"
)

// unitsOptions are the units command's flags.
type unitsOptions struct {
	repo   repoOptions
	decl   declaredOptions
	format string
}

func newUnitsCmd(s streams) *cobra.Command {
	var o unitsOptions
	cmd := &cobra.Command{
		Use:   "units",
		Short: "List the systemd units that the modules at a git revision declare",
		Long: `units lists the systemd units that the NixOS modules committed at a git
revision declare, with the file and line of each declaration. The modules
are read from git objects, never from the work tree, and read statically:
nothing is evaluated. Declarations that cannot be read statically (unit
names computed by mapAttrs', for instance) are listed as unresolved.

Exit codes: 0 every file parsed and nothing is unresolved, 1 a module file
did not parse, 2 could not run (also when no file matches --modules),
3 something is unresolved. See docs/units.md.`,
		Example: `  driftcheck units
  driftcheck units --repo /etc/nixos --rev origin/main --format json
  driftcheck units --modules 'hosts/**/*.nix' --modules 'modules/**/*.nix'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runUnits(cmd.Context(), s, o)
		},
	}
	o.repo.addFlags(cmd.Flags())
	o.repo.addHostFlags(cmd.Flags(), "none: every file matching --modules")
	o.decl.addFlags(cmd.Flags(), false)
	cmd.Flags().StringVar(&o.format, "format", "text", "output format: text or json")
	return cmd
}

func runUnits(ctx context.Context, s streams, o unitsOptions) error {
	if o.format != "text" && o.format != "json" {
		return cannotRun(fmt.Errorf("units: --format must be text or json, not %q", o.format))
	}
	if err := o.decl.validate(); err != nil {
		return cannotRun(fmt.Errorf("units: %w", err))
	}
	var report modules.UnitsReport
	if o.decl.evaluates() {
		r, err := o.evaluated(ctx)
		if err != nil {
			return err
		}
		report = r
	} else {
		loaded, err := o.repo.load(ctx)
		if err != nil {
			return err
		}
		report = modules.NewUnitsReport(loaded)
	}
	var err error
	if o.format == "json" {
		err = report.WriteJSON(s.Out)
	} else {
		err = report.WriteText(s.Out)
	}
	if err != nil {
		return cannotRun(err)
	}
	return withCode(unitsExitCode(report.Result))
}

// evaluated reads the units with Nix (--declared eval or both).
func (o unitsOptions) evaluated(ctx context.Context) (modules.UnitsReport, error) {
	opts, err := o.repo.declaredSide()
	if err != nil {
		return modules.UnitsReport{}, cannotRun(fmt.Errorf("units: %w", err))
	}
	o.decl.apply(&opts)
	d, err := drift.Declared(ctx, opts)
	if err != nil {
		return modules.UnitsReport{}, declaredFailure("units", err)
	}
	return modules.UnitsReport{Rev: d.Rev, Result: d.Result, Evaluated: d.Source, Fidelity: d.Fidelity}, nil
}

// unitsExitCode ranks a file that did not parse above an unresolved
// declaration: the first means part of the revision was not read at all.
func unitsExitCode(r declared.Result) int {
	switch {
	case len(r.Errors) > 0:
		return exitFindings
	case len(r.Unresolved) > 0:
		return exitIncomplete
	}
	return exitOK
}
