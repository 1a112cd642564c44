package modules

import (
	"context"

	"github.com/driftcheck/driftcheck/internal/declared"
	"github.com/driftcheck/driftcheck/internal/gitrev"
	"github.com/driftcheck/driftcheck/internal/nix/ast"
)

// ParseCache keeps the syntax tree of every module file it has parsed, by
// path and blob hash, so that reading several revisions of one repository
// parses each distinct file once: the stale search of a check reads 20
// earlier revisions, and neighbouring revisions usually differ in one
// file. Extraction still runs per revision, since it reads option
// declarations and definitions across files.
//
// The key includes the path because the tree and its parse errors name
// the file. The trees are shared between revisions; declared.Extract only
// reads them. A ParseCache belongs to one caller (it is not safe for
// concurrent use) and lives as long as that caller keeps it; a nil
// *ParseCache parses every file every time.
type ParseCache struct {
	trees  map[parseKey]parsed
	parsed int // files parsed
	reused int // files served from the cache
}

type parseKey struct {
	hash gitrev.Hash
	path string
}

type parsed struct {
	ast *ast.File
	err error
}

// NewParseCache returns an empty cache.
func NewParseCache() *ParseCache {
	return &ParseCache{trees: map[parseKey]parsed{}}
}

// Stats returns how many files the cache parsed and how many it served
// without parsing. A nil cache counts nothing.
func (c *ParseCache) Stats() (parsedFiles, reused int) {
	if c == nil {
		return 0, 0
	}
	return c.parsed, c.reused
}

// Read is the package's Read, parsing through the cache.
func (c *ParseCache) Read(ctx context.Context, v *gitrev.Revision, globs gitrev.Globs) ([]gitrev.File, declared.Result, error) {
	return read(ctx, v, globs, c)
}

// Extract is the package's Extract, parsing through the cache.
func (c *ParseCache) Extract(files []gitrev.File) declared.Result {
	return extract(files, c)
}

// parse parses f, or returns the tree and error of the same path and blob
// parsed before. A file without a blob hash (not read from git) is parsed
// and not kept.
func (c *ParseCache) parse(f gitrev.File) (*ast.File, error) {
	if c == nil || f.Hash.IsZero() {
		return parseFile(f.Path, f.Data)
	}
	k := parseKey{hash: f.Hash, path: f.Path}
	if p, ok := c.trees[k]; ok {
		c.reused++
		return p.ast, p.err
	}
	tree, err := parseFile(f.Path, f.Data)
	c.trees[k] = parsed{ast: tree, err: err}
	c.parsed++
	return tree, err
}
