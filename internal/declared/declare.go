package declared

import (
	"fmt"
	"slices"

	"github.com/driftcheck/driftcheck/internal/nix/ast"
	"github.com/driftcheck/driftcheck/internal/nix/eval"
	"github.com/driftcheck/driftcheck/internal/nix/token"
)

// declaredFile is one file as the declare phase read it: its modules,
// kept for the definitions they may hold, and what their tops hold.
type declaredFile struct {
	file      string
	fileIndex int
	lines     *token.File
	modules   []moduleDefs
	summary   declSummary
	// later is the file's expression while it waits to be evaluated: a
	// file whose summary (from an earlier extraction of the same tree)
	// says it declares no option is evaluated only when a read may find
	// definitions in one of its modules. Evaluating it reads nothing
	// from other files, so when it is evaluated does not matter.
	later ast.Expr
}

// declSummary is what the declare phase found in a file, a function of
// the file alone (the table is not ready while declaring: no option
// resolves): the top of each module, in order, how many options it
// declares, and whether reading it failed.
type declSummary struct {
	tops     []moduleTop
	decls    int
	panicked bool
}

func (s declSummary) equal(o declSummary) bool {
	return s.decls == o.decls && s.panicked == o.panicked && slices.EqualFunc(s.tops, o.tops, moduleTop.equal)
}

// moduleTop is what a definition search can meet at the top of a
// module's config (see defFinder.find): its static keys, and whether it
// holds an unknown value or a ${…} key there. A module with options and
// config is searched whatever it holds (its config is a value to force).
type moduleTop struct {
	shaped bool
	keys   []string // sorted
	opaque bool
}

func (t moduleTop) equal(o moduleTop) bool {
	return t.shaped == o.shaped && t.opaque == o.opaque && slices.Equal(t.keys, o.keys)
}

// topOf is the top of a module whose body is body.
func topOf(body []eval.Value, shaped bool) moduleTop {
	t := moduleTop{shaped: shaped}
	if shaped {
		return t
	}
	for _, v := range body {
		switch v.Kind {
		case eval.Unknown:
			t.opaque = true
		case eval.Set:
			for _, e := range v.Entries {
				if e.Dynamic {
					t.opaque = true
					continue
				}
				t.keys = append(t.keys, e.Key)
			}
		}
	}
	slices.Sort(t.keys)
	t.keys = slices.Compact(t.keys)
	return t
}

// mayDefine is moduleTop.mayDefine on a module read: without building
// its top.
func mayDefine(m moduleDefs, path []string) bool {
	if m.shaped {
		return true
	}
	for _, v := range m.body {
		switch v.Kind {
		case eval.Unknown:
			if len(path) <= 1 {
				return true
			}
		case eval.Set:
			for _, e := range v.Entries {
				if e.Dynamic && len(path) <= 1 || !e.Dynamic && e.Key == path[0] {
					return true
				}
			}
		}
	}
	return false
}

// mayDefine reports whether searching the module for definitions of
// path can find or force anything. At the top of a module's config, the
// search follows only the static key path[0], and heeds unknown values
// and ${…} keys only for a path of one attribute (defFinder.find's
// watch); a module that holds none of those is skipped, which finds,
// forces and costs exactly what searching it would.
func (t moduleTop) mayDefine(path []string) bool {
	if t.shaped || (t.opaque && len(path) <= 1) {
		return true
	}
	_, found := slices.BinarySearch(t.keys, path[0])
	return found
}

// declare reads files[i] for options (the declare phase), or, when an
// earlier extraction of the same tree found that it declares none
// (earlier), keeps it to be evaluated when a read needs it. It returns
// the file's summary.
func (x *extractor) declare(i int, f SourceFile, earlier *declSummary) *declSummary {
	df := &declaredFile{file: f.Path, fileIndex: i, lines: f.AST.Lines}
	x.opts.files = append(x.opts.files, df)
	if earlier != nil && earlier.decls == 0 && !earlier.panicked {
		df.summary, df.later = *earlier, f.AST.Expr
		return earlier
	}
	if r := x.opts.declareFile(df, f.AST.Expr); r != nil {
		x.unresolved(f.AST.Expr.Pos(), fmt.Sprintf("internal error reading this file: %v", r))
	}
	if !x.opts.summarize {
		return nil
	}
	s := df.summary
	return &s
}

// declareFile reads a file's option declarations, and keeps its modules
// for the definitions they may hold, with the lazy evaluator. It returns
// what the evaluator panicked with, if it did: the evaluator is meant to
// handle any tree; should it not, the file is reported rather than the
// whole run lost.
func (o *optionTable) declareFile(f *declaredFile, root ast.Expr) (failure any) {
	ev := mode(newEvaluator(o), true)
	defer func() {
		if r := recover(); r != nil {
			f.summary.panicked, failure = true, r
		}
	}()
	eachModule(ev, root, ev.Eval(root, nil), 0, func(body []eval.Value) {
		o.addModule(f, ev, body)
	})
	return nil
}

// evaluateLate evaluates a file kept for later, as the declare phase
// would have: with the table not ready, so that it resolves no option.
// Should it not give what its summary said, the extraction is not
// faithful and is done again (unfaithful).
func (o *optionTable) evaluateLate(f *declaredFile) {
	root, want := f.later, f.summary
	f.later, f.summary = nil, declSummary{}
	ready, reading, log := o.ready, o.reading, o.log
	o.ready, o.reading, o.log = false, f.file, nil
	defer func() { o.ready, o.reading, o.log = ready, reading, log }()
	if o.declareFile(f, root) != nil || !want.equal(f.summary) {
		o.unfaithful = true
	}
}
