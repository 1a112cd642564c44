package lint

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/driftcheck/driftcheck/internal/declared"
)

func yes() *bool { t := true; return &t }
func no() *bool  { f := false; return &f }

func unit(name string, sites ...declared.Site) declared.Unit {
	u := declared.Unit{Name: name, Type: name[strings.LastIndexByte(name, '.')+1:], Scope: declared.ScopeSystem, Sites: sites}
	if len(sites) > 0 {
		u.File, u.Line = sites[0].File, sites[0].Line
	}
	return u
}

// site declares properties at file:line, plainly (priority 100,
// unconditional), as the extractor records them.
func site(file string, line int, p declared.Properties) declared.Site {
	s := declared.Site{File: file, Line: line, Properties: p, Settings: map[string]declared.Setting{}}
	set := func(name string, isSet bool) {
		if isSet {
			s.Settings[name] = declared.Setting{Line: line, Priority: 100}
		}
	}
	set("Type", p.Type != "")
	set("Description", p.Description != "")
	set("Unit", p.Unit != "")
	set("OnCalendar", p.OnCalendar != nil)
	set("WantedBy", p.WantedBy != nil)
	set("Enable", p.Enable != nil)
	set("Persistent", p.Persistent != nil)
	return s
}

func implied(file string, line int, by string) declared.Site {
	return declared.Site{File: file, Line: line, ImpliedBy: by}
}

func TestRunDeclarationChecks(t *testing.T) {
	tests := []struct {
		name string
		res  declared.Result
		want []Finding
	}{
		{
			name: "clean",
			res: declared.Result{Units: []declared.Unit{
				unit("ci-docker-prune.service", site("m.nix", 3, declared.Properties{Type: "oneshot"})),
			}},
			want: nil,
		},
		{
			name: "parse error and unresolved",
			res: declared.Result{
				Errors:     []declared.ParseError{{File: "bad.nix", Line: 4, Col: 7, Message: "unexpected '}'"}},
				Unresolved: []declared.Unresolved{{File: "a.nix", Line: 9, Reason: "unit name computed by mapAttrs'"}},
			},
			want: []Finding{
				{Kind: KindUnresolved, File: "a.nix", Line: 9, Message: "cannot resolve statically: unit name computed by mapAttrs'"},
				{Kind: KindParseError, File: "bad.nix", Line: 4, Col: 7, Message: "does not parse: unexpected '}'"},
			},
		},
		{
			name: "conflicting type across files",
			res: declared.Result{Units: []declared.Unit{
				unit("ci-docker-prune.service",
					site("a.nix", 3, declared.Properties{Type: "oneshot"}),
					site("b.nix", 7, declared.Properties{Type: "simple", Description: "x"})),
			}},
			want: []Finding{{Kind: KindConflict, File: "b.nix", Line: 7, Unit: "ci-docker-prune.service",
				Message: `ci-docker-prune.service: Type is "simple" here but "oneshot" at a.nix:3`}},
		},
		{
			name: "partial overrides that agree are no conflict",
			res: declared.Result{Units: []declared.Unit{
				unit("ci-docker-prune.timer",
					site("a.nix", 3, declared.Properties{OnCalendar: []string{"daily"}, Persistent: yes()}),
					site("a.nix", 9, declared.Properties{Persistent: yes(), WantedBy: []string{"timers.target"}})),
			}},
			want: nil,
		},
		{
			name: "a conditional or lower-priority definition is no conflict",
			res: declared.Result{Units: []declared.Unit{
				unit("x.service",
					site("a.nix", 3, declared.Properties{Type: "oneshot"}),
					declared.Site{File: "a.nix", Line: 9, Properties: declared.Properties{Type: "simple"},
						Settings: map[string]declared.Setting{"Type": {Line: 9, Priority: 1000}}},
					declared.Site{File: "b.nix", Line: 2, Properties: declared.Properties{Type: "notify"},
						Settings: map[string]declared.Setting{"Type": {Line: 2, Priority: 100, Conditional: true}}}),
			}},
			want: nil,
		},
		{
			name: "enable and schedule differ",
			res: declared.Result{Units: []declared.Unit{
				unit("x.timer",
					site("a.nix", 3, declared.Properties{OnCalendar: []string{"daily"}, Enable: yes()}),
					site("a.nix", 9, declared.Properties{OnCalendar: []string{"weekly"}, Enable: no()})),
			}},
			want: []Finding{
				{Kind: KindConflict, File: "a.nix", Line: 9, Unit: "x.timer", Message: `x.timer: OnCalendar is ["weekly"] here but ["daily"] at a.nix:3`},
				{Kind: KindConflict, File: "a.nix", Line: 9, Unit: "x.timer", Message: `x.timer: Enable is false here but true at a.nix:3`},
			},
		},
		{
			name: "the incident: docker-prune declared while docker implies it",
			res: declared.Result{Units: []declared.Unit{
				unit("docker-prune.service",
					implied("nix/modules/docker-prune.nix", 3, "virtualisation.docker.enable"),
					site("nix/modules/docker-prune.nix", 4, declared.Properties{Type: "oneshot"})),
				unit("docker-prune.timer", site("nix/modules/docker-prune.nix", 8, declared.Properties{OnCalendar: []string{"daily"}})),
			}},
			want: []Finding{
				{Kind: KindCollision, File: "nix/modules/docker-prune.nix", Line: 4, Unit: "docker-prune.service",
					Message: "docker-prune.service is also defined by NixOS while virtualisation.docker.enable is set; the definitions merge (the stock prune runs first, or evaluation fails): rename the unit, e.g. ci-docker-prune.service"},
				{Kind: KindCollision, File: "nix/modules/docker-prune.nix", Line: 8, Unit: "docker-prune.timer",
					Message: "docker-prune.timer is also defined by NixOS while virtualisation.docker.enable is set; the definitions merge (the stock prune runs first, or evaluation fails): rename the unit, e.g. ci-docker-prune.timer"},
			},
		},
		{
			name: "stock docker-prune alone is no collision",
			res: declared.Result{Units: []declared.Unit{
				{Name: "docker-prune.service", Type: "service", File: "host.nix", Line: 2, ImpliedBy: "virtualisation.docker.enable",
					Sites: []declared.Site{implied("host.nix", 2, "virtualisation.docker.enable")}},
				unit("ci-docker-prune.service", site("m.nix", 4, declared.Properties{})),
			}},
			want: nil,
		},
		{
			name: "docker-prune without docker is no collision",
			res: declared.Result{Units: []declared.Unit{
				unit("docker-prune.service", site("m.nix", 4, declared.Properties{})),
			}},
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Run(Input{Declared: tt.res})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Run() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDocChecks(t *testing.T) {
	declaredUnits := []declared.Unit{
		unit("ci-docker-prune.service", declared.Site{File: "m.nix", Line: 3}),
		unit("ci-docker-prune.timer", declared.Site{File: "m.nix", Line: 9}),
		unit("worker@.service", declared.Site{File: "w.nix", Line: 1}),
		{Name: "docker-prune.service", Type: "service", File: "h.nix", Line: 1, ImpliedBy: "virtualisation.docker.enable"},
	}
	type ref struct {
		line int
		unit string
	}
	tests := []struct {
		name string
		path string
		doc  string
		cfg  Config
		want []ref
	}{
		{
			name: "stale name in a fenced systemctl command",
			path: "README.md",
			doc:  "# Verify\n\n```sh\nsystemctl list-timers docker-prune.timer\nsystemctl status ci-docker-prune.service\n```\n",
			want: []ref{{4, "docker-prune.timer"}},
		},
		{
			name: "inline code spans and journalctl in prose",
			path: "docs/ops.md",
			doc:  "The timer `ci-docker-prune.timer` starts `old-prune.service`.\nRun journalctl -u gone.service to see it.\nPlain prose about foo.service is not code.\n",
			want: []ref{{1, "old-prune.service"}, {2, "gone.service"}},
		},
		{
			name: "well-known, implied, template instances, globs and sentence dots",
			path: "a.md",
			doc:  "`docker.service`, `multi-user.target`, `systemd-journald.service`, `docker-prune.service`,\n`worker@7.service`, `getty@tty1.service`, `ci-docker-prune.*`, `*.service`, `/etc/systemd/system/late.timer`.\n",
			want: []ref{{2, "late.timer"}},
		},
		{
			name: "fenced block lines without a command are not references",
			path: "a.md",
			doc:  "```nix\nsystemd.services.\"other.service\" = {};\n```\n",
			want: nil,
		},
		{
			name: "ignore markers: same line, next line, next block, region, file",
			path: "a.md",
			doc: "`a.service` <!-- driftcheck-lint: ignore -->\n" +
				"<!-- driftcheck-lint: ignore -->\n\n`b.service`\n" +
				"<!-- driftcheck-lint: ignore -->\n```\nsystemctl start c.service\nsystemctl start d.service\n```\n" +
				"<!-- driftcheck-lint: off -->\n`e.service`\n<!-- driftcheck-lint: on -->\n" +
				"`f.service`\n",
			want: []ref{{13, "f.service"}},
		},
		{
			name: "ignore-file marker",
			path: "a.md",
			doc:  "<!-- driftcheck-lint: ignore-file -->\n`a.service`\n",
			want: nil,
		},
		{
			name: "config ignores docs by glob and admits known units",
			path: "docs/history/2024.md",
			doc:  "`a.service`\n",
			cfg:  Config{IgnoreDocs: []string{"docs/history/**"}},
			want: nil,
		},
		{
			name: "known_units",
			path: "docs/x.md",
			doc:  "`other-repo.service` and `b.timer`\n",
			cfg:  Config{KnownUnits: []string{"other-repo.service"}},
			want: []ref{{1, "b.timer"}},
		},
		{
			name: "a longer fence shows a shorter one inside",
			path: "a.md",
			doc:  "````markdown\n```sh\nsystemctl start inner.service\n```\n````\n`after.service`\n",
			want: []ref{{3, "inner.service"}, {6, "after.service"}},
		},
		{
			name: "markers shown as code do not count",
			path: "a.md",
			doc: "Write `<!-- driftcheck-lint: ignore-file -->` to skip a file.\n" +
				"```\n<!-- driftcheck-lint: off -->\n```\n" +
				"`shown.service`\n",
			want: []ref{{5, "shown.service"}},
		},
		{
			name: "tilde fences",
			path: "a.md",
			doc:  "~~~\n`not-code-span.service`\njournalctl -u t.service\n~~~\n",
			want: []ref{{3, "t.service"}},
		},
		{
			name: "each name once per line",
			path: "x.md",
			doc:  "systemctl start `a.service` a.service\n",
			want: []ref{{1, "a.service"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := Run(Input{
				Declared: declared.Result{Units: declaredUnits},
				Docs:     []Doc{{Path: tt.path, Content: []byte(tt.doc)}},
				Config:   tt.cfg,
			})
			var got []ref
			for _, f := range fs {
				if f.Kind != KindDocUndeclared || f.File != tt.path {
					t.Errorf("unexpected finding %+v", f)
				}
				got = append(got, ref{f.Line, f.Unit})
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(ref{})); diff != "" {
				t.Errorf("doc references mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDocFindingSuggestsRenamedUnit(t *testing.T) {
	fs := Run(Input{
		Declared: declared.Result{Units: []declared.Unit{unit("ci-docker-prune.timer", declared.Site{File: "m.nix", Line: 1})}},
		Docs:     []Doc{{Path: "README.md", Content: []byte("systemctl list-timers docker-prune.timer\n")}},
	})
	if len(fs) != 1 {
		t.Fatalf("got %d findings, want 1: %+v", len(fs), fs)
	}
	want := "names docker-prune.timer, which this revision does not declare (declared: ci-docker-prune.timer)"
	if fs[0].Message != want {
		t.Errorf("message = %q, want %q", fs[0].Message, want)
	}
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Config
		wantErr string
	}{
		{"other sections ignored", `{"scope":["ci-*"],"lint":{"ignore_docs":["docs/**"],"known_units":["a.service"]}}`,
			Config{IgnoreDocs: []string{"docs/**"}, KnownUnits: []string{"a.service"}}, ""},
		{"no lint section", `{}`, Config{}, ""},
		{"not json", `{`, Config{}, "parse .driftcheck.json"},
		{"bad glob", `{"lint":{"ignore_docs":["docs/[.md"]}}`, Config{}, "bad glob"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseConfig([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMatchGlob(t *testing.T) {
	tests := []struct {
		pattern, path string
		want          bool
	}{
		{"docs/**", "docs/a.md", true},
		{"docs/**", "docs/x/y/a.md", true},
		{"docs/**", "README.md", false},
		{"**/*.md", "README.md", true},
		{"**/*.md", "a/b/c.md", true},
		{"docs/*.md", "docs/x/a.md", false},
		{"README.md", "README.md", true},
		{"examples/**/README.md", "examples/incident/README.md", true},
	}
	for _, tt := range tests {
		if got := MatchGlob(tt.pattern, tt.path); got != tt.want {
			t.Errorf("MatchGlob(%q, %q) = %v, want %v", tt.pattern, tt.path, got, tt.want)
		}
	}
}
