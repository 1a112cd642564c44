package modules

import (
	"context"
	"sync"

	"github.com/driftcheck/driftcheck/internal/declared"
	"github.com/driftcheck/driftcheck/internal/gitrev"
	"github.com/driftcheck/driftcheck/internal/nix/ast"
)

// ParseCache keeps every module file it has read and parsed, with its
// syntax tree and imports, by path and blob hash, so that reading several
// revisions of one repository reads and parses each distinct file once:
// the stale search of a check reads 20 earlier revisions, and
// neighbouring revisions usually differ in one file. It also keeps what
// extracting each file gave (declared.FileResult) and offers it to the
// next revision with the same tree: declared.ExtractReusing reuses it
// where the option reads it depended on give the same values there, so
// the result is always what extracting afresh gives.
//
// The key includes the path because the tree and its parse errors name
// the file. The trees are shared between revisions; declared.Extract only
// reads them. A ParseCache is safe for concurrent use and lives as long as
// its owner keeps it; a nil *ParseCache parses every file every time.
type ParseCache struct {
	mu     sync.Mutex
	files  map[parseKey]parsedFile
	parsed int // files parsed
	reused int // files served from the cache
	// extracted holds, by syntax tree, what extracting each file gave
	// last, for the next revision that has the same tree (trees are
	// shared by blob, so a tree stands for its path and blob).
	extracted      map[extractKey]*declared.FileResult
	extractReused  int // files whose extraction was reused
	extractedFresh int // files extracted
}

type extractKey struct {
	tree      *ast.File
	everyFile bool
}

type parseKey struct {
	hash    gitrev.Hash
	path    string
	symlink bool // the same blob as a link is a problem, not a module
}

// NewParseCache returns an empty cache.
func NewParseCache() *ParseCache {
	return &ParseCache{files: map[parseKey]parsedFile{}, extracted: map[extractKey]*declared.FileResult{}}
}

// Stats returns how many files the cache parsed and how many it served
// without parsing. A nil cache counts nothing.
func (c *ParseCache) Stats() (parsedFiles, reused int) {
	if c == nil {
		return 0, 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.parsed, c.reused
}

// ExtractStats returns how many files the cache's extractions read and
// how many they reused from an earlier revision.
func (c *ParseCache) ExtractStats() (extracted, reused int) {
	if c == nil {
		return 0, 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.extractedFresh, c.extractReused
}

// extractSources extracts the sources of files (in the order of files,
// skipping those not read), reusing and keeping per-file results of
// files read from git. A nil cache extracts every file.
func (c *ParseCache) extractSources(sources []declared.SourceFile, files []parsedFile, everyFile bool) declared.Result {
	if c == nil {
		if everyFile {
			return declared.ExtractEveryFile(sources)
		}
		return declared.Extract(sources)
	}
	earlier := make([]*declared.FileResult, len(sources))
	c.mu.Lock()
	for i, s := range sources {
		if s.AST != nil {
			earlier[i] = c.extracted[extractKey{s.AST, everyFile}]
		}
	}
	c.mu.Unlock()
	res, now := declared.ExtractReusing(sources, everyFile, earlier)
	kept := map[*ast.File]bool{}
	for _, f := range files {
		if !f.Hash.IsZero() && f.tree != nil {
			kept[f.tree] = true
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, r := range now {
		switch {
		case r == nil:
			if sources[i].AST != nil {
				c.extractedFresh++ // extracted, not to be reused
			}
		case r == earlier[i]:
			c.extractReused++
		default:
			c.extractedFresh++
			if kept[sources[i].AST] {
				c.extracted[extractKey{sources[i].AST, everyFile}] = r
			}
		}
	}
	return res
}

// Read is the package's Read, reading and parsing through the cache.
func (c *ParseCache) Read(ctx context.Context, v *gitrev.Revision, globs gitrev.Globs) ([]gitrev.File, declared.Result, error) {
	return read(ctx, v, globs, c)
}

// Extract is the package's Extract, parsing through the cache.
func (c *ParseCache) Extract(files []gitrev.File) declared.Result {
	return extract(files, c)
}

// lookup returns the file of a tree entry read and parsed before.
func (c *ParseCache) lookup(e gitrev.Entry) (parsedFile, bool) {
	if c == nil {
		return parsedFile{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.files[parseKey{hash: e.Hash, path: e.Path, symlink: e.IsSymlink()}]
	if ok {
		c.reused++
	}
	return p, ok
}

// parse parses f, or returns what parsing the same path and blob gave
// before. A file without a blob hash (not read from git) is parsed and
// not kept.
func (c *ParseCache) parse(f gitrev.File, symlink bool) parsedFile {
	if c == nil || f.Hash.IsZero() {
		return parseOne(f)
	}
	k := parseKey{hash: f.Hash, path: f.Path, symlink: symlink}
	c.mu.Lock()
	p, ok := c.files[k]
	if ok {
		c.reused++
	}
	c.mu.Unlock()
	if ok {
		return p
	}
	p = parseOne(f)
	c.mu.Lock()
	c.files[k] = p
	c.parsed++
	c.mu.Unlock()
	return p
}
