package drift

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

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
