package declared

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/driftcheck/driftcheck/internal/nix/ast"
	"github.com/driftcheck/driftcheck/internal/nix/eval"
	"github.com/driftcheck/driftcheck/internal/nix/token"
)

// optionTable is what the modules of one Extract call say about options:
// their declarations (mkOption under options) and the modules that may
// define them. Once every file has been declared (ready), a read of
// config.<option> resolves through it as the module system merges an
// option: the definitions of the best priority, else the default.
type optionTable struct {
	decls    map[string][]optionDecl // by option path, dotted
	prefixes map[string]bool         // dotted paths of the sets above options
	// files hold the modules of each file, in file order, for the
	// definitions they may hold; a file known not to declare options
	// may wait to be evaluated until a read may find definitions in it.
	files  []*declaredFile
	ready  bool
	cache  map[string][]eval.Value
	active map[string]bool // options being resolved: a read of one is a cycle
	// everyFile: the files are every matched file, not one host's
	// configuration, so a setting decides conditions only in its own file;
	// reading is the file whose units are being read ("" while an option
	// is merged), and refused collects the other files' sites a condition
	// was not decided by.
	everyFile bool
	reading   string
	refused   []defSite
	// log records, while a file's module is read, what the file asked of
	// the table (see fileDeps); nested counts the reads being resolved,
	// whose own questions are part of the outermost read.
	log    *fileDeps
	nested int
	// unfaithful: a file evaluated late (declaredFile.later) did not
	// give what its summary said: the extraction must be done again
	// without waiting.
	unfaithful bool
	declCount  int  // declarations added
	summarize  bool // keep each declared file's summary (FileResult.decl)
}

// foreign are the sites among sites in another file than the one read,
// when every file is read.
func (o *optionTable) foreign(sites []defSite) []defSite {
	if o == nil || !o.everyFile || o.reading == "" {
		return nil
	}
	var out []defSite
	for _, s := range sites {
		if s.file != o.reading {
			out = append(out, s)
		}
	}
	return out
}

// optionDecl is one declaration of an option.
type optionDecl struct {
	dflt *eval.Thunk // nil when declared without a default
	file string
	line int
}

// moduleDefs is a module as the lazy evaluator read it, kept for the
// option definitions its config may hold.
type moduleDefs struct {
	body      []eval.Value
	shaped    bool // { options = …; config = …; }: definitions are under config
	file      string
	fileIndex int
	lines     *token.File // of file
}

// maxOptionDepth bounds the nesting of option declarations read.
const maxOptionDepth = 32

func newOptionTable() *optionTable {
	return &optionTable{decls: map[string][]optionDecl{}, prefixes: map[string]bool{},
		cache: map[string][]eval.Value{}, active: map[string]bool{}}
}

// declares reports whether path is a declared option or a set of them.
func (o *optionTable) declares(path []string) bool {
	if o == nil || !o.ready {
		return false
	}
	return o.answer(lookup{key: strings.Join(path, "."), option: false})
}

// isOption reports whether path is a declared option whose reads resolve.
func (o *optionTable) isOption(path []string) bool {
	return o != nil && o.ready && o.answer(lookup{key: strings.Join(path, "."), option: true})
}

// answer answers a question about the declarations, and records it for
// the file being read.
func (o *optionTable) answer(q lookup) bool {
	a := o.lookup(q)
	if o.log != nil && o.nested == 0 {
		o.log.lookups = append(o.log.lookups, lookupDep{lookup: q, answer: a})
	}
	return a
}

// lookup is answer without the record: declares, or for q.option
// isOption.
func (o *optionTable) lookup(q lookup) bool {
	if q.option {
		return len(o.decls[q.key]) > 0
	}
	return o.prefixes[q.key] || len(o.decls[q.key]) > 0
}

// addModule records one module read by the lazy evaluator: its option
// declarations now, its config for later reads.
func (o *optionTable) addModule(f *declaredFile, ev *eval.Evaluator, body []eval.Value) {
	shaped := hasStaticKey(body, "config") || hasStaticKey(body, "options")
	if shaped {
		before := o.declCount
		o.walkDecls(ev, child(ev, body, "options"), nil, f.file, f.lines, 0)
		f.summary.decls += o.declCount - before
	}
	f.modules = append(f.modules, moduleDefs{body: body, shaped: shaped, file: f.file, fileIndex: f.fileIndex, lines: f.lines})
	if o.summarize {
		f.summary.tops = append(f.summary.tops, topOf(body, shaped))
	}
}

// walkDecls walks an options tree down to its mkOption declarations.
func (o *optionTable) walkDecls(ev *eval.Evaluator, vs []eval.Value, path []string, file string, lines *token.File, line int) {
	if !ev.Step() || len(path) > maxOptionDepth {
		ev.Hit = true
		return
	}
	for _, v := range vs {
		if v.Kind != eval.Set {
			continue
		}
		if len(path) > 0 && isOptionDecl(ev, v) {
			o.add(path, optionDecl{dflt: defaultOf(v), file: file, line: line})
			continue
		}
		for _, e := range v.Entries {
			if !e.Dynamic {
				o.walkDecls(ev, ev.EntryValues([]eval.Entry{e}, v), append(slices.Clip(path), e.Key), file, lines, lines.Line(e.Pos))
			}
		}
	}
}

func (o *optionTable) add(path []string, d optionDecl) {
	key := strings.Join(path, ".")
	o.declCount++
	o.decls[key] = append(o.decls[key], d)
	for i := 1; i < len(path); i++ {
		o.prefixes[strings.Join(path[:i], ".")] = true
	}
}

// isOptionDecl reports whether v is what mkOption returns: a set with
// _type = "option".
func isOptionDecl(ev *eval.Evaluator, v eval.Value) bool {
	for _, e := range v.Entries {
		if !e.Dynamic && e.Key == "_type" && len(e.Rest) == 0 {
			vs := ev.Force(e.Val)
			return len(vs) == 1 && vs[0].Kind == eval.String && vs[0].Str == "option"
		}
	}
	return false
}

// defaultOf is the default of an option declaration, unevaluated: the
// last default attribute, as // would leave it.
func defaultOf(v eval.Value) *eval.Thunk {
	var d *eval.Thunk
	for _, e := range v.Entries {
		if e.Dynamic || e.Key != "default" {
			continue
		}
		d = e.Val
		if len(e.Rest) > 0 {
			d = eval.Computed([]eval.Value{eval.NewUnknown(e.KeyNode, "default built attribute by attribute")})
		}
	}
	return d
}

// optionValue is what mkOption, mkEnableOption and mkPackageOption return:
// a set with _type = "option", as lib.options builds it, whose default
// stays lazy.
func optionValue(ev *eval.Evaluator, call ast.Expr, name string, args []*eval.Thunk) eval.Value {
	pos := posOrZero(call)
	constant := func(v eval.Value) *eval.Thunk { return eval.Computed([]eval.Value{v}) }
	decl := eval.Value{Kind: eval.Set, Entries: []eval.Entry{{Key: "_type", Pos: pos, Val: constant(eval.Value{Kind: eval.String, Str: "option"})}}}
	switch name {
	case "mkEnableOption":
		decl.Entries = append(decl.Entries, eval.Entry{Key: "default", Pos: pos, Val: constant(eval.Value{Kind: eval.Bool})})
	case "mkPackageOption":
		decl.Entries = append(decl.Entries, eval.Entry{Key: "default", Pos: pos, Val: constant(eval.NewUnknown(call, "a package"))})
	default:
		for _, v := range ev.Force(args[0]) {
			if v.Kind == eval.Set && !v.Cond {
				decl.Entries = append(decl.Entries, v.Entries...)
				continue
			}
			decl.Entries = append(decl.Entries, eval.Entry{Key: "default", Pos: pos,
				Val: constant(eval.NewUnknown(call, "computed by mkOption"))})
		}
	}
	return decl
}

// moduleArgs is what the module system passes: lib is nixpkgs' lib,
// config reads options, the rest (pkgs, options, …) is unknown.
func moduleArgs() eval.Value {
	return withFacets(eval.Value{Kind: eval.Unknown, Why: "depends on module arguments"}, facets{ref: &configRef{args: true}})
}

func configValue(path []string) eval.Value {
	return withFacets(eval.Value{Kind: eval.Unknown, Why: "depends on module arguments"}, facets{ref: &configRef{path: path}})
}

// readConfig is ref.name: config among the module arguments, a deeper
// part of config, or the value of a declared option.
func (m *moduleSystem) readConfig(ev *eval.Evaluator, ref *configRef, name string) []eval.Value {
	if ref.args {
		if name == "config" {
			return []eval.Value{configValue(nil)}
		}
		return []eval.Value{{Kind: eval.Unknown, Why: "depends on module arguments"}}
	}
	path := append(slices.Clip(ref.path), name)
	if m.opts.isOption(path) {
		return m.opts.read(ev, path)
	}
	return []eval.Value{configValue(path)}
}

// optionUnknown is an option read that cannot be resolved; reason names
// the option.
func optionUnknown(reason string) []eval.Value {
	return []eval.Value{withFacets(eval.NewUnknown(nil, reason), facets{opt: &optWhy{text: reason, root: reason}})}
}

// optionUnknownBecause is optionUnknown caused by another option read,
// whose first failure it quotes.
func optionUnknownBecause(reason string, cause *optWhy) []eval.Value {
	if cause == nil {
		return optionUnknown(reason)
	}
	w := &optWhy{text: reason + ": " + cause.root, root: cause.root}
	return []eval.Value{withFacets(eval.NewUnknown(nil, w.text), facets{opt: w})}
}

// read resolves one declared option, once per Extract call. Reading an
// option while resolving it is a cycle (a default that reads itself):
// the inner read is unknown.
func (o *optionTable) read(ev *eval.Evaluator, path []string) []eval.Value {
	if o.log == nil || o.nested > 0 {
		return o.resolveOnce(ev, path)
	}
	// A read by the file being read: record it (see fileDeps).
	at := ev.Mark()
	dep := readDep{path: slices.Clone(path), own: at.Steps - o.log.readSteps, depth: at.Depth}
	vs := o.resolveOnce(ev, path)
	dep.steps = ev.Steps - at.Steps
	o.log.readSteps += dep.steps
	var ok bool
	if dep.result, ok = fingerprint(vs); !ok {
		o.log.opaque = true
	}
	o.log.reads = append(o.log.reads, dep)
	return vs
}

// resolveOnce is read without the record.
func (o *optionTable) resolveOnce(ev *eval.Evaluator, path []string) []eval.Value {
	key := strings.Join(path, ".")
	if vs, ok := o.cache[key]; ok {
		return slices.Clone(vs)
	}
	if o.active[key] {
		return optionUnknown(key + " depends on itself")
	}
	o.active[key] = true
	o.nested++
	defer func() {
		delete(o.active, key)
		o.nested--
	}()
	// Merging an option is the module system's business, whichever file
	// reads it: its definitions' own conditions are decided as usual.
	reading := o.reading
	o.reading = ""
	defer func() { o.reading = reading }()
	outer := ev.Hit
	ev.Hit = false
	vs := o.resolve(ev, key, path)
	if !ev.Hit {
		// A result cut short by the evaluator's limits is not kept: a
		// read from a shallower place may complete it.
		o.cache[key] = vs
	}
	ev.Hit = ev.Hit || outer
	return slices.Clone(vs)
}

func (o *optionTable) resolve(ev *eval.Evaluator, key string, path []string) []eval.Value {
	decls := o.decls[key]
	if len(decls) > 1 {
		return optionUnknown(fmt.Sprintf("%s is declared more than once (%s:%d, %s:%d)",
			key, decls[0].file, decls[0].line, decls[1].file, decls[1].line))
	}
	defs, hidden := o.definitions(mode(ev, true), path)
	if hidden != "" {
		return optionUnknown(fmt.Sprintf("%s may be set at %s by a value that cannot be read statically", key, hidden))
	}
	norm := mode(ev, false)
	var live []optionDef
	for _, d := range defs {
		if d, ok := decide(norm, d); ok {
			f := facetsOf(d.v.Meta)
			f.setAt = []defSite{{d.file, d.line()}}
			d.v = withFacets(d.v, f)
			live = append(live, d)
		}
	}
	return mergeOption(norm, key, decls[0], live)
}

// definitions finds every definition of path in the modules' configs. A
// part of config that cannot be read where it may define the option
// (services.x = import ./x.nix, for services.x.y) hides definitions:
// hidden says where.
func (o *optionTable) definitions(ev *eval.Evaluator, path []string) (defs []optionDef, hidden string) {
	for _, file := range o.files {
		if file.later != nil && !slices.ContainsFunc(file.summary.tops, func(t moduleTop) bool { return t.mayDefine(path) }) {
			continue // searching its modules would find and force nothing
		}
		if file.later != nil {
			o.evaluateLate(file)
		}
		for _, m := range file.modules {
			if !mayDefine(m, path) {
				continue // searching it would find and force nothing
			}
			d, h := o.definitionsIn(ev, m, path)
			defs = append(defs, d...)
			if hidden == "" {
				hidden = h
			}
		}
	}
	return defs, hidden
}

// definitionsIn finds the definitions of path in one module.
func (o *optionTable) definitionsIn(ev *eval.Evaluator, m moduleDefs, path []string) (defs []optionDef, hidden string) {
	cfg := m.body
	if m.shaped {
		cfg = child(ev, m.body, "config")
	}
	f := defFinder{ev: ev, path: path, m: m}
	f.find(cfg, 0, token.NoPos)
	return f.defs, f.hidden
}

type defFinder struct {
	ev     *eval.Evaluator
	path   []string
	m      moduleDefs
	defs   []optionDef
	hidden string
}

func (f *defFinder) find(vs []eval.Value, depth int, pos token.Pos) {
	if depth == len(f.path) {
		for _, v := range vs {
			f.defs = append(f.defs, optionDef{v: v, file: f.m.file, fileIndex: f.m.fileIndex, pos: pos, lines: f.m.lines})
		}
		return
	}
	// Unreadable values right under the top-level namespace (services,
	// virtualisation) are too common and too vague to count.
	watch := depth >= min(2, len(f.path)-1)
	for _, v := range vs {
		switch v.Kind {
		case eval.Unknown:
			if watch {
				f.hide(posOrZero(v.At), pos)
			}
		case eval.Set:
			for _, e := range v.Entries {
				switch {
				case e.Dynamic:
					if watch {
						f.hide(e.Pos, e.Pos)
					}
				case e.Key == f.path[depth]:
					f.find(f.ev.EntryValues([]eval.Entry{e}, v), depth+1, e.Pos)
				}
			}
		}
	}
}

func (f *defFinder) hide(at, fallback token.Pos) {
	if f.hidden != "" {
		return
	}
	if !at.IsValid() {
		at = fallback
	}
	f.hidden = fmt.Sprintf("%s:%d", f.m.file, f.m.lines.Line(at))
}

// decide evaluates the mkIf conditions the lazy evaluator deferred on a
// definition: a false one drops it, an undecided one makes it conditional.
func decide(ev *eval.Evaluator, d optionDef) (optionDef, bool) {
	for _, c := range whenOf(d.v) {
		b, known := ev.BoolOfThunk(c)
		switch {
		case known && !b:
			return d, false
		case !known:
			d.v.Cond, d.v.Vanish = true, true
		}
	}
	f := facetsOf(d.v.Meta)
	f.when = nil
	d.v = withFacets(d.v, f)
	return d, true
}

// mergeOption decides one option's value from its definitions and its
// default, as lib.modules does: an unconditional definition hides those
// of worse priority, definitions of one priority must agree (lists are
// joined), and the default applies only when no definition does.
func mergeOption(ev *eval.Evaluator, key string, decl optionDecl, defs []optionDef) []eval.Value {
	if len(defs) == 0 {
		return defaultValue(ev, key, decl)
	}
	cutoff := math.MaxInt
	for _, d := range defs {
		if !d.v.Cond {
			cutoff = min(cutoff, priority(d.v))
		}
	}
	var sure, maybe []optionDef
	for _, d := range defs {
		switch {
		case priority(d.v) > cutoff:
			// hidden by an unconditional definition of better priority
		case d.v.Cond:
			maybe = append(maybe, d)
		default:
			sure = append(sure, d)
		}
	}
	for _, d := range slices.Concat(sure, maybe) {
		if why := notConstant(ev, d.v); why != "" {
			return optionUnknownBecause(fmt.Sprintf("%s is set at %s:%d to %s", key, d.file, d.line(), why), facetsOf(d.v.Meta).opt)
		}
	}
	var cands []eval.Value
	switch {
	case len(sure) > 0:
		v, ok := agree(ev, sure)
		if !ok {
			return optionUnknown(fmt.Sprintf("%s has %d conflicting definitions (%s)", key, len(sure), places(sure)))
		}
		cands = append(cands, v)
	case decl.dflt != nil:
		cands = append(cands, defaultValue(ev, key, decl)...)
	}
	for _, d := range maybe {
		cands = append(cands, d.v)
	}
	return possible(ev, key, cands, len(sure) > 0 || decl.dflt != nil)
}

func places(defs []optionDef) string {
	var out []string
	for _, d := range defs {
		out = append(out, fmt.Sprintf("%s:%d", d.file, d.line()))
	}
	return strings.Join(out, ", ")
}

// defaultValue is the option's default, when it is a constant.
func defaultValue(ev *eval.Evaluator, key string, decl optionDecl) []eval.Value {
	if decl.dflt == nil {
		return optionUnknown(key + " has no definition and no default")
	}
	vs := ev.Force(decl.dflt)
	if len(vs) != 1 || vs[0].Cond || vs[0].Kind == eval.Unknown {
		return optionUnknownBecause(key+" has no static default", optReason(vs))
	}
	if why := notConstant(ev, vs[0]); why != "" {
		return optionUnknownBecause(key+" defaults to "+why, facetsOf(vs[0].Meta).opt)
	}
	f := facetsOf(vs[0].Meta)
	f.prio, f.when = 0, nil
	f.defaults = union([]string{key}, f.defaults)
	return []eval.Value{withFacets(vs[0], f)}
}

// notConstant says why an option value is not followed, "" when it is: a
// string, number, boolean, null or list of strings. Attribute sets
// (attrsOf, submodules) would need the option's type to merge.
func notConstant(ev *eval.Evaluator, v eval.Value) string {
	switch v.Kind {
	case eval.String, eval.Bool, eval.Int, eval.Null:
		return ""
	case eval.List:
		if _, ok := ev.StringsOf([]eval.Value{unconditional(v)}); ok {
			return ""
		}
		return "a list that is not constant"
	case eval.Set:
		return "an attribute set, which is not followed"
	}
	return "a value that is not a constant"
}

// agree merges the unconditional definitions of the best priority: lists
// are joined, as listOf does; other values must be equal.
func agree(ev *eval.Evaluator, defs []optionDef) (eval.Value, bool) {
	first := defs[0].v
	if first.Kind == eval.List {
		joined := eval.Value{Kind: eval.List}
		for _, d := range defs {
			l, ok := ev.StringsOf([]eval.Value{unconditional(d.v)})
			if !ok || d.v.Kind != eval.List || len(joined.Elems)+len(l) > eval.MaxListLen {
				return eval.Value{}, false
			}
			for _, s := range l {
				joined.Elems = append(joined.Elems, eval.Computed([]eval.Value{{Kind: eval.String, Str: s}}))
			}
			joined = addDefaults(joined, d.v)
		}
		return joined, true
	}
	text := constText(ev, first)
	for _, d := range defs[1:] {
		if constText(ev, d.v) != text {
			return eval.Value{}, false
		}
		first = addDefaults(first, d.v)
	}
	return first, true
}

// possible is what a read of an option yields from the values it may
// take: one certain value when they agree and one of them surely applies
// (base), else each of them under a condition.
func possible(ev *eval.Evaluator, key string, cands []eval.Value, base bool) []eval.Value {
	var out []eval.Value
	var texts []string
	for _, c := range cands {
		if c.Kind == eval.Unknown {
			return []eval.Value{c}
		}
		t := constText(ev, c)
		if i := slices.Index(texts, t); i >= 0 {
			out[i] = addDefaults(out[i], c)
			continue
		}
		texts = append(texts, t)
		f := facetsOf(c.Meta)
		f.prio, f.when, f.ref = 0, nil, nil
		out = append(out, withFacets(c, f))
	}
	certain := base && len(out) == 1
	for i := range out {
		if !certain && out[i].Kind == eval.List {
			// A conditional list definition joins the others or not.
			return optionUnknown(key + " is a list with conditional definitions")
		}
		out[i].Cond, out[i].Vanish = !certain, !certain
	}
	return out
}

// constText identifies a constant value, for comparing definitions.
func constText(ev *eval.Evaluator, v eval.Value) string {
	switch v.Kind {
	case eval.String:
		return "s" + strconv.Quote(v.Str)
	case eval.Bool:
		return "b" + strconv.FormatBool(v.Boolean)
	case eval.Int:
		return "i" + strconv.FormatInt(v.Integer, 10)
	case eval.Null:
		return "null"
	case eval.List:
		l, _ := ev.StringsOf([]eval.Value{unconditional(v)})
		return "l" + fmt.Sprintf("%q", l)
	}
	return ""
}

// addDefaults adds the options whose defaults from gives, and the sites
// that define it, to v's.
func addDefaults(v, from eval.Value) eval.Value {
	f := facetsOf(v.Meta)
	f.defaults = union(f.defaults, defaultsOf(from.Meta))
	f.setAt = unionSites(f.setAt, facetsOf(from.Meta).setAt)
	return withFacets(v, f)
}
