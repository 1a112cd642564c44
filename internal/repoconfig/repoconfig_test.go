package repoconfig

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/driftcheck/driftcheck/internal/gitrev"
	"github.com/driftcheck/driftcheck/internal/gitrev/gittest"
)

// Issue 8: {"scpoe": [...]} silently meant "no scope". Every key is known
// or an error that names it.
func TestParseRejectsUnknownKeys(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Config
		wantErr string
	}{
		{"everything", `{"scope":["ci-*"],"lint":{"ignore_docs":["docs/**"],"known_units":["a.service"]}}`,
			Config{Scope: []string{"ci-*"}, Lint: Lint{IgnoreDocs: []string{"docs/**"}, KnownUnits: []string{"a.service"}}}, ""},
		{"empty", `{}`, Config{}, ""},
		{"misspelt top-level key", `{"scpoe":["ci-*"]}`, Config{}, `unknown key "scpoe"`},
		{"misspelt lint key", `{"lint":{"ignore_doc":["x"]}}`, Config{}, `unknown key "ignore_doc"`},
		{"a key of no command", `{"modules":["nix/**/*.nix"]}`, Config{}, `unknown key "modules"`},
		{"second document", `{"scope":["a*"]} {"scope":["b*"]}`, Config{}, "data after the top-level object"},
		{"not an object", `["ci-*"]`, Config{}, "parse .driftcheck.json"},
		{"wrong type", `{"scope":"ci-*"}`, Config{}, "parse .driftcheck.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("err = %v, want one line containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestRead(t *testing.T) {
	g := gittest.New(t)
	without := g.Commit("no config", map[string]string{"nix/a.nix": "{ }\n"})
	with := g.Commit("config", map[string]string{File: `{"scope":["ci-*"]}`})
	repo, err := gitrev.Open(g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for rev, want := range map[string]bool{without: false, with: true} {
		v, err := repo.Resolve(ctx, rev)
		if err != nil {
			t.Fatal(err)
		}
		cfg, found, err := Read(ctx, v)
		if err != nil || found != want || (found && cfg.Scope[0] != "ci-*") {
			t.Errorf("Read at %.7s = %+v, %v, %v; want found %v", rev, cfg, found, err, want)
		}
	}
}
