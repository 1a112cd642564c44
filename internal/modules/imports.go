package modules

import (
	"context"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/driftcheck/driftcheck/internal/declared"
	"github.com/driftcheck/driftcheck/internal/gitrev"
	"github.com/driftcheck/driftcheck/internal/nix/ast"
	"github.com/driftcheck/driftcheck/internal/nix/token"
)

// A module file can pull units in from a file the module globs do not
// match: `import ../other/real.nix` as the whole module, or
// `imports = [ ../../other/x.nix ]`. Such files are read from the
// revision's tree too and extracted like the others; an import that cannot
// be followed (not in the revision, outside the repository, a computed
// path) is reported unresolved, so that the result is incomplete rather
// than silently smaller. This is the one-step reading of literal imports;
// it is not the per-host import closure.

// maxImportRounds bounds how deep imports of imports are followed.
const maxImportRounds = 16

// importRef is one import site in a module file.
type importRef struct {
	from    string // the importing file
	line    int
	lit     string // the path as written, for messages
	target  string // the repository path it names; "" when it cannot be followed
	problem string // why it cannot be followed, when target is ""
}

// importsOf lists the files f imports by path: every `import PATH` and
// every path in an `imports` list. Imports of <search paths> and of values
// (flake inputs, variables) name no file of the repository and are left
// to the extractor, which reports what it cannot read of them.
func importsOf(file string, f *ast.File) []importRef {
	if f == nil || f.Expr == nil {
		return nil
	}
	var refs []importRef
	add := func(e ast.Expr) {
		if r, ok := importTarget(file, f.Lines, e); ok {
			refs = append(refs, r)
		}
	}
	ast.Inspect(f.Expr, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Call:
			if isImport(n.Fun) && len(n.Args) > 0 {
				add(n.Args[0])
			}
		case *ast.Attr:
			if last, ok := n.Path[len(n.Path)-1].(*ast.Ident); ok && last.Name == "imports" {
				for _, e := range importListElems(n.Value) {
					add(e)
				}
			}
		}
		return true
	})
	return refs
}

// isImport reports `import` and `builtins.import`.
func isImport(fun ast.Expr) bool {
	switch f := ast.Unparen(fun).(type) {
	case *ast.Ident:
		return f.Name == "import"
	case *ast.Select:
		x, ok := f.X.(*ast.Ident)
		name, ok2 := f.Path[len(f.Path)-1].(*ast.Ident)
		return ok && ok2 && len(f.Path) == 1 && x.Name == "builtins" && name.Name == "import"
	}
	return false
}

// importListElems are the elements of an imports list that may be paths:
// [ a b ], l1 ++ l2, and the last argument of lib.optional(s) and mkIf.
func importListElems(e ast.Expr) []ast.Expr {
	switch e := ast.Unparen(e).(type) {
	case *ast.List:
		var out []ast.Expr
		for _, x := range e.Elems {
			if _, isCall := ast.Unparen(x).(*ast.Call); !isCall { // (import ./x.nix) is an import site itself
				out = append(out, x)
			}
		}
		return out
	case *ast.Binary:
		if e.Op == token.CONCAT {
			return append(importListElems(e.X), importListElems(e.Y)...)
		}
	case *ast.Call:
		switch ast.FuncName(e.Fun) {
		case "optional":
			return []ast.Expr{e.Args[len(e.Args)-1]}
		case "optionals", "mkIf":
			return importListElems(e.Args[len(e.Args)-1])
		}
	}
	return nil
}

// importTarget resolves an imported expression to a repository path. ok
// is false for expressions that name no file of the repository.
func importTarget(file string, lines *token.File, e ast.Expr) (importRef, bool) {
	e = ast.Unparen(e)
	ref := importRef{from: file, line: lines.Line(e.Pos())}
	switch p := e.(type) {
	case *ast.Path:
		text, literal := literalPath(p)
		if !literal {
			ref.lit, ref.problem = "a computed path", "computed path"
			return ref, true
		}
		ref.lit = text
		ref.target, ref.problem = resolveImport(file, text)
		return ref, true
	case *ast.Binary:
		// ./hosts + "/${name}.nix"
		if _, isPath := ast.Unparen(p.X).(*ast.Path); isPath && p.Op == token.ADD {
			ref.lit, ref.problem = "a computed path", "computed path"
			return ref, true
		}
	}
	return importRef{}, false
}

func literalPath(p *ast.Path) (string, bool) {
	if len(p.Parts) != 1 {
		return "", false
	}
	t, ok := p.Parts[0].(*ast.Text)
	if !ok {
		return "", false
	}
	return t.Value, true
}

// resolveImport joins a path literal to the importing file's directory.
func resolveImport(file, lit string) (target, problem string) {
	if strings.HasPrefix(lit, "/") || strings.HasPrefix(lit, "~") {
		return "", "outside the repository"
	}
	p := path.Join(path.Dir(file), lit)
	if p == "." || p == ".." || strings.HasPrefix(p, "../") {
		return "", "outside the repository"
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "**" {
			return "", "not a path this reader can look up"
		}
	}
	return p, ""
}

// followImports adds to files every file they import, directly or through
// other imports, that the revision holds: a path names a file, or a
// directory whose default.nix is read. Imports of what the revision does
// not hold stay unread; extract reports them.
func followImports(ctx context.Context, v *gitrev.Revision, files []parsedFile, cache *ParseCache) ([]parsedFile, error) {
	have := make(map[string]bool, len(files))
	for _, f := range files {
		have[f.Path] = true
	}
	next := files
	for round := 0; round < maxImportRounds && len(next) > 0; round++ {
		want := map[string]bool{}
		for _, f := range next {
			for _, ref := range f.imports {
				if ref.target != "" && !isRead(have, ref.target) {
					want[ref.target] = true
					want[path.Join(ref.target, "default.nix")] = true
				}
			}
		}
		if len(want) == 0 {
			break
		}
		globs, err := exactGlobs(want)
		if err != nil {
			return nil, err
		}
		entries, err := v.List(ctx, globs)
		if err != nil {
			return nil, fmt.Errorf("list imported files: %w", err)
		}
		entries = slices.DeleteFunc(entries, func(e gitrev.Entry) bool { return have[e.Path] })
		next, err = readParsed(ctx, v, entries, cache)
		if err != nil {
			return nil, fmt.Errorf("read imported files: %w", err)
		}
		for _, p := range next {
			have[p.Path] = true
		}
		files = append(files, next...)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}

// isRead reports whether the file an import names was read, as a file or as
// a directory's default.nix.
func isRead(have map[string]bool, target string) bool {
	return have[target] || have[path.Join(target, "default.nix")]
}

// exactGlobs matches exactly the given paths: every glob metacharacter is
// escaped for path.Match.
func exactGlobs(paths map[string]bool) (gitrev.Globs, error) {
	patterns := make([]string, 0, len(paths))
	for p := range paths {
		var b strings.Builder
		for _, r := range p {
			if strings.ContainsRune(`*?[]\`, r) {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
		patterns = append(patterns, b.String())
	}
	sort.Strings(patterns)
	return gitrev.ParseGlobs(patterns)
}

// unreadImports reports every import of a file that is not among the files
// read: what that file declares is unknown, so the result is incomplete.
func unreadImports(files []parsedFile) []declared.Unresolved {
	have := make(map[string]bool, len(files))
	for _, f := range files {
		have[f.Path] = true
	}
	var out []declared.Unresolved
	seen := map[importRef]bool{}
	for _, f := range files {
		for _, ref := range f.imports {
			if seen[ref] || (ref.target != "" && isRead(have, ref.target)) {
				continue
			}
			seen[ref] = true
			reason := fmt.Sprintf("imports %s (%s), a file that was not read (not in the revision): what it declares is unknown", ref.lit, ref.target)
			if ref.target == "" {
				reason = fmt.Sprintf("imports %s (%s): what it declares is unknown", ref.lit, ref.problem)
			}
			out = append(out, declared.Unresolved{File: ref.from, Line: ref.line, Reason: reason})
		}
	}
	return out
}
