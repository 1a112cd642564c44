package declared

import (
	"fmt"
	"strings"

	"github.com/driftcheck/driftcheck/internal/nix/eval"

	"github.com/driftcheck/driftcheck/internal/nix/token"
)

// implication is a unit that NixOS defines by itself when an option is
// set: it exists on the host although no systemd.* attribute names it.
type implication struct {
	When     string   // boolean option that creates the unit when true
	Requires []string // boolean options that must be true as well
	Unit     string   // full unit name
	// OnCalendarFrom is the option holding the timer's calendar, and
	// OnCalendarDefault its default.
	OnCalendarFrom    string
	OnCalendarDefault string
}

// implications is the table of units NixOS derives from options. The
// Docker ones follow nixos/modules/virtualisation/docker.nix: docker-prune
// is always defined when Docker is enabled (startAt is empty unless
// autoPrune.enable), the timer only with autoPrune.enable.
var implications = []implication{
	{When: "virtualisation.docker.enable", Unit: "docker-prune.service"},
	{When: "virtualisation.docker.autoPrune.enable", Requires: []string{"virtualisation.docker.enable"},
		Unit: "docker-prune.timer", OnCalendarFrom: "virtualisation.docker.autoPrune.dates", OnCalendarDefault: "weekly"},
}

// optionDef is one definition of a tracked option.
type optionDef struct {
	v         eval.Value
	file      string
	fileIndex int
	pos       token.Pos
	lines     *token.File // of file
}

// line is the line of the definition.
func (d optionDef) line() int { return d.lines.Line(d.pos) }

// collectOptions records the definitions of every option the implication
// table refers to.
func (x *extractor) collectOptions(cfg []eval.Value) {
	r := propertyReader{ev: x.ev}
	for _, path := range trackedOptions() {
		for _, l := range r.lookup(cfg, strings.Split(path, ".")) {
			if x.cur.settings == nil {
				x.cur.settings = map[string][]optionDef{}
			}
			x.cur.settings[path] = append(x.cur.settings[path], optionDef{v: l.v, file: x.file, fileIndex: x.fileIndex, pos: l.pos, lines: x.lines})
		}
	}
}

func trackedOptions() []string {
	seen := map[string]bool{}
	var out []string
	for _, im := range implications {
		for _, p := range append([]string{im.When, im.OnCalendarFrom}, im.Requires...) {
			if p != "" && !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// truth is what the definitions of a boolean option say.
type truth int

const (
	isFalse truth = iota
	mayBeTrue
	isTrue
)

// live drops the definitions that an unconditional definition of better
// (lower) priority always overrides.
func live(defs []optionDef) []optionDef {
	best := 0
	for _, d := range defs {
		if !d.v.Cond && (best == 0 || priority(d.v) < best) {
			best = priority(d.v)
		}
	}
	if best == 0 {
		return defs
	}
	var out []optionDef
	for _, d := range defs {
		if priority(d.v) <= best {
			out = append(out, d)
		}
	}
	return out
}

// boolOption decides a boolean option and names the definition that makes
// it (possibly) true. A value read from an option's default (docker.enable
// = cfg.docker) only may be true: a host may set that option elsewhere.
func boolOption(defs []optionDef) (truth, optionDef) {
	defs = live(defs)
	var maybe, sure *optionDef
	otherwise := false // a false or unreadable definition could win
	for i, d := range defs {
		switch {
		case d.v.Kind == eval.Bool && d.v.Boolean && !d.v.Cond && defaultsOf(d.v.Meta) == nil:
			if sure == nil {
				sure = &defs[i]
			}
		case d.v.Kind == eval.Bool && d.v.Boolean:
			if maybe == nil {
				maybe = &defs[i]
			}
		case d.v.Kind == eval.Bool:
			otherwise = true
		default:
			otherwise = true
			if maybe == nil {
				maybe = &defs[i]
			}
		}
	}
	switch {
	case sure != nil && !otherwise:
		return isTrue, *sure
	case sure != nil:
		return mayBeTrue, *sure
	case maybe != nil:
		return mayBeTrue, *maybe
	}
	return isFalse, optionDef{}
}

// calendarOption reads a calendar option, or its default when unset.
// A conditional or non-constant definition leaves it unknown.
func (x *extractor) calendarOption(defs []optionDef, def string) ([]string, bool) {
	defs = live(defs)
	if len(defs) == 0 {
		return []string{def}, true
	}
	if len(defs) != 1 || defs[0].v.Cond {
		return nil, false
	}
	return x.ev.StringsOf([]eval.Value{defs[0].v})
}

func (x *extractor) applyImplications() {
	x.ev = newEvaluator(x.opts)
	for _, im := range implications {
		t, def := boolOption(x.options[im.When])
		for _, req := range im.Requires {
			rt, _ := boolOption(x.options[req])
			t = min(t, rt)
		}
		if t != isFalse {
			x.addImplied(im, def, t == mayBeTrue, nil)
			continue
		}
		if x.opts.everyFile {
			x.keepImplied(im)
		}
	}
}

// keepImplied adds, when every file is read, the implied unit of each file
// whose own definitions would create it although the definitions of all
// files do not: another file's setting (mkForce false on one host) never
// drops it; it stays conditional, naming those settings.
func (x *extractor) keepImplied(im implication) {
	opts := append([]string{im.When}, im.Requires...)
	for _, file := range definingFiles(x.options[im.When]) {
		own, def := boolOption(inFile(x.options[im.When], file, true))
		for _, req := range im.Requires {
			if mine := inFile(x.options[req], file, true); len(mine) > 0 {
				rt, _ := boolOption(mine)
				own = min(own, rt)
			}
		}
		if own == isFalse {
			continue // the file's own settings drop it
		}
		var deciders []string
		for _, opt := range opts {
			for _, d := range inFile(x.options[opt], file, false) {
				if d.v.Kind != eval.Bool || !d.v.Boolean {
					deciders = append(deciders, fmt.Sprintf("%s:%d", d.file, d.line()))
				}
			}
		}
		x.addImplied(im, def, true, deciders)
	}
}

// definingFiles are the files of defs, in order.
func definingFiles(defs []optionDef) []string {
	var out []string
	for _, d := range defs {
		out = union(out, []string{d.file})
	}
	return out
}

// inFile are the definitions of defs in file (mine) or in the others.
func inFile(defs []optionDef, file string, mine bool) []optionDef {
	var out []optionDef
	for _, d := range defs {
		if (d.file == file) == mine {
			out = append(out, d)
		}
	}
	return out
}

// addImplied adds the unit im implies at the definition def.
func (x *extractor) addImplied(im implication, def optionDef, conditional bool, decidedElsewhere []string) {
	at := def.lines.Position(def.pos)
	site := siteAcc{Site: Site{File: def.file, Line: at.Line, Conditional: conditional,
		ImpliedBy: im.When, DecidedElsewhere: decidedElsewhere}, fileIndex: def.fileIndex, col: at.Col}
	if im.OnCalendarFrom != "" {
		if cal, ok := x.calendarOption(x.options[im.OnCalendarFrom], im.OnCalendarDefault); ok {
			site.Properties.OnCalendar = cal
			site.Settings = map[string]Setting{propOnCalendar: {Line: at.Line, Priority: prioNormal, Conditional: site.Conditional}}
		}
	}
	x.add(unitKey{name: im.Unit, scope: ScopeSystem}, UnitType(im.Unit), site)
}
