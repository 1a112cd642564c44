package unitdiff

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/driftcheck/driftcheck/internal/declared"
)

func TestCompareFidelity(t *testing.T) {
	yes, no := true, false
	static := declared.Result{
		Units: []declared.Unit{
			{Name: "api.service", Scope: declared.ScopeSystem, File: "web.nix", Line: 3, Properties: declared.Properties{Enable: &yes, Description: "API"}},
			{Name: "backup.timer", Scope: declared.ScopeSystem, File: "web.nix", Line: 9, Properties: declared.Properties{OnCalendar: []string{"daily"}}},
			{Name: "rotate.timer", Scope: declared.ScopeSystem, File: "web.nix", Line: 12, Conditional: true},
			{Name: "sync.service", Scope: declared.ScopeUser, File: "home.nix", Line: 2},
		},
		Unresolved: []declared.Unresolved{{File: "web.nix", Line: 20, Reason: `computed unit name "job-${n}"`}},
	}
	evaluated := declared.Result{Units: []declared.Unit{
		{Name: "api.service", Scope: declared.ScopeSystem, Properties: declared.Properties{Enable: &no, Description: "API"}},
		{Name: "backup.timer", Scope: declared.ScopeSystem, Properties: declared.Properties{OnCalendar: []string{"weekly"}}},
		{Name: "job-a.service", Scope: declared.ScopeSystem},
		{Name: "sync.service", Scope: declared.ScopeUser},
	}}
	got := CompareFidelity(static, evaluated)
	var kinds []string
	for _, f := range got {
		kinds = append(kinds, f.Kind+" "+f.Unit)
	}
	want := []string{"property api.service", "property backup.timer", "static-missed job-a.service", "static-extra rotate.timer"}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Fatalf("fidelity (-want +got):\n%s", diff)
	}
	for i, w := range []string{"enable is true statically, false evaluated", `OnCalendar is ["daily"] statically, ["weekly"] evaluated`} {
		if got[i].Detail != w {
			t.Errorf("%s: detail %q, want %q", got[i].Unit, got[i].Detail, w)
		}
	}
	if r := got[2].StaticReason; !strings.Contains(r, "web.nix:20") || !strings.Contains(r, "job-${n}") {
		t.Errorf("missed reason %q: want the unresolved declaration", r)
	}
	if r := got[3].StaticReason; !strings.Contains(r, "web.nix:12") || !strings.Contains(r, "condition") {
		t.Errorf("extra reason %q: want the condition's site", r)
	}
	if len(CompareFidelity(evaluated, evaluated)) != 0 {
		t.Error("a result disagrees with itself")
	}
}

func TestToplevelFinding(t *testing.T) {
	a, b := "/nix/store/aaaa-nixos-system-web", "/nix/store/bbbb-nixos-system-web"
	cases := []struct {
		name     string
		top      Toplevel
		severity Severity // "" = no finding
		detail   []string
	}{
		{"equal", Toplevel{Revision: a, Host: a, Compared: true}, "", nil},
		{"not compared", Toplevel{Revision: a}, "", nil},
		{"different", Toplevel{Revision: a, Host: b, Compared: true}, SeverityWarning, []string{a, b}},
		{"does not evaluate", Toplevel{Error: "conflicting definition values", Host: b, Compared: true}, SeverityIncomplete, []string{"does not evaluate", "conflicting definition values"}},
	}
	for _, c := range cases {
		var got []Finding
		for _, f := range Compare(Input{Rev: "0123456789abcdef", Hygiene: Hygiene{Toplevel: c.top}}) {
			if f.Kind == KindToplevel {
				got = append(got, f)
			}
		}
		if c.severity == "" {
			if len(got) != 0 {
				t.Errorf("%s: %+v, want no finding", c.name, got)
			}
			continue
		}
		if len(got) != 1 || got[0].Severity != c.severity {
			t.Errorf("%s: %+v, want one %s finding", c.name, got, c.severity)
			continue
		}
		for _, w := range c.detail {
			if !strings.Contains(got[0].Detail, w) {
				t.Errorf("%s: detail %q lacks %q", c.name, got[0].Detail, w)
			}
		}
	}
	strictDrift := Verdict([]Finding{{Kind: KindToplevel, Severity: SeverityWarning}}, true)
	if strictDrift != VerdictDrift {
		t.Errorf("a toplevel warning under --strict: %s, want drift", strictDrift)
	}
}
