package declared

import (
	"fmt"
	"sort"
	"strings"

	"github.com/driftcheck/driftcheck/internal/nix/ast"
	"github.com/driftcheck/driftcheck/internal/nix/eval"
	"github.com/driftcheck/driftcheck/internal/nix/token"
)

// SourceFile is one parsed Nix file. Path is how findings name it (the path
// inside the repository).
type SourceFile struct {
	Path string
	AST  *ast.File
}

// Extract reads the systemd units that the given NixOS modules declare,
// statically: no file is read and nothing is evaluated by Nix. A unit
// declared in several places, in one file or across files, is one Unit with
// every place in Sites. Units are sorted by name, then scope.
//
// Every file is read as a NixOS module (a set, or a function returning
// one); imports are not followed, so callers pass every module file.
// Declarations that cannot be read statically, such as unit names computed
// by mapAttrs', are reported in Result.Unresolved, never dropped. A read
// of config.<option> resolves when one of the files declares the option
// (mkOption): to its definitions in any file, by priority, else to its
// default; a unit named from a default says so in Notes. Files
// whose AST is nil are skipped; the caller reports their parse errors in
// Result.Errors.
func Extract(files []SourceFile) Result { return extract(files, false) }

// ExtractEveryFile is Extract for files that are not known to make one
// configuration: every file matching the module globs of a repository
// that may hold several hosts. One file's settings never drop or decide
// another file's units there: a condition (mkIf, optionalAttrs, if, an
// implication such as virtualisation.docker.enable) that only a
// definition in another file decides stays undecided, so the unit stays,
// conditional, with the deciding sites in Notes. Option defaults
// (mkOption) still count as every configuration's own; settings in the
// unit's own file decide as in Extract.
func ExtractEveryFile(files []SourceFile) Result { return extract(files, true) }

func extract(files []SourceFile, everyFile bool) Result {
	res, _, _ := extractReusing(files, everyFile, nil, false)
	return res
}

// declaresOptions reports whether a file may declare options. Only
// mkOption and its relatives make declarations (sets with _type =
// "option"), and their names are always written in the source; a
// revision without any is not read for options at all.
func declaresOptions(f SourceFile) bool {
	if f.AST == nil {
		return false
	}
	found := false
	ast.Inspect(f.AST.Expr, func(n ast.Node) bool {
		if name, ok := eval.StaticName(asExpr(n)); ok && optionMakers[name] {
			found = true
		}
		return !found
	})
	return found
}

var optionMakers = map[string]bool{"mkOption": true, "mkEnableOption": true, "mkPackageOption": true, "_type": true}

func asExpr(n ast.Node) ast.Expr {
	e, _ := n.(ast.Expr)
	return e
}

// at makes files[i] the file being read.
func (x *extractor) at(i int, f SourceFile) {
	x.file, x.fileIndex, x.lines = f.Path, i, f.AST.Lines
	x.opts.reading = f.Path
}

type unitKey struct {
	name  string
	scope Scope
	user  string // home-manager user, for user units declared there
}

type unitAcc struct {
	typ   string
	sites []siteAcc
}

type siteAcc struct {
	Site
	fileIndex int
	col       int
	startAts  []startAtDef // services only
}

type extractor struct {
	hmUser    string // the home-manager user whose units are being read
	file      string
	fileIndex int
	lines     *token.File // of file: positions to lines
	ev        *eval.Evaluator
	opts      *optionTable // declared options, for config reads
	record    bool         // record each file's questions to the table (FileResult)
	// cur collects what the file being read contributes (module phase);
	// the fields below are the revision's, gathered from every file's.
	cur     *FileResult
	units   map[unitKey]*unitAcc
	unres   []Unresolved           // the declare phase's, then every file's
	options map[string][]optionDef // options of the implication table
}

// unitKinds maps the attribute under systemd (and systemd.user) to the unit
// type it declares.
var unitKinds = []struct{ attr, typ string }{
	{"services", "service"}, {"timers", "timer"}, {"sockets", "socket"}, {"paths", "path"},
	{"targets", "target"}, {"slices", "slice"},
}

func (x *extractor) module(root ast.Expr) {
	x.ev = newEvaluator(x.opts)
	defer x.recoverFile(root)
	eachModule(x.ev, root, x.ev.Eval(root, nil), 0, func(body []eval.Value) {
		if hasStaticKey(body, "config") || hasStaticKey(body, "options") {
			x.reportHidden(body, "module")
			body = x.child(body, "config")
		}
		x.config(body)
	})
}

// recoverFile reports an internal failure on one file: the evaluator is
// meant to handle any tree; should it not, the file is reported rather
// than the whole run lost.
func (x *extractor) recoverFile(root ast.Expr) {
	if r := recover(); r != nil {
		if x.cur != nil {
			x.cur.panicked = true
		}
		x.unresolved(root.Pos(), fmt.Sprintf("internal error reading this file: %v", r))
	}
}

// maxInlineImports bounds the nesting of modules written inline in imports.
const maxInlineImports = 8

// eachModule calls visit with the body of a module (a set, or what a
// function returns) after the bodies of the modules written inline in its
// imports. Imported paths are not followed (the caller passes every file).
func eachModule(ev *eval.Evaluator, at ast.Expr, vals []eval.Value, depth int, visit func(body []eval.Value)) {
	var body []eval.Value
	for _, v := range vals {
		if v.Kind == eval.Lambda {
			body = append(body, ev.Apply(at, []eval.Value{v}, []*eval.Thunk{eval.Computed([]eval.Value{moduleArgs()})})...)
			continue
		}
		body = append(body, v)
	}
	if depth < maxInlineImports {
		for _, l := range child(ev, body, "imports") {
			if l.Kind != eval.List {
				continue
			}
			for _, t := range l.Elems {
				var inline []eval.Value
				for _, m := range ev.Force(t) {
					if m.Kind == eval.Set || m.Kind == eval.Lambda {
						inline = append(inline, ev.Enclose(m, l))
					}
				}
				if len(inline) > 0 {
					eachModule(ev, at, inline, depth+1, visit)
				}
			}
		}
	}
	visit(body)
}

func hasStaticKey(vs []eval.Value, key string) bool {
	for _, v := range vs {
		if v.Kind != eval.Set {
			continue
		}
		for _, e := range v.Entries {
			if !e.Dynamic && e.Key == key {
				return true
			}
		}
	}
	return false
}

func (x *extractor) config(cfg []eval.Value) {
	x.reportHidden(cfg, "configuration")
	sd := x.child(cfg, "systemd")
	x.systemd(sd, ScopeSystem, "systemd")
	x.systemd(x.child(sd, "user"), ScopeUser, "systemd.user")
	x.homeManager(x.child(x.child(cfg, "home-manager"), "users"))
	x.collectOptions(cfg)
}

// homeManager reads the user units that home-manager configurations
// written in a NixOS module declare (home-manager.users.<u>.systemd.user):
// scope user, with the user, out of the system comparison. A user's
// configuration imported from a file is a home-manager module, not one
// the host's import closure holds; it is not read here.
func (x *extractor) homeManager(users []eval.Value) {
	for _, v := range users {
		if v.Kind != eval.Set {
			continue
		}
		for _, e := range v.Entries {
			if e.Dynamic {
				continue
			}
			var sets []eval.Value
			for _, b := range x.ev.EntryValues([]eval.Entry{e}, eval.Value{}) {
				if b.Kind == eval.Set {
					sets = append(sets, b)
				}
			}
			x.hmUser = e.Key
			x.systemd(x.child(x.child(sets, "systemd"), "user"), ScopeUser, "home-manager.users."+e.Key+".systemd.user")
			x.hmUser = ""
		}
	}
}

func (x *extractor) child(vs []eval.Value, key string) []eval.Value { return child(x.ev, vs, key) }

// child is v.Key over the parts of v that are sets. Unknown parts are not
// followed; callers report them.
func child(ev *eval.Evaluator, vs []eval.Value, key string) []eval.Value {
	var sets []eval.Value
	for _, v := range vs {
		if v.Kind == eval.Set {
			sets = append(sets, v)
		}
	}
	out, _ := ev.SelectKey(sets, key)
	return out
}

// reportHidden reports the parts of a value above the unit level that could
// not be read but visibly declare systemd units: an unknown expression or
// a ${…} key whose value defines systemd.* attributes.
func (x *extractor) reportHidden(vs []eval.Value, where string) {
	for _, v := range vs {
		switch v.Kind {
		case eval.Unknown:
			if v.At != nil && mentionsSystemd(v.At) {
				x.unresolved(v.At.Pos(), describe(where, v.Why)+"; it defines systemd units")
			}
		case eval.Set:
			for _, e := range v.Entries {
				if e.Dynamic && mentionsSystemd(e.Val.Expr) {
					x.unresolved(e.Pos, fmt.Sprintf("attribute name %s is not a constant; its value defines systemd units", eval.Render(e.KeyNode)))
				}
			}
		}
	}
}

// systemd reads the unit sets under systemd or systemd.user.
func (x *extractor) systemd(sd []eval.Value, scope Scope, path string) {
	for _, v := range sd {
		switch v.Kind {
		case eval.Unknown:
			x.unresolved(posOrZero(v.At), describe(path+": settings", v.Why))
		case eval.Set:
			for _, e := range v.Entries {
				if e.Dynamic {
					x.unresolved(e.Pos, fmt.Sprintf("%s: attribute name %s is not a constant", path, eval.Render(e.KeyNode)))
				}
			}
		}
	}
	for _, k := range unitKinds {
		x.unitSet(x.child(sd, k.attr), k.typ, scope, path+"."+k.attr)
	}
	if scope == ScopeSystem {
		x.unitSet(x.child(sd, "units"), "", scope, path+".units")
		x.mountList(x.child(sd, "mounts"), "mount", path+".mounts")
		x.mountList(x.child(sd, "automounts"), "automount", path+".automounts")
	}
}

// unitSet reads systemd.services (and the like): every key is a unit.
// typ "" means the key is a full unit name (systemd.units).
func (x *extractor) unitSet(vs []eval.Value, typ string, scope Scope, path string) {
	for _, v := range vs {
		switch v.Kind {
		case eval.Unknown:
			x.unresolved(posOrZero(v.At), describe(path+": unit names", v.Why))
		case eval.Set:
			for _, e := range v.Entries {
				if e.Dynamic {
					reason := fmt.Sprintf("%s: unit name %s is not a constant", path, eval.Render(e.KeyNode))
					if why := facetsOf(e.Why).opt; why != nil {
						reason += ": " + why.text
					}
					x.unresolved(e.Pos, reason)
					continue
				}
				name, t := e.Key+"."+typ, typ
				if typ == "" {
					name, t = e.Key, UnitType(e.Key)
				}
				// Read the unit relative to its set: the set's condition
				// is the unit's, not its properties'; its priority is both.
				x.definition(name, t, scope, e.Pos, v.Cond, defaultsOf(e.Meta), facetsOf(v.Meta).decidedAt,
					x.ev.EntryValues([]eval.Entry{e}, withPrio(facetsOf(v.Meta).prio)))
			}
		}
	}
}

// UnitType is the type of a full unit name, from its suffix: "timer" for
// docker-prune.timer. Every package that needs it uses this one.
func UnitType(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[i+1:]
	}
	return ""
}

func posOrZero(n ast.Node) token.Pos {
	if n == nil {
		return token.NoPos
	}
	return n.Pos()
}

func (x *extractor) unresolved(pos token.Pos, reason string) {
	x.addUnresolved(Unresolved{File: x.file, Line: x.lines.Line(pos), Reason: reason})
}

// addUnresolved records u for the file being read: among its module's
// results, or the revision's while declaring options.
func (x *extractor) addUnresolved(u Unresolved) {
	if x.cur != nil {
		x.cur.unres = append(x.cur.unres, u)
		return
	}
	x.unres = append(x.unres, u)
}

// definition records one definition of a unit: a site with the properties
// it sets, and the timer its startAt implies. parentCond says whether the
// attribute naming the unit is itself under a condition; defs carry only
// the conditions written inside the unit's value. nameDefaults are the
// options whose default gave the unit its name; decidedAt the other
// files' settings that decide the condition of the attribute naming it.
func (x *extractor) definition(name, typ string, scope Scope, pos token.Pos, parentCond bool, nameDefaults []string, decidedAt []defSite, defs []eval.Value) {
	if len(defs) == 0 {
		return // every definition is under mkIf false
	}
	at := x.lines.Position(pos)
	site := siteAcc{Site: Site{File: x.file, Line: at.Line, Conditional: parentCond || mayVanish(defs),
		NameDefaults: nameDefaults}, fileIndex: x.fileIndex, col: at.Col}
	if site.Conditional {
		for _, d := range defs {
			decidedAt = unionSites(decidedAt, facetsOf(d.Meta).decidedAt)
		}
		for _, d := range decidedAt {
			site.DecidedElsewhere = union(site.DecidedElsewhere, []string{d.String()})
		}
	}
	for _, d := range defs {
		if d.Kind == eval.Unknown {
			x.addUnresolved(Unresolved{File: x.file, Line: x.lines.Line(posOrZero(d.At)),
				Reason: describe("properties of "+name, d.Why), Unit: name})
		}
	}
	if len(defs) == 1 && defs[0].Vanish {
		// systemd.services.x = mkIf c { … }: the condition is the unit's
		// (site.Conditional); if the unit exists, its properties are these.
		defs = []eval.Value{defs[0]}
		defs[0].Cond, defs[0].Vanish = false, false
	}
	r := propertyReader{ev: x.ev, site: &site, lines: x.lines}
	r.read(defs)
	site.Role = x.role(typ, defs, site.Properties)
	if typ == "service" {
		site.startAts = r.startAts(defs, site.Conditional)
	}
	x.cur.sites = append(x.cur.sites, fileSite{key: unitKey{name, scope, x.hmUser}, typ: typ, site: site})
}

// mayVanish reports whether the definitions of a unit may all be removed
// by their conditions: none is certain and some mkIf or optionalAttrs can
// remove one. if-then-else alone does not: both branches define the unit.
func mayVanish(defs []eval.Value) bool {
	vanish := false
	for _, d := range defs {
		if !d.Cond {
			return false
		}
		vanish = vanish || d.Vanish
	}
	return vanish
}

func (x *extractor) add(k unitKey, typ string, s siteAcc) {
	u := x.units[k]
	if u == nil {
		u = &unitAcc{typ: typ}
		x.units[k] = u
	}
	u.sites = append(u.sites, s)
}

// result merges the sites of every unit and sorts everything.
func (x *extractor) result() Result {
	res := Result{Units: []Unit{}, Unresolved: dedupUnresolved(x.unres), Errors: []ParseError{}}
	for k, acc := range x.units {
		res.Units = append(res.Units, merge(k, acc))
	}
	sort.Slice(res.Units, func(i, j int) bool {
		a, b := res.Units[i], res.Units[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Scope < b.Scope
	})
	return res
}

func dedupUnresolved(us []Unresolved) []Unresolved {
	out := []Unresolved{}
	seen := map[Unresolved]bool{}
	for _, u := range us {
		if !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].File != out[j].File {
			return out[i].File < out[j].File
		}
		return out[i].Line < out[j].Line
	})
	return out
}

// mentionsSystemd reports whether an expression visibly defines systemd
// attributes at module level: an attribute path starting with systemd.
// Nested configurations (containers, test nodes, specialisations) do not
// count: they are not this host's units.
func mentionsSystemd(n ast.Node) bool {
	found := false
	ast.Inspect(n, func(n ast.Node) bool {
		if found {
			return false
		}
		a, ok := n.(*ast.Attr)
		if !ok || len(a.Path) == 0 {
			return true
		}
		for _, p := range a.Path {
			id, ok := p.(*ast.Ident)
			if !ok {
				continue
			}
			if nestedConfigKeys[id.Name] {
				return false
			}
		}
		if id, ok := a.Path[0].(*ast.Ident); ok && (id.Name == "systemd" || id.Name == "virtualisation") {
			found = true
		}
		return true
	})
	return found
}

// nestedConfigKeys hold configurations of other machines.
var nestedConfigKeys = map[string]bool{"containers": true, "nodes": true, "specialisation": true,
	"nixosConfigurations": true, "home-manager": true}

// describe phrases why something could not be read: "unit names computed
// by mapAttrs'", or "unit names unknown: depends on config.jobs".
func describe(what, why string) string {
	if strings.HasPrefix(why, "computed by ") {
		return what + " " + why
	}
	return what + " unknown: " + why
}

// declaringKeys are the attributes of a unit's definition that make the
// unit, by unit type; a definition without any of them only adjusts a unit
// defined elsewhere.
var declaringKeys = map[string][]string{
	"service": {"script", "ExecStart", "wantedBy", "requiredBy", "startAt", "description", "text", "unit"},
	"timer":   {"timerConfig", "wantedBy", "requiredBy", "description", "text", "unit"},
	"socket":  {"listenStreams", "listenDatagrams", "socketConfig", "wantedBy", "requiredBy", "description", "text", "unit"},
	"path":    {"pathConfig", "wantedBy", "requiredBy", "description", "text", "unit"},
}

// serviceConfigKeys make a service when set under serviceConfig.
var serviceConfigKeys = []string{"ExecStart", "Type"}

// role says what one definition of a unit does: declares it (sets what
// makes it), disables it (enable = false and nothing else that makes it),
// or only overrides it. A definition that cannot be read counts as
// declaring: it may.
func (x *extractor) role(typ string, defs []eval.Value, p Properties) string {
	if x.declares(typ, defs) {
		return RoleDeclares
	}
	if p.Enable != nil && !*p.Enable {
		return RoleDisables
	}
	return RoleOverrides
}

func (x *extractor) declares(typ string, defs []eval.Value) bool {
	keys, typed := declaringKeys[typ]
	if !typed {
		return true // targets, slices, mounts: the definition is the unit
	}
	empty := true
	for _, d := range defs {
		if d.Kind != eval.Set {
			return true // unknown: it may declare
		}
		empty = empty && len(d.Entries) == 0
	}
	if empty {
		return true // systemd.services.x = { }: a unit of its own
	}
	for _, k := range keys {
		if hasStaticKey(defs, k) {
			return true
		}
	}
	if typ == "service" {
		for _, k := range serviceConfigKeys {
			if hasStaticKey(x.child(defs, "serviceConfig"), k) {
				return true
			}
		}
	}
	return false
}
