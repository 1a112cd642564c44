package unitdiff

import (
	"fmt"

	"github.com/driftcheck/driftcheck/internal/declared"
)

// Fidelity is a unit where the static reader and the evaluation disagree.
type Fidelity struct {
	Unit  string         `json:"unit"`
	Scope declared.Scope `json:"scope"`
	// Kind: "static-missed" (evaluated, not read statically),
	// "static-extra" (read statically, not in the evaluation) or
	// "property" (both have it, a compared property differs).
	Kind   string `json:"kind"`
	Detail string `json:"detail"`
	// StaticReason is what the static reader says about it, when it says
	// anything: a note, a condition, an unresolved declaration.
	StaticReason string `json:"static_reason,omitempty"`
}

// Fidelity kinds.
const (
	FidelityStaticMissed = "static-missed"
	FidelityStaticExtra  = "static-extra"
	FidelityProperty     = "property"
)

// CompareFidelity lists the units where the static reader and the
// evaluation disagree: units only one of them has, and compared
// properties (enable, calendar, description) both know and differ on.
func CompareFidelity(static, evaluated declared.Result) []Fidelity {
	key := func(u declared.Unit) string { return string(u.Scope) + "/" + u.Name }
	st := map[string]declared.Unit{}
	for _, u := range static.Units {
		st[key(u)] = u
	}
	ev := map[string]bool{}
	var out []Fidelity
	for _, u := range evaluated.Units {
		ev[key(u)] = true
		s, ok := st[key(u)]
		if !ok {
			out = append(out, Fidelity{Unit: u.Name, Scope: u.Scope, Kind: FidelityStaticMissed,
				Detail:       "the evaluation has it, the static reader does not",
				StaticReason: missedReason(static)})
			continue
		}
		out = append(out, propertyFidelity(s, u)...)
	}
	for _, u := range static.Units {
		if ev[key(u)] {
			continue
		}
		out = append(out, Fidelity{Unit: u.Name, Scope: u.Scope, Kind: FidelityStaticExtra,
			Detail:       "the static reader declares it, the evaluation does not",
			StaticReason: extraReason(u)})
	}
	return out
}

// missedReason is what the static reader said that may explain a unit it
// missed: its unresolved declarations; else the unit comes from code it
// does not read (a NixOS module, a flake input).
func missedReason(static declared.Result) string {
	var unresolved []string
	for _, u := range static.Unresolved {
		if u.Unit == "" {
			unresolved = append(unresolved, fmt.Sprintf("%s: %s", FileLine(u.File, u.Line), u.Reason))
		}
	}
	switch len(unresolved) {
	case 0:
		return "no declaration in the module files read (a NixOS service module or a flake input defines it)"
	case 1:
		return "unresolved declaration " + unresolved[0]
	}
	return fmt.Sprintf("%d unresolved declarations, e.g. %s", len(unresolved), unresolved[0])
}

func extraReason(u declared.Unit) string {
	switch {
	case u.Conditional:
		return fmt.Sprintf("declared at %s under a condition the static reader cannot evaluate", FileLine(u.File, u.Line))
	case u.ImpliedBy != "":
		return fmt.Sprintf("implied by %s at %s", u.ImpliedBy, FileLine(u.File, u.Line))
	case len(u.Notes) > 0:
		return fmt.Sprintf("declared at %s; %s", FileLine(u.File, u.Line), u.Notes[0])
	}
	return fmt.Sprintf("declared at %s (a file outside the host's configuration?)", FileLine(u.File, u.Line))
}

func propertyFidelity(s, e declared.Unit) []Fidelity {
	var out []Fidelity
	add := func(prop, sv, ev string) {
		out = append(out, Fidelity{Unit: e.Name, Scope: e.Scope, Kind: FidelityProperty,
			Detail: fmt.Sprintf("%s is %s statically, %s evaluated", prop, sv, ev)})
	}
	sp, ep := s.Properties, e.Properties
	if sp.Enable != nil && ep.Enable != nil && *sp.Enable != *ep.Enable {
		add("enable", fmt.Sprint(*sp.Enable), fmt.Sprint(*ep.Enable))
	}
	if len(sp.OnCalendar) > 0 && len(ep.OnCalendar) > 0 && fmt.Sprint(sp.OnCalendar) != fmt.Sprint(ep.OnCalendar) {
		add("OnCalendar", fmt.Sprintf("%q", sp.OnCalendar), fmt.Sprintf("%q", ep.OnCalendar))
	}
	if sp.Description != "" && ep.Description != "" && sp.Description != ep.Description {
		add("description", fmt.Sprintf("%q", sp.Description), fmt.Sprintf("%q", ep.Description))
	}
	return out
}
