package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/driftcheck/driftcheck/internal/gitrev"
	"github.com/driftcheck/driftcheck/internal/hosts"
	"github.com/driftcheck/driftcheck/internal/hosts/revfs"
)

// hostsOptions are the hosts command's flags.
type hostsOptions struct {
	repo    string
	rev     string
	entries []string
	format  string
	files   bool
}

func newHostsCmd(s streams) *cobra.Command {
	var o hostsOptions
	cmd := &cobra.Command{
		Use:   "hosts",
		Short: "List the hosts a repository defines, with each host's import closure",
		Long: `hosts lists the NixOS hosts that the repository defines at a git revision:
the flake's nixosConfigurations (written out, built by helpers, generated with
mapAttrs/genAttrs/listToAttrs over lists or directories, through flake-parts),
colmena nodes, clan machines, or a configuration.nix at the root; --entry
names the entry modules of a host that none of these defines. For each host
it shows how it was found, its entry modules, its import closure (the module
files of the repository its configuration reads), the modules from outside
the repository (flake inputs), and what could not be followed, with why.
Nothing is evaluated by Nix: the definitions are read from git objects.

Exit codes: 0 every host found and followed, 2 could not run, 3 something
could not be followed (see the report). See docs/hosts.md.`,
		Example: `  driftcheck hosts
  driftcheck hosts --repo /etc/nixos --rev origin/main --format json
  driftcheck hosts --files`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runHosts(cmd.Context(), s, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.repo, "repo", ".", "git repository: a work tree, any directory inside it, or a bare repository")
	f.StringVar(&o.rev, "rev", "HEAD", "revision to read: branch, tag, remote-tracking ref (origin/main) or sha")
	f.StringArrayVar(&o.entries, "entry", nil, "entry module of the one host to read, relative to the repository root (repeatable)")
	f.StringVar(&o.format, "format", "text", "output format: text or json")
	f.BoolVar(&o.files, "files", false, "text: list every host's files and external modules")
	return cmd
}

func runHosts(ctx context.Context, s streams, o hostsOptions) error {
	if o.format != "text" && o.format != "json" {
		return cannotRun(fmt.Errorf("hosts: --format must be text or json, not %q", o.format))
	}
	inv, rev, err := discoverHosts(ctx, o.repo, o.rev, hosts.Options{Entries: o.entries})
	if err != nil {
		return cannotRun(fmt.Errorf("hosts: %w", err))
	}
	r := hosts.Report{Rev: rev.SHA, Inventory: inv, Files: o.files}
	if o.format == "json" {
		err = r.WriteJSON(s.Out)
	} else {
		err = r.WriteText(s.Out)
	}
	if err != nil {
		return cannotRun(err)
	}
	if !inv.Complete() {
		return withCode(exitIncomplete)
	}
	return nil
}

// discoverHosts opens the repository, resolves the revision and finds
// its hosts.
func discoverHosts(ctx context.Context, repoDir, rev string, o hosts.Options) (*hosts.Inventory, *gitrev.Revision, error) {
	repo, err := gitrev.Open(repoDir)
	if err != nil {
		return nil, nil, err
	}
	v, err := repo.Resolve(ctx, rev)
	if err != nil {
		return nil, nil, err
	}
	inv, _, err := revfs.Discover(ctx, v, o)
	if err != nil {
		return nil, nil, err
	}
	return inv, v, nil
}
