package declared

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/driftcheck/driftcheck/internal/nix/ast"
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
	modules  []moduleDefs
	ready    bool
	cache    map[string][]value
	active   map[string]bool // options being resolved: a read of one is a cycle
}

// optionDecl is one declaration of an option.
type optionDecl struct {
	dflt *thunk // nil when declared without a default
	file string
	line int
}

// moduleDefs is a module as the lazy evaluator read it, kept for the
// option definitions its config may hold.
type moduleDefs struct {
	body      []value
	shaped    bool // { options = …; config = …; }: definitions are under config
	file      string
	fileIndex int
}

// maxOptionDepth bounds the nesting of option declarations read.
const maxOptionDepth = 32

func newOptionTable() *optionTable {
	return &optionTable{decls: map[string][]optionDecl{}, prefixes: map[string]bool{},
		cache: map[string][]value{}, active: map[string]bool{}}
}

// declares reports whether path is a declared option or a set of them.
func (o *optionTable) declares(path []string) bool {
	if o == nil || !o.ready {
		return false
	}
	key := strings.Join(path, ".")
	return o.prefixes[key] || len(o.decls[key]) > 0
}

// isOption reports whether path is a declared option whose reads resolve.
func (o *optionTable) isOption(path []string) bool {
	return o != nil && o.ready && len(o.decls[strings.Join(path, ".")]) > 0
}

// addModule records one module read by the lazy evaluator: its option
// declarations now, its config for later reads.
func (o *optionTable) addModule(ev *evaluator, body []value, file string, fileIndex int) {
	shaped := hasStaticKey(body, "config") || hasStaticKey(body, "options")
	if shaped {
		o.walkDecls(ev, child(ev, body, "options"), nil, file, 0)
	}
	o.modules = append(o.modules, moduleDefs{body: body, shaped: shaped, file: file, fileIndex: fileIndex})
}

// walkDecls walks an options tree down to its mkOption declarations.
func (o *optionTable) walkDecls(ev *evaluator, vs []value, path []string, file string, line int) {
	ev.steps++
	if len(path) > maxOptionDepth || ev.steps > maxSteps {
		ev.hit = true
		return
	}
	for _, v := range vs {
		if v.kind != kindSet {
			continue
		}
		if len(path) > 0 && isOptionDecl(ev, v) {
			o.add(path, optionDecl{dflt: defaultOf(v), file: file, line: line})
			continue
		}
		for _, e := range v.entries {
			if !e.dynamic {
				o.walkDecls(ev, ev.entryValues([]entry{e}, v), append(slices.Clip(path), e.key), file, e.pos.Line)
			}
		}
	}
}

func (o *optionTable) add(path []string, d optionDecl) {
	key := strings.Join(path, ".")
	o.decls[key] = append(o.decls[key], d)
	for i := 1; i < len(path); i++ {
		o.prefixes[strings.Join(path[:i], ".")] = true
	}
}

// isOptionDecl reports whether v is what mkOption returns: a set with
// _type = "option".
func isOptionDecl(ev *evaluator, v value) bool {
	for _, e := range v.entries {
		if !e.dynamic && e.key == "_type" && len(e.rest) == 0 {
			vs := ev.force(e.val)
			return len(vs) == 1 && vs[0].kind == kindString && vs[0].str == "option"
		}
	}
	return false
}

// defaultOf is the default of an option declaration, unevaluated: the
// last default attribute, as // would leave it.
func defaultOf(v value) *thunk {
	var d *thunk
	for _, e := range v.entries {
		if e.dynamic || e.key != "default" {
			continue
		}
		d = e.val
		if len(e.rest) > 0 {
			d = computed([]value{unknown(e.keyNode, "default built attribute by attribute")})
		}
	}
	return d
}

// optionDecl is what mkOption, mkEnableOption and mkPackageOption return:
// a set with _type = "option", as lib.options builds it, whose default
// stays lazy.
func (ev *evaluator) optionDecl(call ast.Expr, name string, args []*thunk) value {
	pos := posOrZero(call)
	constant := func(v value) *thunk { return computed([]value{v}) }
	decl := value{kind: kindSet, entries: []entry{{key: "_type", pos: pos, val: constant(value{kind: kindString, str: "option"})}}}
	switch name {
	case "mkEnableOption":
		decl.entries = append(decl.entries, entry{key: "default", pos: pos, val: constant(value{kind: kindBool})})
	case "mkPackageOption":
		decl.entries = append(decl.entries, entry{key: "default", pos: pos, val: constant(unknown(call, "a package"))})
	default:
		for _, v := range ev.force(args[0]) {
			if v.kind == kindSet && !v.cond {
				decl.entries = append(decl.entries, v.entries...)
				continue
			}
			decl.entries = append(decl.entries, entry{key: "default", pos: pos,
				val: constant(unknown(call, "computed by mkOption"))})
		}
	}
	return decl
}

// moduleArgs is what the module system passes: lib is nixpkgs' lib,
// config reads options, the rest (pkgs, options, …) is unknown.
func moduleArgs() value {
	return value{kind: kindUnknown, why: "depends on module arguments", ref: &configRef{args: true}}
}

func configValue(path []string) value {
	return value{kind: kindUnknown, why: "depends on module arguments", ref: &configRef{path: path}}
}

// readConfig is ref.name: config among the module arguments, a deeper
// part of config, or the value of a declared option.
func (ev *evaluator) readConfig(ref *configRef, name string) []value {
	if ref.args {
		if name == "config" {
			return []value{configValue(nil)}
		}
		return []value{{kind: kindUnknown, why: "depends on module arguments"}}
	}
	path := append(slices.Clip(ref.path), name)
	if ev.opts.isOption(path) {
		return ev.opts.read(ev, path)
	}
	return []value{configValue(path)}
}

// optionUnknown is an option read that cannot be resolved; reason names
// the option.
func optionUnknown(reason string) []value {
	return []value{{kind: kindUnknown, why: reason, opt: &optWhy{text: reason, root: reason}}}
}

// optionUnknownBecause is optionUnknown caused by another option read,
// whose first failure it quotes.
func optionUnknownBecause(reason string, cause *optWhy) []value {
	if cause == nil {
		return optionUnknown(reason)
	}
	w := &optWhy{text: reason + ": " + cause.root, root: cause.root}
	return []value{{kind: kindUnknown, why: w.text, opt: w}}
}

// read resolves one declared option, once per Extract call. Reading an
// option while resolving it is a cycle (a default that reads itself):
// the inner read is unknown.
func (o *optionTable) read(ev *evaluator, path []string) []value {
	key := strings.Join(path, ".")
	if vs, ok := o.cache[key]; ok {
		return slices.Clone(vs)
	}
	if o.active[key] {
		return optionUnknown(key + " depends on itself")
	}
	o.active[key] = true
	defer delete(o.active, key)
	outer := ev.hit
	ev.hit = false
	vs := o.resolve(ev, key, path)
	if !ev.hit {
		// A result cut short by the evaluator's limits is not kept: a
		// read from a shallower place may complete it.
		o.cache[key] = vs
	}
	ev.hit = ev.hit || outer
	return slices.Clone(vs)
}

func (o *optionTable) resolve(ev *evaluator, key string, path []string) []value {
	decls := o.decls[key]
	if len(decls) > 1 {
		return optionUnknown(fmt.Sprintf("%s is declared more than once (%s:%d, %s:%d)",
			key, decls[0].file, decls[0].line, decls[1].file, decls[1].line))
	}
	defs, hidden := o.definitions(ev.mode(true), path)
	if hidden != "" {
		return optionUnknown(fmt.Sprintf("%s may be set at %s by a value that cannot be read statically", key, hidden))
	}
	norm := ev.mode(false)
	var live []optionDef
	for _, d := range defs {
		if d, ok := decide(norm, d); ok {
			live = append(live, d)
		}
	}
	return mergeOption(norm, key, decls[0], live)
}

// definitions finds every definition of path in the modules' configs. A
// part of config that cannot be read where it may define the option
// (services.x = import ./x.nix, for services.x.y) hides definitions:
// hidden says where.
func (o *optionTable) definitions(ev *evaluator, path []string) (defs []optionDef, hidden string) {
	for _, m := range o.modules {
		cfg := m.body
		if m.shaped {
			cfg = child(ev, m.body, "config")
		}
		f := defFinder{ev: ev, path: path, m: m}
		f.find(cfg, 0, token.Pos{})
		defs = append(defs, f.defs...)
		if hidden == "" {
			hidden = f.hidden
		}
	}
	return defs, hidden
}

type defFinder struct {
	ev     *evaluator
	path   []string
	m      moduleDefs
	defs   []optionDef
	hidden string
}

func (f *defFinder) find(vs []value, depth int, pos token.Pos) {
	if depth == len(f.path) {
		for _, v := range vs {
			f.defs = append(f.defs, optionDef{v: v, file: f.m.file, fileIndex: f.m.fileIndex, pos: pos})
		}
		return
	}
	// Unreadable values right under the top-level namespace (services,
	// virtualisation) are too common and too vague to count.
	watch := depth >= min(2, len(f.path)-1)
	for _, v := range vs {
		switch v.kind {
		case kindUnknown:
			if watch {
				f.hide(posOrZero(v.at), pos)
			}
		case kindSet:
			for _, e := range v.entries {
				switch {
				case e.dynamic:
					if watch {
						f.hide(e.pos, e.pos)
					}
				case e.key == f.path[depth]:
					f.find(f.ev.entryValues([]entry{e}, v), depth+1, e.pos)
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
	f.hidden = fmt.Sprintf("%s:%d", f.m.file, at.Line)
}

// decide evaluates the mkIf conditions the lazy evaluator deferred on a
// definition: a false one drops it, an undecided one makes it conditional.
func decide(ev *evaluator, d optionDef) (optionDef, bool) {
	for _, c := range d.v.when {
		b, known := ev.boolOfThunk(c)
		switch {
		case known && !b:
			return d, false
		case !known:
			d.v.cond, d.v.vanish = true, true
		}
	}
	d.v.when = nil
	return d, true
}

// mergeOption decides one option's value from its definitions and its
// default, as lib.modules does: an unconditional definition hides those
// of worse priority, definitions of one priority must agree (lists are
// joined), and the default applies only when no definition does.
func mergeOption(ev *evaluator, key string, decl optionDecl, defs []optionDef) []value {
	if len(defs) == 0 {
		return defaultValue(ev, key, decl)
	}
	cutoff := math.MaxInt
	for _, d := range defs {
		if !d.v.cond {
			cutoff = min(cutoff, d.v.priority())
		}
	}
	var sure, maybe []optionDef
	for _, d := range defs {
		switch {
		case d.v.priority() > cutoff:
			// hidden by an unconditional definition of better priority
		case d.v.cond:
			maybe = append(maybe, d)
		default:
			sure = append(sure, d)
		}
	}
	for _, d := range slices.Concat(sure, maybe) {
		if why := notConstant(ev, d.v); why != "" {
			return optionUnknownBecause(fmt.Sprintf("%s is set at %s:%d to %s", key, d.file, d.pos.Line, why), d.v.opt)
		}
	}
	var cands []value
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
		out = append(out, fmt.Sprintf("%s:%d", d.file, d.pos.Line))
	}
	return strings.Join(out, ", ")
}

// defaultValue is the option's default, when it is a constant.
func defaultValue(ev *evaluator, key string, decl optionDecl) []value {
	if decl.dflt == nil {
		return optionUnknown(key + " has no definition and no default")
	}
	vs := ev.force(decl.dflt)
	if len(vs) != 1 || vs[0].cond || vs[0].kind == kindUnknown {
		return optionUnknownBecause(key+" has no static default", optReason(vs))
	}
	if why := notConstant(ev, vs[0]); why != "" {
		return optionUnknownBecause(key+" defaults to "+why, vs[0].opt)
	}
	v := vs[0]
	v.prio, v.when = 0, nil
	v.defaults = union([]string{key}, v.defaults)
	return []value{v}
}

// notConstant says why an option value is not followed, "" when it is: a
// string, number, boolean, null or list of strings. Attribute sets
// (attrsOf, submodules) would need the option's type to merge.
func notConstant(ev *evaluator, v value) string {
	switch v.kind {
	case kindString, kindBool, kindInt, kindNull:
		return ""
	case kindList:
		if _, ok := ev.stringsOf([]value{unconditional(v)}); ok {
			return ""
		}
		return "a list that is not constant"
	case kindSet:
		return "an attribute set, which is not followed"
	}
	return "a value that is not a constant"
}

// agree merges the unconditional definitions of the best priority: lists
// are joined, as listOf does; other values must be equal.
func agree(ev *evaluator, defs []optionDef) (value, bool) {
	first := defs[0].v
	if first.kind == kindList {
		joined := value{kind: kindList}
		for _, d := range defs {
			l, ok := ev.stringsOf([]value{unconditional(d.v)})
			if !ok || d.v.kind != kindList || len(joined.list)+len(l) > maxListLen {
				return value{}, false
			}
			for _, s := range l {
				joined.list = append(joined.list, computed([]value{{kind: kindString, str: s}}))
			}
			joined.defaults = union(joined.defaults, d.v.defaults)
		}
		return joined, true
	}
	text := constText(ev, first)
	for _, d := range defs[1:] {
		if constText(ev, d.v) != text {
			return value{}, false
		}
		first.defaults = union(first.defaults, d.v.defaults)
	}
	return first, true
}

// possible is what a read of an option yields from the values it may
// take: one certain value when they agree and one of them surely applies
// (base), else each of them under a condition.
func possible(ev *evaluator, key string, cands []value, base bool) []value {
	var out []value
	var texts []string
	for _, c := range cands {
		if c.kind == kindUnknown {
			return []value{c}
		}
		t := constText(ev, c)
		if i := slices.Index(texts, t); i >= 0 {
			out[i].defaults = union(out[i].defaults, c.defaults)
			continue
		}
		texts = append(texts, t)
		c.prio, c.when, c.ref = 0, nil, nil
		out = append(out, c)
	}
	certain := base && len(out) == 1
	for i := range out {
		if !certain && out[i].kind == kindList {
			// A conditional list definition joins the others or not.
			return optionUnknown(key + " is a list with conditional definitions")
		}
		out[i].cond, out[i].vanish = !certain, !certain
	}
	return out
}

// constText identifies a constant value, for comparing definitions.
func constText(ev *evaluator, v value) string {
	switch v.kind {
	case kindString:
		return "s" + strconv.Quote(v.str)
	case kindBool:
		return "b" + strconv.FormatBool(v.boolean)
	case kindInt:
		return "i" + strconv.FormatInt(v.integer, 10)
	case kindNull:
		return "null"
	case kindList:
		l, _ := ev.stringsOf([]value{unconditional(v)})
		return "l" + fmt.Sprintf("%q", l)
	}
	return ""
}
