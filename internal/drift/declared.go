package drift

import (
	"context"
	"errors"
	"fmt"

	"github.com/driftcheck/driftcheck/internal/declared"
	"github.com/driftcheck/driftcheck/internal/gitrev"
	"github.com/driftcheck/driftcheck/internal/modules"
	"github.com/driftcheck/driftcheck/internal/repoconfig"
)

// declared reads the units the revision declares. No module file matching
// the globs is an error (modules.ErrNoFiles): comparing nothing would read
// as "in sync".
func (c *checker) declared(ctx context.Context, rev *gitrev.Revision) (declared.Result, error) {
	if c.host != nil {
		h, err := c.parses.ReadHost(ctx, rev, *c.host)
		if err != nil {
			return declared.Result{}, err
		}
		return h.Result, nil
	}
	_, res, err := c.parses.Read(ctx, rev, c.globs)
	if err != nil {
		return declared.Result{}, fmt.Errorf("read modules at %s: %w", rev.SHA, err)
	}
	return res, nil
}

// hostHistory reads the host's units at each earlier revision, for the
// stale search: each revision's own closure of the host; a revision that
// did not define the host declared nothing for it.
func (c *checker) hostHistory(ctx context.Context, revs []*gitrev.Revision) ([]declared.Result, error) {
	out := make([]declared.Result, len(revs))
	for i, rev := range revs {
		h, err := c.parses.ReadHost(ctx, rev, *c.host)
		if errors.Is(err, modules.ErrNoHost) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read host %s at %s: %w", c.host.Name, rev.SHA, err)
		}
		out[i] = h.Result
	}
	return out, nil
}

// anyNix is what a host's closure may be made of: the history walk and
// the dirty check look at every Nix file when a host is read.
var anyNix = []string{"**/*.nix"}

// selectHost decides whose declared side is read: --host or --entry; else
// the repository's only host, or the host named like this machine; a
// repository without hosts (a module library) is read whole, as is any
// repository with --all-files. A repository with several hosts, none
// named like this machine, is an error naming them: guessing would
// compare this machine with another's units.
func (c *checker) selectHost(ctx context.Context) error {
	o := c.opts
	if o.AllFiles {
		return nil
	}
	spec := modules.HostSpec{Name: o.Host, Entries: o.Entries}
	if spec.Name == "" && len(spec.Entries) == 0 {
		cfg, _, err := repoconfig.Read(ctx, c.rev)
		if err != nil {
			return err
		}
		if cfg.Host != "" {
			spec.Name = cfg.Host
			c.note("host: %s, from %s", spec.Name, repoconfig.File)
		}
	}
	if len(spec.Entries) == 0 {
		inv, err := modules.Hosts(ctx, c.rev)
		if err != nil {
			return err
		}
		switch {
		case len(inv.Hosts) == 0 && spec.Name != "":
			// A module library has no hosts: --host (which the NixOS
			// module passes by default) names the machine, and every
			// matching file is what it runs.
			c.note("host: %s; the repository defines no hosts, so every file matching --modules is read", spec.Name)
			return nil
		case len(inv.Hosts) == 0:
			return nil
		case spec.Name != "":
		case len(inv.Hosts) == 1:
			spec.Name = inv.Hosts[0].Name
			c.note("host: %s, the repository's only host", spec.Name)
		default:
			if _, ok := inv.Host(o.Hostname); !ok || o.Hostname == "" {
				return fmt.Errorf("%w; this machine (%q) is none of them: pass --host NAME, or --all-files to read every matched file",
					modules.NoHostError(o.Hostname, inv), o.Hostname)
			}
			spec.Name = o.Hostname
			c.note("host: %s (this machine's hostname)", spec.Name)
		}
	}
	h, err := c.parses.ReadHost(ctx, c.rev, spec)
	if err != nil {
		return err
	}
	spec.Name = h.Host.Name
	c.host = &spec
	if entries := h.Host.EntryFiles(); len(entries) > 0 {
		c.hostEntry = entries[0]
	}
	globs, err := gitrev.ParseGlobs(anyNix)
	if err != nil {
		return err
	}
	c.globs = globs
	return nil
}
