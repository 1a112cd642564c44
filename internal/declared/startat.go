package declared

import (
	"github.com/driftcheck/driftcheck/internal/nix/eval"
	"math"
	"slices"
	"sort"
	"strings"
)

// startAtDef is one definition of a service's startAt.
type startAtDef struct {
	calendars []string // nil when not a constant
	known     bool
	// maybeEmpty: the definition may yield no calendar (not constant,
	// empty, under mkIf or built by optional, or its site is conditional).
	maybeEmpty bool
	certain    bool // applies unconditionally, so it hides worse priorities
	priority   int
	file       string
	fileIndex  int
	line       int
}

// startAts reads the startAt definitions inside one definition of a
// service. if-then-else branches are separate definitions that are not
// certain, but do not make the timer conditional when both are non-empty.
func (r *propertyReader) startAts(defs []eval.Value, siteConditional bool) []startAtDef {
	var out []startAtDef
	for _, c := range r.lookup(defs, []string{"startAt"}) {
		l, known := r.ev.StringsOf([]eval.Value{unconditional(c.v)})
		out = append(out, startAtDef{
			calendars:  l,
			known:      known,
			maybeEmpty: !known || len(l) == 0 || c.v.Vanish || siteConditional,
			certain:    !c.v.Cond && !siteConditional,
			priority:   priority(c.v),
			file:       r.site.File,
			fileIndex:  r.site.fileIndex,
			line:       r.lines.Line(c.pos),
		})
	}
	return out
}

// impliedTimers adds the timer NixOS creates for every service whose
// startAt, merged over all its definitions, is not empty.
func (x *extractor) impliedTimers() {
	for k, acc := range x.units {
		if acc.typ != "service" {
			continue
		}
		var defs []startAtDef
		for _, s := range acc.sites {
			defs = append(defs, s.startAts...)
		}
		if site, ok := startAtTimer(defs); ok {
			// The timer is named after the service.
			for _, s := range acc.sites {
				site.NameDefaults = union(site.NameDefaults, s.NameDefaults)
				if site.Conditional {
					site.DecidedElsewhere = union(site.DecidedElsewhere, s.DecidedElsewhere)
				}
			}
			x.add(unitKey{name: strings.TrimSuffix(k.name, ".service") + ".timer", scope: k.scope, user: k.user}, "timer", site)
		}
	}
}

// startAtTimer resolves startAt as the module system would: a certain
// definition hides those of worse priority; the timer exists when some
// remaining definition is non-empty, surely when none may be empty; its
// calendar is known when the remaining non-empty definitions agree.
func startAtTimer(defs []startAtDef) (siteAcc, bool) {
	sort.SliceStable(defs, func(i, j int) bool {
		if defs[i].fileIndex != defs[j].fileIndex {
			return defs[i].fileIndex < defs[j].fileIndex
		}
		return defs[i].line < defs[j].line
	})
	cutoff := math.MaxInt
	for _, d := range defs {
		if d.certain {
			cutoff = min(cutoff, d.priority)
		}
	}
	var live []startAtDef
	for _, d := range defs {
		if d.priority <= cutoff {
			live = append(live, d)
		}
	}
	var first *startAtDef
	maybeEmpty, sure, unknown := false, false, false
	var calendars [][]string
	for i, d := range live {
		maybeEmpty = maybeEmpty || d.maybeEmpty
		sure = sure || (d.certain && !d.maybeEmpty && !overriddenMaybe(live, d.priority))
		switch {
		case !d.known:
			unknown = true
		case len(d.calendars) > 0:
			if !slices.ContainsFunc(calendars, func(c []string) bool { return slices.Equal(c, d.calendars) }) {
				calendars = append(calendars, d.calendars)
			}
		default:
			continue // empty: contributes no timer
		}
		if first == nil {
			first = &live[i]
		}
	}
	if first == nil {
		return siteAcc{}, false // absent, or every remaining definition is [ ]
	}
	conditional := maybeEmpty && !sure
	site := siteAcc{Site: Site{File: first.file, Line: first.line, Conditional: conditional, ImpliedBy: "startAt"},
		fileIndex: first.fileIndex}
	if !unknown && len(calendars) == 1 {
		site.Properties.OnCalendar = calendars[0]
		site.Settings = map[string]Setting{propOnCalendar: {Line: first.line, Priority: first.priority, Conditional: conditional}}
	}
	return site, true
}

// overriddenMaybe reports whether a definition of better priority than prio
// may empty startAt (mkIf c (mkForce [ ]) over a plain "daily").
func overriddenMaybe(live []startAtDef, prio int) bool {
	for _, e := range live {
		if e.priority < prio && e.maybeEmpty {
			return true
		}
	}
	return false
}
