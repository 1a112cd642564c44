package modules

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/driftcheck/driftcheck/internal/declared"
	"github.com/driftcheck/driftcheck/internal/gitrev"
)

// readParsed reads the entries of a revision, then parses them on all
// cores (GOMAXPROCS), in the entries' order. Reading stays on this
// goroutine (the repository is not safe for concurrent use); it is a small
// part of the time, and handing files over one by one as they are read
// costs more in wake-ups than the overlap saves. A file the cache holds is
// neither read nor parsed again.
func readParsed(ctx context.Context, v *gitrev.Revision, entries []gitrev.Entry, cache *ParseCache) ([]parsedFile, error) {
	out := make([]parsedFile, len(entries))
	var todo []int // indexes of the files to parse
	for i, e := range entries {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if p, ok := cache.lookup(e); ok {
			out[i] = p
			continue
		}
		f, err := v.Read(e)
		if err != nil {
			return nil, err
		}
		out[i].File = f
		todo = append(todo, i)
	}
	parallel(len(todo), func(k int) {
		i := todo[k]
		out[i] = cache.parse(out[i].File, entries[i].IsSymlink())
	})
	return out, nil
}

// parseAll parses files already in memory on all cores, in their order.
func parseAll(files []gitrev.File, cache *ParseCache) []parsedFile {
	out := make([]parsedFile, len(files))
	parallel(len(files), func(i int) { out[i] = cache.parse(files[i], false) })
	return out
}

// parallel calls do(i) for every i in [0, n) on GOMAXPROCS goroutines.
func parallel(n int, do func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := range n {
			do(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				do(i)
			}
		})
	}
	wg.Wait()
}

// ReadHistory reads and extracts the module files of several revisions,
// such as those gitrev.Repo.History returns, for the stale search: a
// revision without module files declares nothing (an empty Result, not
// ErrNoFiles). Reading runs on the calling goroutine, through the cache;
// the extraction of each revision, which needs all of its files, runs on
// all cores as soon as the revision is read. Results are in the order of
// revs.
func (c *ParseCache) ReadHistory(ctx context.Context, revs []*gitrev.Revision, globs gitrev.Globs) ([]declared.Result, error) {
	out := make([]declared.Result, len(revs))
	type job struct {
		i      int
		parsed []parsedFile
	}
	jobs := make(chan job, len(revs))
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(revs)) {
		wg.Go(func() {
			for j := range jobs {
				out[j.i] = c.extractParsed(j.parsed, true)
			}
		})
	}
	var err error
	for i, v := range revs {
		var parsed []parsedFile
		parsed, err = readRevision(ctx, v, globs, c)
		if errors.Is(err, ErrNoFiles) {
			err = nil
			continue
		}
		if err != nil {
			err = fmt.Errorf("read modules at %s: %w", v.SHA, err)
			break
		}
		jobs <- job{i, parsed}
	}
	close(jobs)
	wg.Wait()
	if err != nil {
		return nil, err
	}
	return out, nil
}
