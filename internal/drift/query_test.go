package drift

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/driftcheck/driftcheck/internal/declared"
	"github.com/driftcheck/driftcheck/internal/unitdiff"
)

func TestLiveQuery(t *testing.T) {
	in := unitdiff.Input{
		Scope: []string{"ci-*"},
		Declared: declared.Result{Units: []declared.Unit{
			{Name: "docker-prune.timer", Scope: declared.ScopeSystem},
			{Name: "docker-prune.service", Scope: declared.ScopeSystem},
			{Name: "ab.service", Scope: declared.ScopeSystem},     // too short to probe
			{Name: `x\x2dy.service`, Scope: declared.ScopeSystem}, // glob metacharacter: no probe
			{Name: "sync.service", Scope: declared.ScopeUser},     // user units are not read
		}},
		History: []unitdiff.Revision{{Units: []declared.Unit{{Name: "old.service"}, {Name: "docker-prune.timer"}}}},
	}
	q := liveQuery(in)
	if diff := cmp.Diff([]string{"ab.service", "docker-prune.service", "docker-prune.timer", "old.service", `x\x2dy.service`}, q.Names); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"*docker-prune*.service", "*docker-prune*.timer", "ci-*"}, q.ScopeGlobs); diff != "" {
		t.Errorf("globs (-want +got):\n%s", diff)
	}
}

func TestParseScope(t *testing.T) {
	tests := []struct {
		data    string
		want    []string
		wantErr bool
	}{
		{`{"scope":["ci-*","docker-*"]}`, []string{"ci-*", "docker-*"}, false},
		{`{"lint":{"ignore_docs":["x"]}}`, nil, false},
		{`{"scope":["["]}`, nil, true},
		{`{"scope":[""]}`, nil, true},
		{`{"scope":"ci-*"}`, nil, true},
		{`not json`, nil, true},
		{`{"scpoe":["ci-*"]}`, nil, true}, // issue 8: a misspelt key is not "no scope"
	}
	for _, tc := range tests {
		got, err := parseScope([]byte(tc.data))
		if (err != nil) != tc.wantErr {
			t.Errorf("parseScope(%s) error = %v, wantErr %v", tc.data, err, tc.wantErr)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("parseScope(%s) (-want +got):\n%s", tc.data, diff)
		}
	}
}
