package drift

import (
	"context"
	"fmt"

	"github.com/driftcheck/driftcheck/internal/declared"
	"github.com/driftcheck/driftcheck/internal/gitrev"
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
