package main

import (
	"context"
	"fmt"
	"path"
	"slices"

	"github.com/spf13/cobra"

	"github.com/driftcheck/driftcheck/internal/lint"
	"github.com/driftcheck/driftcheck/internal/modules"
)

// lintOptions are the lint command's flags.
type lintOptions struct {
	repo        repoOptions
	docs        []string
	excludeDocs []string
	format      string
}

func newLintCmd(s streams) *cobra.Command {
	var o lintOptions
	cmd := &cobra.Command{
		Use:   "lint",
		Short: "Git-only checks for CI: parse errors, unresolved or conflicting units, name collisions, stale docs",
		Long: `lint checks a revision without a host, for a CI job on push. It reads the NixOS
modules and the Markdown documentation at the revision (never the work tree)
and reports:

  parse-error              a module file does not parse
  unresolved               a declaration the static reader cannot resolve
  conflicting-declaration  a unit set differently in two places
  nixos-collision          a unit named like one NixOS defines itself
                           (docker-prune while Docker is enabled)
  doc-undeclared-unit      documentation names a unit the revision does not declare

Documentation can opt out where it names units on purpose: the marker
<!-- driftcheck-lint: ignore --> (this or the next line or code block),
<!-- driftcheck-lint: off --> … <!-- driftcheck-lint: on -->,
<!-- driftcheck-lint: ignore-file -->, --exclude-docs, or lint.ignore_docs
and lint.known_units in .driftcheck.json at the revision. See docs/lint.md.

Exit codes: 0 clean, 1 findings, 2 could not run.`,
		Example: `  driftcheck lint
  driftcheck lint --rev origin/main --modules 'hosts/**/*.nix' --format sarif > driftcheck.sarif`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLint(cmd, s, o)
		},
	}
	f := cmd.Flags()
	o.repo.addFlags(f)
	o.repo.addHostFlags(f, "every host the repository defines, each checked on its own")
	f.StringArrayVar(&o.docs, "docs", nil, "documentation glob (repeatable; default "+lint.DefaultDocGlob+")")
	f.StringArrayVar(&o.excludeDocs, "exclude-docs", nil, "documentation glob the doc check skips (repeatable)")
	f.StringVar(&o.format, "format", "text", "output format: text, json or sarif")
	return cmd
}

func runLint(cmd *cobra.Command, s streams, o lintOptions) error {
	switch o.format {
	case "text", "json", "sarif":
	default:
		return cannotRun(fmt.Errorf("lint: --format %q: want text, json or sarif", o.format))
	}
	loaded, err := o.repo.load(cmd.Context())
	if err != nil {
		return err
	}
	docs, cfg, err := lint.ReadDocs(cmd.Context(), loaded.Revision, lint.DocOptions{Docs: o.docs, ExcludeDocs: o.excludeDocs})
	if err != nil {
		return cannotRun(fmt.Errorf("lint: %w", err))
	}
	in := lint.Input{Declared: loaded.Result, Docs: docs, Config: cfg}
	if in.Hosts, err = o.lintHosts(cmd.Context(), loaded); err != nil {
		return cannotRun(fmt.Errorf("lint: %w", err))
	}
	rev := loaded.Revision.SHA
	report := lint.Report{Rev: rev, Findings: lint.Run(in)}
	switch o.format {
	case "json":
		err = report.WriteJSON(s.Out)
	case "sarif":
		err = report.WriteSARIF(s.Out, version(), "")
	default:
		err = report.WriteText(s.Out)
	}
	if err != nil {
		return cannotRun(fmt.Errorf("lint: %w", err))
	}
	if len(report.Findings) > 0 {
		return withCode(exitFindings)
	}
	if o.format == "text" {
		fmt.Fprintf(s.Out, "no findings at %.12s\n", rev)
	}
	return nil
}

// lintHosts is each host's own reading: the one --host names (which load
// read), else every host of the repository; none with --all-files.
func (o lintOptions) lintHosts(ctx context.Context, loaded *modules.Loaded) ([]lint.Host, error) {
	if o.repo.AllFiles {
		return nil, nil
	}
	reads, err := modules.NewParseCache().ReadHosts(ctx, loaded.Revision)
	if err != nil {
		return nil, err
	}
	out := make([]lint.Host, 0, len(reads))
	for _, r := range reads {
		if loaded.Host != "" && r.Host.Name != loaded.Host {
			continue
		}
		out = append(out, lint.Host{Name: r.Host.Name, Dirs: entryDirs(r.Host.EntryFiles()), Declared: r.Result})
	}
	return out, nil
}

// entryDirs are the directories of a host's entry files: documents under
// them are about the host.
func entryDirs(files []string) []string {
	var out []string
	for _, f := range files {
		if d := path.Dir(f); d != "." && !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}
