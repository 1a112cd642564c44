package declared

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/driftcheck/driftcheck/internal/nix/ast"
	"github.com/driftcheck/driftcheck/internal/nix/eval"
)

// Extraction runs in three steps: the declare phase reads every file for
// option declarations and definitions (the option table); the module
// phase reads each file's units, in file order, asking the table about
// the options it reads; the merge gathers every file's contributions and
// derives what needs them all (implied timers and units, the merge of a
// unit's sites).
//
// The module phase of one file depends on the file and on the table's
// answers, nothing else: a FileResult is that phase's output together
// with every question the file asked and every answer it got. Reading a
// later or earlier revision, ExtractReusing takes a FileResult of the same
// syntax tree as it is when the table answers the same questions the same
// way. It checks that by replaying the file's option reads, in order,
// against the new revision's table, on the evaluation budget each read
// had: the table then goes through exactly the reads, in exactly the
// order, that reading the file again would make, so every later file
// sees the table it would have seen without reuse. Only the declare
// phase, the replayed reads and the merge run for a reused file.

// FileResult is what one file's module contributes to an extraction,
// with what it depended on: see ExtractReusing. It is immutable once
// returned, and safe to share between extractions running at once.
type FileResult struct {
	path      string
	tree      *ast.File
	everyFile bool
	declares  bool         // declaresOptions: the file may declare options
	decl      *declSummary // what the declare phase found in it; nil: not read for options
	sites     []fileSite
	unres     []Unresolved
	settings  map[string][]optionDef // definitions of the implication table's options
	deps      fileDeps
	panicked  bool
	reusable  bool
}

// fileSite is one definition of a unit in a file.
type fileSite struct {
	key  unitKey
	typ  string
	site siteAcc
}

// fileDeps is what a file's module phase asked the option table.
type fileDeps struct {
	lookups []lookupDep
	reads   []readDep
	// readSteps are the evaluation steps the reads took; ownSteps those
	// the file's own evaluation took (every step but the reads').
	readSteps int
	ownSteps  int
	hit       bool // an evaluation limit was reached
	opaque    bool // a read returned a value fingerprint cannot compare
}

// lookup is a question about the declarations: does key name an option
// (option), or an option or a set of them.
type lookup struct {
	key    string
	option bool
}

type lookupDep struct {
	lookup
	answer bool
}

// readDep is one read of an option by the file, where the file's
// evaluation was when it read it, and what the read returned.
type readDep struct {
	path   []string
	own    int // steps of the file's own evaluation before the read
	depth  int // evaluation depth at the read
	steps  int // steps the read took
	result readResult
}

// ExtractReusing is Extract (everyFile false) or ExtractEveryFile,
// reusing the results of earlier extractions: earlier[i], when not nil,
// is a FileResult that an earlier call returned for a file of the same
// path and syntax tree (the same *ast.File) as files[i]. A FileResult is
// reused only when the option reads it depended on give the same values
// in these files; otherwise the file is read again. The Result is the
// one Extract or ExtractEveryFile returns for files, always.
//
// It returns, for every file, the FileResult to offer a later call: nil
// for a file that was not read (no syntax tree) or whose result cannot be
// reused (an evaluation limit was reached, or it read an option value
// that cannot be compared).
func ExtractReusing(files []SourceFile, everyFile bool, earlier []*FileResult) (Result, []*FileResult) {
	res, out, ok := extractReusing(files, everyFile, earlier, true)
	if !ok {
		// A reused file's reads could not be replayed faithfully: read
		// every file again.
		res, out, _ = extractReusing(files, everyFile, nil, true)
	}
	for i, r := range out {
		if r != nil && !r.reusable {
			out[i] = nil
		}
	}
	return res, out
}

// extractReusing is ExtractReusing, once: ok is false when a reused
// file's reads could not be replayed faithfully. record says whether
// to record what each file asks of the option table (for reuse by a
// later call).
func extractReusing(files []SourceFile, everyFile bool, earlier []*FileResult, record bool) (res Result, out []*FileResult, ok bool) {
	x := &extractor{units: map[unitKey]*unitAcc{}, options: map[string][]optionDef{}, opts: newOptionTable(), record: record}
	x.opts.everyFile, x.opts.summarize = everyFile, record
	candidate := func(i int) *FileResult {
		if i >= len(earlier) || earlier[i] == nil {
			return nil
		}
		c, f := earlier[i], files[i]
		if c.tree != f.AST || c.path != f.Path || c.everyFile != everyFile {
			return nil
		}
		return c
	}
	declares := make([]bool, len(files))
	anyDeclares := false
	for i, f := range files {
		if c := candidate(i); c != nil {
			declares[i] = c.declares
		} else {
			declares[i] = declaresOptions(f)
		}
		anyDeclares = anyDeclares || declares[i]
	}
	// Options are declared and defined across files: every file is read
	// for them before any unit name that reads one is resolved.
	summaries := make([]*declSummary, len(files))
	if anyDeclares {
		for i, f := range files {
			if f.AST == nil || f.AST.Expr == nil {
				continue
			}
			x.at(i, f)
			var earlier *declSummary
			if c := candidate(i); c != nil {
				earlier = c.decl
			}
			summaries[i] = x.declare(i, f, earlier)
		}
		x.opts.reading = ""
	}
	x.opts.ready = true
	out = make([]*FileResult, len(files))
	for i, f := range files {
		if f.AST == nil || f.AST.Expr == nil {
			continue
		}
		x.at(i, f)
		c := candidate(i)
		if c == nil {
			out[i] = x.moduleOf(f, declares[i], summaries[i], everyFile)
			continue
		}
		replayed, same := x.replay(c)
		if same {
			out[i] = c
			continue
		}
		r := x.moduleOf(f, declares[i], summaries[i], everyFile)
		// The replayed reads changed the table as reading the file does;
		// reading it again finds them resolved, at no cost. The file's
		// reading is the one it would have been without the replay when
		// no limit is reached either way.
		if replayed.reads > 0 && (replayed.hit || r.deps.hit || r.panicked ||
			r.deps.ownSteps+r.deps.readSteps+replayed.steps > eval.MaxSteps) {
			return Result{}, nil, false
		}
		out[i] = r
	}
	x.opts.reading = ""
	if x.opts.unfaithful {
		return Result{}, nil, false
	}
	for i, r := range out {
		if r != nil {
			x.gather(i, r)
		}
	}
	x.impliedTimers()
	x.applyImplications()
	if x.opts.unfaithful {
		return Result{}, nil, false
	}
	return x.result(), out, true
}

// moduleOf reads the units of one file (the module phase) and records
// what the file asked of the option table.
func (x *extractor) moduleOf(f SourceFile, declares bool, decl *declSummary, everyFile bool) *FileResult {
	r := &FileResult{path: f.Path, tree: f.AST, everyFile: everyFile, declares: declares, decl: decl}
	x.cur, x.hmUser = r, ""
	if x.record {
		x.opts.log = &r.deps
	}
	x.module(f.AST.Expr)
	x.cur, x.opts.log, x.hmUser = nil, nil, ""
	r.deps.hit = x.ev.Hit
	r.deps.ownSteps = x.ev.Steps - r.deps.readSteps
	r.reusable = x.record && !r.deps.hit && !r.deps.opaque && !r.panicked && settled(r.settings)
	return r
}

// settled reports whether the implication table's settings of a file are
// computed: merging them evaluates nothing (see calendarOption), so they
// can be shared by extractions.
func settled(settings map[string][]optionDef) bool {
	for _, defs := range settings {
		for _, d := range defs {
			for _, t := range d.v.Elems {
				if _, done := t.Fixed(); !done {
					return false
				}
			}
		}
	}
	return true
}

// replayStats is what replaying a file's reads cost.
type replayStats struct {
	reads int  // reads replayed
	steps int  // steps they took
	hit   bool // a limit was reached
}

// replay checks whether r holds in the current table: the file's
// questions about declarations get the same answers, and its reads,
// made in order where the file's evaluation made them, return the same
// values and take no more than the budget left. The reads replayed
// change the table as the file's own reads would.
func (x *extractor) replay(r *FileResult) (replayStats, bool) {
	var st replayStats
	for _, q := range r.deps.lookups {
		if x.opts.lookup(q.lookup) != q.answer {
			return st, false
		}
	}
	if r.deps.hit || r.panicked {
		return st, false
	}
	ev := newEvaluator(x.opts)
	for _, d := range r.deps.reads {
		start := eval.Mark{Steps: d.own + st.steps, Depth: d.depth}
		ev.Resume(start)
		vs := x.opts.read(ev, d.path)
		st.reads++
		st.steps += ev.Steps - start.Steps
		if ev.Hit {
			st.hit = true
			return st, false
		}
		if got, ok := fingerprint(vs); !ok || !got.equal(d.result) {
			return st, false
		}
	}
	return st, r.deps.ownSteps+st.steps <= eval.MaxSteps
}

// gather adds what files[i] contributes to the revision's units,
// unresolved declarations and implication settings, as copies when r
// is kept for later extractions (x.record), which may share it.
func (x *extractor) gather(i int, r *FileResult) {
	for _, s := range r.sites {
		site := s.site
		if x.record {
			site = site.copyAt(i) // r is kept, and may be reused
		}
		x.add(s.key, s.typ, site)
	}
	x.unres = append(x.unres, r.unres...)
	if len(r.settings) == 0 {
		return
	}
	for _, path := range trackedOptions() {
		for _, d := range r.settings[path] {
			d.fileIndex = i
			x.options[path] = append(x.options[path], d)
		}
	}
}

// copyAt is a deep copy of s, as a site of files[i].
func (s siteAcc) copyAt(i int) siteAcc {
	s.fileIndex = i
	s.NameDefaults = slices.Clone(s.NameDefaults)
	s.DecidedElsewhere = slices.Clone(s.DecidedElsewhere)
	s.Settings = maps.Clone(s.Settings)
	p := &s.Properties
	p.OnCalendar, p.WantedBy = slices.Clone(p.OnCalendar), slices.Clone(p.WantedBy)
	p.Enable, p.Persistent = cloneBool(p.Enable), cloneBool(p.Persistent)
	s.startAts = slices.Clone(s.startAts)
	for j := range s.startAts {
		s.startAts[j].fileIndex = i
		s.startAts[j].calendars = slices.Clone(s.startAts[j].calendars)
	}
	return s
}

func cloneBool(b *bool) *bool {
	if b == nil {
		return nil
	}
	v := *b
	return &v
}

// readResult is a comparable account of the values an option read
// returned: everything about them that the reading file's evaluation can
// observe. Syntax nodes count by identity: the same node of the same
// tree.
type readResult struct {
	text  string
	nodes []ast.Node
}

func (a readResult) equal(b readResult) bool {
	return a.text == b.text && slices.Equal(a.nodes, b.nodes)
}

// fingerprint accounts for vs; ok is false for values it cannot account
// for (sets, functions, unforced thunks, deferred conditions), which an
// option read never returns as far as mergeOption goes.
func fingerprint(vs []eval.Value) (readResult, bool) {
	var p printer
	ok := p.values(vs, 0)
	return readResult{text: p.b.String(), nodes: p.nodes}, ok
}

type printer struct {
	b     strings.Builder
	nodes []ast.Node
}

// maxFingerprintDepth bounds nested lists.
const maxFingerprintDepth = 8

func (p *printer) values(vs []eval.Value, depth int) bool {
	if depth > maxFingerprintDepth {
		return false
	}
	p.b.WriteString("[")
	for _, v := range vs {
		if !p.value(v, depth) {
			return false
		}
	}
	p.b.WriteString("]")
	return true
}

func (p *printer) value(v eval.Value, depth int) bool {
	if len(v.Entries) > 0 || v.Fn != nil || v.Closure != nil || len(v.Args) > 0 {
		return false
	}
	p.b.WriteString("(")
	p.int(int64(v.Kind))
	p.flag(v.Cond)
	p.flag(v.Vanish)
	p.flag(v.Boolean)
	p.int(v.Integer)
	p.str(v.Str)
	p.str(v.Name)
	p.str(v.Why)
	p.node(v.At)
	p.int(int64(len(v.Elems)))
	for _, t := range v.Elems {
		vs, done := t.Fixed()
		if !done {
			return false
		}
		p.node(t.Expr)
		if !p.values(vs, depth+1) {
			return false
		}
	}
	if !p.meta(v.Meta) {
		return false
	}
	p.b.WriteString(")")
	return true
}

func (p *printer) meta(m any) bool {
	if m == nil {
		p.b.WriteString("-")
		return true
	}
	f, ok := m.(*facets)
	if !ok || f == nil || len(f.when) > 0 {
		return false
	}
	p.int(int64(f.prio))
	if f.ref != nil {
		p.flag(f.ref.args)
		p.strs(f.ref.path)
	} else {
		p.b.WriteString("-")
	}
	if f.opt != nil {
		p.str(f.opt.text)
		p.str(f.opt.root)
	} else {
		p.b.WriteString("-")
	}
	p.strs(f.defaults)
	p.sites(f.setAt)
	p.sites(f.decidedAt)
	return true
}

func (p *printer) node(n ast.Node) {
	p.b.WriteString("@")
	p.nodes = append(p.nodes, n)
}

func (p *printer) flag(b bool) {
	if b {
		p.b.WriteString("t")
		return
	}
	p.b.WriteString("f")
}

func (p *printer) int(i int64) {
	p.b.WriteString(strconv.FormatInt(i, 10))
	p.b.WriteString(",")
}

func (p *printer) str(s string) { p.b.WriteString(strconv.Quote(s)) }

func (p *printer) strs(ss []string) {
	p.int(int64(len(ss)))
	for _, s := range ss {
		p.str(s)
	}
}

func (p *printer) sites(ss []defSite) {
	p.int(int64(len(ss)))
	for _, s := range ss {
		p.str(s.file)
		p.int(int64(s.line))
	}
}
