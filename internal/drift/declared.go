package drift

import (
	"context"
	"errors"
	"fmt"

	"github.com/driftcheck/driftcheck/internal/declared"
	"github.com/driftcheck/driftcheck/internal/gitrev"
	"github.com/driftcheck/driftcheck/internal/modules"
)

// declared reads the units the revision declares. No module file matching
// the globs is an error (modules.ErrNoFiles): comparing nothing would read
// as "in sync".
func (c *checker) declared(ctx context.Context, rev *gitrev.Revision) (declared.Result, error) {
	_, res, err := c.parses.Read(ctx, rev, c.globs)
	if err != nil {
		return declared.Result{}, fmt.Errorf("read modules at %s: %w", rev.SHA, err)
	}
	return res, nil
}

// declaredLenient reads an earlier revision's units for the stale search;
// a revision without module files simply declares nothing.
func (c *checker) declaredLenient(ctx context.Context, rev *gitrev.Revision) (declared.Result, error) {
	_, res, err := c.parses.Read(ctx, rev, c.globs)
	if errors.Is(err, modules.ErrNoFiles) {
		return declared.Result{}, nil
	}
	if err != nil {
		return declared.Result{}, fmt.Errorf("read modules at %s: %w", rev.SHA, err)
	}
	return res, nil
}
