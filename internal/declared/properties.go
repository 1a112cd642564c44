package declared

import (
	"sort"

	"github.com/driftcheck/driftcheck/internal/nix/token"
)

// Property names, as in the JSON of Properties and the keys of
// Site.Settings.
const (
	propOnCalendar  = "OnCalendar"
	propWantedBy    = "WantedBy"
	propEnable      = "Enable"
	propPersistent  = "Persistent"
	propType        = "Type"
	propDescription = "Description"
	propUnit        = "Unit"
)

// located is a value with the position of the attribute that defines it.
type located struct {
	v   value
	pos token.Pos
}

// startAt is what a service's startAt says about the timer it implies.
type startAt struct {
	calendars []string // nil when not constant
	setting   Setting
}

// propertyReader reads the statically known properties of one definition
// of a unit into its site.
type propertyReader struct {
	ev      *evaluator
	site    *siteAcc
	startAt *startAt
}

func (r *propertyReader) read(defs []value, typ string) {
	if typ == "service" {
		r.readStartAt(defs)
	}
	p := &r.site.Properties
	if s, set, ok := r.pick(defs, "description"); ok && s.v.kind == kindString {
		p.Description = s.v.str
		r.record(propDescription, set)
	}
	if s, set, ok := r.pick(defs, "enable"); ok && s.v.kind == kindBool {
		b := s.v.boolean
		p.Enable = &b
		r.record(propEnable, set)
	}
	if s, set, ok := r.pick(defs, "wantedBy"); ok {
		if l, known := r.ev.stringsOf([]value{unconditional(s.v)}); known {
			p.WantedBy = l
			r.record(propWantedBy, set)
		}
	}
	if s, set, ok := r.pick(defs, "serviceConfig", "Type"); ok && s.v.kind == kindString {
		p.Type = s.v.str
		r.record(propType, set)
	}
	if s, set, ok := r.pick(defs, "timerConfig", "OnCalendar"); ok {
		if l, known := r.ev.stringsOf([]value{unconditional(s.v)}); known {
			p.OnCalendar = l
			r.record(propOnCalendar, set)
		}
	}
	if s, set, ok := r.pick(defs, "timerConfig", "Persistent"); ok && s.v.kind == kindBool {
		b := s.v.boolean
		p.Persistent = &b
		r.record(propPersistent, set)
	}
	if s, set, ok := r.pick(defs, "timerConfig", "Unit"); ok && s.v.kind == kindString {
		p.Unit = s.v.str
		r.record(propUnit, set)
	}
}

// readStartAt notes the timer a service's startAt implies. A non-constant
// or conditional startAt may be empty, so the timer it implies is
// conditional.
func (r *propertyReader) readStartAt(defs []value) {
	s, set, ok := r.best(defs, "startAt")
	if !ok {
		return
	}
	l, known := r.ev.stringsOf([]value{unconditional(s.v)})
	if known && len(l) == 0 {
		return
	}
	if !known {
		set.Conditional = true
	}
	r.startAt = &startAt{calendars: l, setting: set}
}

func unconditional(v value) value {
	v.cond = false
	return v
}

func (r *propertyReader) record(name string, set Setting) {
	if r.site.Settings == nil {
		r.site.Settings = map[string]Setting{}
	}
	r.site.Settings[name] = set
}

// pick is best, for properties: a value under a condition of its own is
// not known statically and stays unset.
func (r *propertyReader) pick(defs []value, path ...string) (located, Setting, bool) {
	s, set, ok := r.best(defs, path...)
	if !ok || s.v.cond {
		return located{}, Setting{}, false
	}
	return s, set, true
}

// best finds the definition of a property path that wins inside one
// definition of a unit: the lowest priority, then the first written.
func (r *propertyReader) best(defs []value, path ...string) (located, Setting, bool) {
	cands := r.lookup(defs, path)
	if len(cands) == 0 {
		return located{}, Setting{}, false
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].v.priority() < cands[j].v.priority() })
	best := cands[0]
	set := Setting{Line: best.pos.Line, Priority: best.v.priority(),
		Conditional: best.v.cond || r.site.Conditional}
	return best, set, true
}

// lookup finds every definition of path under the set parts of vs, with the
// position of the attribute naming the last path element.
func (r *propertyReader) lookup(vs []value, path []string) []located {
	var out []located
	for _, v := range vs {
		if v.kind != kindSet {
			continue
		}
		for _, e := range v.entries {
			if e.dynamic || e.key != path[0] {
				continue
			}
			vals := r.ev.entryValues([]entry{e}, v)
			if len(path) > 1 {
				out = append(out, r.lookup(vals, path[1:])...)
				continue
			}
			for _, val := range vals {
				out = append(out, located{v: val, pos: e.pos})
			}
		}
	}
	return out
}

// impliedTimer records the timer NixOS creates for a service's startAt.
func (x *extractor) impliedTimer(name string, scope Scope, service siteAcc, sa *startAt) {
	site := siteAcc{Site: Site{File: service.File, Line: sa.setting.Line, ImpliedBy: "startAt",
		Conditional: service.Conditional || sa.setting.Conditional}, fileIndex: service.fileIndex}
	if sa.calendars != nil {
		site.Properties.OnCalendar = sa.calendars
		site.Settings = map[string]Setting{propOnCalendar: sa.setting}
	}
	x.add(unitKey{name, scope}, "timer", site)
}
