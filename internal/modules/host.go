package modules

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/driftcheck/driftcheck/internal/declared"
	"github.com/driftcheck/driftcheck/internal/gitrev"
	"github.com/driftcheck/driftcheck/internal/hosts"
	"github.com/driftcheck/driftcheck/internal/hosts/revfs"
)

// ErrNoHost means the host asked for is not one the repository defines.
var ErrNoHost = errors.New("no such host")

// ErrNoHostsAtAll means the repository defines no host (a module library);
// it wraps ErrNoHost.
var ErrNoHostsAtAll = fmt.Errorf("%w: the repository defines no host", ErrNoHost)

// HostSpec says which host to read: Name among the hosts the revision
// defines, or the host made of Entries (--entry).
type HostSpec struct {
	Name    string
	Entries []string
}

// HostRead is one host's declared side at a revision.
type HostRead struct {
	Inventory *hosts.Inventory
	Host      *hosts.Host
	Files     []gitrev.File
	Result    declared.Result
}

// Hosts lists the hosts a revision defines, by name: their import
// closures are not followed (ReadHost does that for the one host read).
func Hosts(ctx context.Context, v *gitrev.Revision) (*hosts.Inventory, error) {
	inv, _, err := revfs.Discover(ctx, v, hosts.Options{NamesOnly: true})
	return inv, err
}

// ReadHost reads one host's import closure at a revision and extracts its
// units: only the closure counts, so no other host's module declares,
// drops or decides anything. What the closure could not follow is
// unresolved (the result is incomplete), except modules from outside the
// repository. A host the revision does not define is ErrNoHost, naming
// the hosts it does define.
func (c *ParseCache) ReadHost(ctx context.Context, v *gitrev.Revision, spec HostSpec) (*HostRead, error) {
	inv, tree, err := revfs.Discover(ctx, v, hosts.Options{Entries: spec.Entries, EntryHost: spec.Name})
	if err != nil {
		return nil, err
	}
	h, ok := inv.Host(spec.Name)
	if !ok && len(spec.Entries) > 0 && len(inv.Hosts) == 1 {
		h, ok = &inv.Hosts[0], true
	}
	if !ok {
		return nil, NoHostError(spec.Name, inv)
	}
	return c.readHost(inv, tree, h)
}

// ReadHosts reads every host the revision defines (lint checks each).
func (c *ParseCache) ReadHosts(ctx context.Context, v *gitrev.Revision) ([]*HostRead, error) {
	inv, tree, err := revfs.Discover(ctx, v, hosts.Options{})
	if err != nil {
		return nil, err
	}
	out := make([]*HostRead, 0, len(inv.Hosts))
	for i := range inv.Hosts {
		r, err := c.readHost(inv, tree, &inv.Hosts[i])
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func (c *ParseCache) readHost(inv *hosts.Inventory, tree *revfs.Tree, h *hosts.Host) (*HostRead, error) {
	files, err := tree.Files(h.Files)
	if err != nil {
		return nil, fmt.Errorf("read the files of host %s: %w", h.Name, err)
	}
	res := c.extractParsed(parseAll(files, c), false)
	for _, p := range h.Unfollowed {
		file, line := splitAt(p.At)
		res.Unresolved = append(res.Unresolved, declared.Unresolved{File: file, Line: line,
			Reason: "host " + h.Name + ": not followed: " + p.Reason})
	}
	sort.SliceStable(res.Unresolved, func(i, j int) bool {
		a, b := res.Unresolved[i], res.Unresolved[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	return &HostRead{Inventory: inv, Host: h, Files: files, Result: res}, nil
}

// NoHostError says that name is not a host of the inventory, naming those
// it has.
func NoHostError(name string, inv *hosts.Inventory) error {
	if len(inv.Hosts) == 0 {
		return fmt.Errorf("%w (no nixosConfigurations, colmena, clan or configuration.nix) for %q: read every file without --host, or name entry modules with --entry", ErrNoHostsAtAll, name)
	}
	return fmt.Errorf("%w %q: the repository defines %s", ErrNoHost, name, strings.Join(inv.Names(), ", "))
}

// splitAt splits "file:line" (a Problem's At).
func splitAt(at string) (string, int) {
	i := strings.LastIndexByte(at, ':')
	if i < 0 {
		return at, 0
	}
	var line int
	if _, err := fmt.Sscanf(at[i+1:], "%d", &line); err != nil {
		return at, 0
	}
	return at[:i], line
}
