package unitdiff

import (
	"path"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/driftcheck/driftcheck/internal/declared"
)

func TestLiveQuery(t *testing.T) {
	in := Input{
		Scope: []string{"ci-*"},
		Declared: declared.Result{Units: []declared.Unit{
			{Name: "docker-prune.timer", Scope: declared.ScopeSystem},
			{Name: "docker-prune.service", Scope: declared.ScopeSystem},
			{Name: "ab.service", Scope: declared.ScopeSystem},     // too short to probe
			{Name: `x\x2dy.service`, Scope: declared.ScopeSystem}, // glob metacharacter: no probe
			{Name: "sync.service", Scope: declared.ScopeUser},     // user units are not read
		}},
		History: []Revision{{Units: []declared.Unit{{Name: "old.service"}, {Name: "docker-prune.timer"}}}},
	}
	q := LiveQuery(in)
	if diff := cmp.Diff([]string{"ab.service", "docker-prune.service", "docker-prune.timer", "old.service", `x\x2dy.service`}, q.Names); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	want := []string{"*docker-prune*.service", "*docker-prune*.timer", "ci-*",
		"docker.service", "docker.timer", "prune.service", "prune.timer"}
	if diff := cmp.Diff(want, q.ScopeGlobs); diff != "" {
		t.Errorf("globs (-want +got):\n%s", diff)
	}
}

// Issue 9.5: the probe set and the pairing are decided in one place. Every
// live name the pairing accepts by containment, either way, is listed by a
// probe of the declared name; a shortened rename (declared
// ci-docker-prune.timer, host docker-prune.timer) was found over D-Bus only
// when the scope covered it.
func TestRenameProbesListWhatThePairingAccepts(t *testing.T) {
	cases := []struct{ declared, live string }{
		{"docker-prune.timer", "ci-docker-prune.timer"},
		{"ci-docker-prune.timer", "docker-prune.timer"},
		{"ci-docker-prune.service", "docker-prune.service"},
		{"backup-offsite@daily.service", "backup-offsite.service"},
		{"nightly-db-backup.timer", "db-backup.timer"},
	}
	for _, c := range cases {
		if _, ok := renameScore(c.declared, c.live); !ok {
			t.Fatalf("%s -> %s: the pairing does not accept it; the case is wrong", c.declared, c.live)
		}
		q := LiveQuery(Input{Declared: declared.Result{Units: []declared.Unit{{Name: c.declared, Scope: declared.ScopeSystem}}}})
		if !slices.ContainsFunc(q.ScopeGlobs, func(g string) bool { ok, _ := path.Match(g, c.live); return ok }) {
			t.Errorf("%s -> %s: no probe in %q lists the renamed unit", c.declared, c.live, q.ScopeGlobs)
		}
	}
}
