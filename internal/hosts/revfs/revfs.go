// Package revfs reads a git revision's tree for host discovery: the I/O
// edge of internal/hosts. The tree is listed once; files are read on
// demand.
package revfs

import (
	"context"
	"fmt"

	"github.com/driftcheck/driftcheck/internal/gitrev"
	"github.com/driftcheck/driftcheck/internal/hosts"
)

// Tree is one revision's files.
type Tree struct {
	ctx     context.Context
	rev     *gitrev.Revision
	entries map[string]gitrev.Entry
}

// New lists the revision's files. ctx bounds the listing and every later
// read.
func New(ctx context.Context, v *gitrev.Revision) (*Tree, error) {
	all, err := gitrev.ParseGlobs([]string{"**"})
	if err != nil {
		return nil, err
	}
	entries, err := v.List(ctx, all)
	if err != nil {
		return nil, err
	}
	t := &Tree{ctx: ctx, rev: v, entries: make(map[string]gitrev.Entry, len(entries))}
	for _, e := range entries {
		t.entries[e.Path] = e
	}
	return t, nil
}

// FS is the tree as host discovery reads it.
func (t *Tree) FS() hosts.FS {
	files := make(map[string]string, len(t.entries))
	for p, e := range t.entries {
		files[p] = "regular"
		if e.IsSymlink() {
			files[p] = "symlink"
		}
	}
	return hosts.TreeFS{Files: files, Read: t.read}
}

func (t *Tree) read(name string) ([]byte, error) {
	if err := t.ctx.Err(); err != nil {
		return nil, err
	}
	f, err := t.rev.Read(t.entries[name])
	if err != nil {
		return nil, err
	}
	if f.Problem != nil {
		return nil, fmt.Errorf("%s: %w", name, f.Problem)
	}
	return f.Data, nil
}

// Files reads the given files (a host's import closure) as gitrev.Files,
// with their blob hashes for parse caches. A path that is not in the tree
// is an error: the closure was computed from this tree.
func (t *Tree) Files(paths []string) ([]gitrev.File, error) {
	out := make([]gitrev.File, 0, len(paths))
	for _, p := range paths {
		if err := t.ctx.Err(); err != nil {
			return nil, err
		}
		e, ok := t.entries[p]
		if !ok {
			return nil, fmt.Errorf("%s is not in %.12s", p, t.rev.SHA)
		}
		f, err := t.rev.Read(e)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// Discover lists the revision's tree and finds its hosts.
func Discover(ctx context.Context, v *gitrev.Revision, o hosts.Options) (*hosts.Inventory, *Tree, error) {
	t, err := New(ctx, v)
	if err != nil {
		return nil, nil, fmt.Errorf("list files of %.12s: %w", v.SHA, err)
	}
	return hosts.Discover(t.FS(), o), t, nil
}
