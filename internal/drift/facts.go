package drift

import (
	"context"
	"fmt"

	"github.com/driftcheck/driftcheck/internal/gitrev"
	"github.com/driftcheck/driftcheck/internal/unitdiff"
)

// Facts are the inputs and the result of one check. driftcheck reconcile
// plans from them, and compares a planned tree with the same host state
// (Input with other declared units) before it proposes or commits it.
type Facts struct {
	Input    unitdiff.Input // everything the comparison read
	Report   *Report        // the check's result
	Repo     *gitrev.Repo
	Revision *gitrev.Revision
	Globs    gitrev.Globs
	Files    []gitrev.File // the module files at the revision
	// LocalHost is set when the live side is this machine's system bus,
	// so that files the host's units name can be read here.
	LocalHost bool
}

// Gather runs a check and keeps its inputs. Errors are Check's. The
// caller closes Facts.Repo.
func Gather(ctx context.Context, opts Options) (*Facts, error) {
	c, err := newChecker(ctx, opts)
	if err != nil {
		return nil, err
	}
	in, err := c.facts(ctx)
	if err != nil {
		c.repo.Close()
		return nil, err
	}
	files, _, err := c.parses.Read(ctx, c.rev, c.globs)
	if err != nil {
		c.repo.Close()
		return nil, fmt.Errorf("read modules at %s: %w", c.rev.SHA, err)
	}
	return &Facts{
		Input: in, Report: c.report(in), Repo: c.repo, Revision: c.rev, Globs: c.globs, Files: files,
		LocalHost: opts.LiveFile == "" && opts.BusAddress == "",
	}, nil
}
