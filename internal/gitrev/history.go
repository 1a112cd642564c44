package gitrev

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// History returns up to n commits that changed the files matching globs,
// newest first, starting at from (included when it changed them). It
// follows first parents only, like git log --first-parent: on a merge
// commit the change it brings relative to its first parent counts, the
// commits of merged side branches are not visited. A commit "changed" the
// files when the set of matching paths or any of their contents differs
// from its first parent; for a root commit, when it has any matching file.
//
// In a shallow clone the walk stops at the boundary: the boundary commit
// counts like a root commit and is the last one returned, with
// ShallowBoundary set, so that a caller can say the history was cut.
func (r *Repo) History(ctx context.Context, from *Revision, globs Globs, n int) ([]*Revision, error) {
	if n <= 0 {
		return nil, nil
	}
	var out []*Revision
	c := from.commit
	cache := r.listCache(globs)
	cur, err := r.snapshot(ctx, c, globs, cache)
	if err != nil {
		return nil, err
	}
	for c != nil && len(out) < n {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var parent *object.Commit
		if !r.shallow[c.Hash] {
			if parent, err = firstParent(c); err != nil {
				return nil, fmt.Errorf("history of %s: %w", from.SHA, err)
			}
		}
		var prev map[string]Hash
		if parent != nil {
			if prev, err = r.snapshot(ctx, parent, globs, cache); err != nil {
				return nil, err
			}
		}
		if !sameSnapshot(cur, prev) {
			out = append(out, r.revision(c))
		}
		c, cur = parent, prev
	}
	return out, nil
}

func firstParent(c *object.Commit) (*object.Commit, error) {
	if c.NumParents() == 0 {
		return nil, nil
	}
	p, err := c.Parent(0)
	if err != nil {
		return nil, fmt.Errorf("read parent of %s: %w", c.Hash, err)
	}
	return p, nil
}

// snapshot maps each matching path of c's tree to its blob hash.
func (r *Repo) snapshot(ctx context.Context, c *object.Commit, globs Globs, cache subtreeCache) (map[string]Hash, error) {
	entries, err := r.revision(c).list(ctx, globs, cache)
	if err != nil {
		return nil, err
	}
	m := make(map[string]Hash, len(entries))
	for _, e := range entries {
		m[e.Path] = e.Hash
	}
	return m, nil
}

func sameSnapshot(a, b map[string]Hash) bool {
	if len(a) != len(b) {
		return false
	}
	for p, h := range a {
		if bh, ok := b[p]; !ok || bh != h {
			return false
		}
	}
	return true
}

// ErrShallow means an answer needs history that a shallow clone left out.
var ErrShallow = errors.New("history cut by a shallow clone")

// IsAncestor reports whether commit ancestor is reachable from commit
// descendant (a commit is its own ancestor, as in git merge-base
// --is-ancestor). Both are revisions as Resolve accepts them. When the
// ancestor is not found and the walk met a shallow clone's boundary, the
// answer is unknown: an ErrShallow.
func (r *Repo) IsAncestor(ctx context.Context, ancestor, descendant string) (bool, error) {
	a, err := r.Resolve(ctx, ancestor)
	if err != nil {
		return false, err
	}
	d, err := r.Resolve(ctx, descendant)
	if err != nil {
		return false, err
	}
	seen := map[plumbing.Hash]bool{}
	todo := []plumbing.Hash{d.commit.Hash}
	cut := false
	for len(todo) > 0 {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		h := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if seen[h] {
			continue
		}
		seen[h] = true
		if h == a.commit.Hash {
			return true, nil
		}
		if r.shallow[h] {
			cut = true
			continue
		}
		c, err := r.git.CommitObject(h)
		if err != nil {
			return false, fmt.Errorf("walk history of %s: read commit %s: %w", d.SHA, h, err)
		}
		todo = append(todo, c.ParentHashes...)
	}
	if cut {
		return false, fmt.Errorf("is %.12s an ancestor of %.12s: %w", a.SHA, d.SHA, ErrShallow)
	}
	return false, nil
}
