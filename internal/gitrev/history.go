package gitrev

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// History returns up to n commits that changed the files matching globs,
// newest first, starting at from (included when it changed them). It
// follows first parents only, like git log --first-parent: on a merge
// commit the change it brings relative to its first parent counts, the
// commits of merged side branches are not visited. A commit "changed" the
// files when the set of matching paths or any of their contents differs
// from its first parent; for a root commit, when it has any matching file.
func (r *Repo) History(ctx context.Context, from *Revision, globs Globs, n int) ([]*Revision, error) {
	if n <= 0 {
		return nil, nil
	}
	var out []*Revision
	c := from.commit
	cache := subtreeCache{}
	cur, err := r.snapshot(ctx, c, globs, cache)
	if err != nil {
		return nil, err
	}
	for c != nil && len(out) < n {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		parent, err := firstParent(c)
		if err != nil {
			return nil, fmt.Errorf("history of %s: %w", from.SHA, err)
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

// IsAncestor reports whether commit ancestor is reachable from commit
// descendant (a commit is its own ancestor, as in git merge-base
// --is-ancestor). Both are revisions as Resolve accepts them.
func (r *Repo) IsAncestor(ctx context.Context, ancestor, descendant string) (bool, error) {
	a, err := r.Resolve(ctx, ancestor)
	if err != nil {
		return false, err
	}
	d, err := r.Resolve(ctx, descendant)
	if err != nil {
		return false, err
	}
	found := false
	err = object.NewCommitPreorderIter(d.commit, nil, nil).ForEach(func(c *object.Commit) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if c.Hash == a.commit.Hash {
			found = true
			return storer.ErrStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, storer.ErrStop) {
		return false, fmt.Errorf("walk history of %s: %w", d.SHA, err)
	}
	return found, nil
}
