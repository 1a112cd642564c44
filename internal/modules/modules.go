// Package modules is the declared side of driftcheck in one call: read the
// NixOS module files of a git revision, parse them, and extract the systemd
// units they declare. The units, check, lint and prune commands share it.
package modules

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/driftcheck/driftcheck/internal/declared"
	"github.com/driftcheck/driftcheck/internal/gitrev"
	"github.com/driftcheck/driftcheck/internal/nix/ast"
)

// ErrNoFiles means no file of the revision matches the module globs. It is
// an error, not an empty result: a mistyped glob must not read as "this
// revision declares no units".
var ErrNoFiles = errors.New("no module files")

// Options say where the modules are. Every field is required: the
// defaults ("." and HEAD, gitrev.DefaultModuleGlob) live with the
// command's flags.
type Options struct {
	Repo  string       // any directory inside the repository, or a bare repository
	Rev   string       // revision, as gitrev.Repo.Resolve accepts it
	Globs gitrev.Globs // module files (LoadHost reads a host's closure instead)
}

// Loaded is what one revision declares.
type Loaded struct {
	Repo     *gitrev.Repo
	Revision *gitrev.Revision
	Globs    gitrev.Globs
	Files    []gitrev.File
	Result   declared.Result
	// Host is the host read (LoadHost); "" when every matching file was.
	Host string
	// Hosts are the hosts the revision defines.
	Hosts []string
}

// Load opens the repository, resolves the revision and reads, parses and
// extracts its module files. Parse errors and unreadable files are part of
// the result (Result.Errors); the error is for what stops the whole
// reading: no repository, unknown revision, bad glob, corrupt objects,
// no matching file (ErrNoFiles).
func Load(ctx context.Context, o Options) (*Loaded, error) {
	repo, v, err := o.open(ctx)
	if err != nil {
		return nil, err
	}
	if len(o.Globs.Patterns()) == 0 {
		return nil, errors.New("no module globs given")
	}
	files, result, err := Read(ctx, v, o.Globs)
	if err != nil {
		return nil, err
	}
	return &Loaded{Repo: repo, Revision: v, Globs: o.Globs, Files: files, Result: result}, nil
}

// open opens the repository and resolves the revision.
func (o Options) open(ctx context.Context) (*gitrev.Repo, *gitrev.Revision, error) {
	if o.Repo == "" || o.Rev == "" {
		return nil, nil, errors.New("no repository or revision given")
	}
	repo, err := gitrev.Open(o.Repo)
	if err != nil {
		return nil, nil, err
	}
	v, err := repo.Resolve(ctx, o.Rev)
	if err != nil {
		return nil, nil, err
	}
	return repo, v, nil
}

// Read reads and extracts the module files of one revision, for instance
// one returned by gitrev.Repo.History.
func Read(ctx context.Context, v *gitrev.Revision, globs gitrev.Globs) ([]gitrev.File, declared.Result, error) {
	return read(ctx, v, globs, nil)
}

func read(ctx context.Context, v *gitrev.Revision, globs gitrev.Globs, cache *ParseCache) ([]gitrev.File, declared.Result, error) {
	parsed, err := readRevision(ctx, v, globs, cache)
	if err != nil {
		return nil, declared.Result{}, err
	}
	files := make([]gitrev.File, len(parsed))
	for i, p := range parsed {
		files[i] = p.File
	}
	return files, cache.extractParsed(parsed, true), nil
}

// readRevision reads and parses the files of v that match globs, and the
// files they import.
func readRevision(ctx context.Context, v *gitrev.Revision, globs gitrev.Globs, cache *ParseCache) ([]parsedFile, error) {
	entries, err := v.List(ctx, globs)
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("%w match %s at %.12s", ErrNoFiles, globs, v.SHA)
	}
	parsed, err := readParsed(ctx, v, entries, cache)
	if err != nil {
		return nil, err
	}
	return followImports(ctx, v, parsed, cache)
}

// parsedFile is a module file with its syntax tree and the files it
// imports; tree is nil when the file has a Problem or did not parse (err).
type parsedFile struct {
	gitrev.File
	tree    *ast.File
	err     error
	imports []importRef
}

// parseOne parses a file and lists its imports. It does no I/O.
func parseOne(f gitrev.File) parsedFile {
	p := parsedFile{File: f}
	if f.Problem == nil {
		p.tree, p.err = parseFile(f.Path, f.Data)
		p.imports = importsOf(f.Path, p.tree)
	}
	return p
}

// Extract parses the files and extracts their units. It does no I/O, so
// it follows no import: an import of a file not among files is reported
// unresolved (Read follows imports into the revision's tree first). A
// file that cannot be used (binary, too large, invalid UTF-8, a symbolic
// link) is reported in Errors with line 0, like a file that did not parse.
// The slices of the result are never nil, so they encode as JSON arrays.
func Extract(files []gitrev.File) declared.Result {
	return extract(files, nil)
}

func extract(files []gitrev.File, cache *ParseCache) declared.Result {
	return cache.extractParsed(parseAll(files, cache), true)
}

// extractParsed extracts units from parsed files. everyFile means the
// files are every file matching the globs, not one host's import closure
// (ReadHost): one file's settings then never drop or decide another's
// units (declared.ExtractEveryFile), and the literal imports of files not
// among them are unresolved; a host's closure follows imports itself and
// reports what it could not. A cache reuses what extracting the same
// files gave before, where the files they depend on are unchanged (see
// declared.ExtractReusing); a nil cache extracts every file.
func (c *ParseCache) extractParsed(files []parsedFile, everyFile bool) declared.Result {
	var sources []declared.SourceFile
	var problems []declared.ParseError
	for _, f := range files {
		switch {
		case f.Problem != nil:
			problems = append(problems, declared.ParseError{File: f.Path, Message: f.Problem.Error()})
			continue
		case f.err != nil:
			// The parser returns no tree with an error: the file's units
			// are unknown, and the error keeps the exit code at "did not
			// parse".
			problems = append(problems, parseErrors(f.Path, f.err)...)
		}
		sources = append(sources, declared.SourceFile{Path: f.Path, AST: f.tree})
	}
	res := c.extractSources(sources, files, everyFile)
	res.Errors = append(res.Errors, problems...)
	if unread := unreadImports(files); everyFile && len(unread) > 0 {
		res.Unresolved = append(res.Unresolved, unread...)
		sort.SliceStable(res.Unresolved, func(i, j int) bool {
			a, b := res.Unresolved[i], res.Unresolved[j]
			if a.File != b.File {
				return a.File < b.File
			}
			return a.Line < b.Line
		})
	}
	sort.SliceStable(res.Errors, func(i, j int) bool {
		a, b := res.Errors[i], res.Errors[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	if res.Units == nil {
		res.Units = []declared.Unit{}
	}
	if res.Unresolved == nil {
		res.Unresolved = []declared.Unresolved{}
	}
	if res.Errors == nil {
		res.Errors = []declared.ParseError{}
	}
	return res
}

// LoadHost is Load for one host: its import closure instead of the
// module globs.
func LoadHost(ctx context.Context, o Options, spec HostSpec) (*Loaded, error) {
	repo, v, err := o.open(ctx)
	if err != nil {
		return nil, err
	}
	h, err := NewParseCache().ReadHost(ctx, v, spec)
	if err != nil {
		return nil, err
	}
	return &Loaded{Repo: repo, Revision: v, Files: h.Files, Result: h.Result, Host: h.Host.Name, Hosts: h.Inventory.Names()}, nil
}
