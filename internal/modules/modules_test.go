package modules

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/driftcheck/driftcheck/internal/declared"
	"github.com/driftcheck/driftcheck/internal/gitrev"
	"github.com/driftcheck/driftcheck/internal/gitrev/gittest"
)

func TestExtract(t *testing.T) {
	tests := []struct {
		name       string
		files      []gitrev.File
		wantUnits  []string
		wantErrors []declared.ParseError
	}{
		{
			name:      "nothing",
			files:     nil,
			wantUnits: []string{},
		},
		{
			name: "units from several files",
			files: []gitrev.File{
				{Path: "nix/a.nix", Data: []byte(`{ systemd.services.a = { }; }`)},
				{Path: "nix/b.nix", Data: []byte("{\n  systemd.timers.b = { };\n}\n")},
			},
			wantUnits: []string{"a.service@nix/a.nix:1", "b.timer@nix/b.nix:2"},
		},
		{
			name: "problems and parse errors sorted by file, units of good files kept",
			files: []gitrev.File{
				{Path: "nix/z.nix", Data: []byte("{\n  a = ;\n}\n")},
				{Path: "nix/b.nix", Problem: fmt.Errorf("%w", gitrev.ErrBinary)},
				{Path: "nix/ok.nix", Data: []byte(`{ systemd.services.ok = { }; }`)},
			},
			wantUnits: []string{"ok.service@nix/ok.nix:1"},
			wantErrors: []declared.ParseError{
				{File: "nix/b.nix", Message: gitrev.ErrBinary.Error()},
				{File: "nix/z.nix", Line: 2, Col: 7, Message: "expected expression, found ';'"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Extract(tt.files)
			if res.Units == nil || res.Unresolved == nil || res.Errors == nil {
				t.Fatalf("nil slice in %+v", res)
			}
			units := []string{}
			for _, u := range res.Units {
				units = append(units, fmt.Sprintf("%s@%s:%d", u.Name, u.File, u.Line))
			}
			if diff := cmp.Diff(tt.wantUnits, units); diff != "" {
				t.Errorf("units (-want +got):\n%s", diff)
			}
			want := tt.wantErrors
			if want == nil {
				want = []declared.ParseError{}
			}
			if diff := cmp.Diff(want, res.Errors); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	g := gittest.New(t)
	first := g.Commit("first", map[string]string{"nix/a.nix": `{ systemd.services.a = { }; }`})
	head := g.Commit("second", map[string]string{"nix/a.nix": `{ systemd.services.b = { }; }`, "docs/x.md": "x\n"})
	ctx := context.Background()

	l, err := Load(ctx, where(t, g.Dir))
	if err != nil {
		t.Fatal(err)
	}
	if l.Revision.SHA != head || len(l.Files) != 1 || len(l.Result.Units) != 1 || l.Result.Units[0].Name != "b.service" {
		t.Errorf("default load: rev %s, files %d, units %+v", l.Revision.SHA, len(l.Files), l.Result.Units)
	}

	// Read works on any revision, such as one from History.
	hist, err := l.Repo.History(ctx, l.Revision, l.Globs, 5)
	if err != nil || len(hist) != 2 || hist[1].SHA != first {
		t.Fatalf("history = %v, %v", hist, err)
	}
	_, old, err := Read(ctx, hist[1], l.Globs)
	if err != nil || len(old.Units) != 1 || old.Units[0].Name != "a.service" {
		t.Errorf("units at %s = %+v, %v", first, old.Units, err)
	}

	failures := []struct {
		name string
		o    Options
		want error
		text string
	}{
		{"no match", where(t, g.Dir, "hosts/*.nix"), ErrNoFiles, "no module files match hosts/*.nix at " + head[:12]},
		{"only docs", where(t, g.Dir, "docs/*.nix"), ErrNoFiles, ""},
		{"unknown rev", Options{Repo: g.Dir, Rev: "nope", Globs: where(t, g.Dir).Globs}, gitrev.ErrUnknownRevision, `unknown revision "nope"`},
		{"not a repository", where(t, t.TempDir()), gitrev.ErrNotRepository, ""},
		// Globs are parsed where the flag is (a bad --modules is the
		// command's error); Load defaults nothing.
		{"no globs", Options{Repo: g.Dir, Rev: "HEAD"}, nil, "no module globs given"},
		{"no revision", Options{Repo: g.Dir, Globs: where(t, g.Dir).Globs}, nil, "no repository or revision given"},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(ctx, tt.o)
			if err == nil || tt.want != nil && !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.text) {
				t.Errorf("Load error = %v, want %v containing %q", err, tt.want, tt.text)
			}
		})
	}
}

// where is Options as the command's flags default them: HEAD and, without
// patterns, gitrev.DefaultModuleGlob.
func where(t testing.TB, dir string, patterns ...string) Options {
	t.Helper()
	if len(patterns) == 0 {
		patterns = []string{gitrev.DefaultModuleGlob}
	}
	globs, err := gitrev.ParseGlobs(patterns)
	if err != nil {
		t.Fatal(err)
	}
	return Options{Repo: dir, Rev: "HEAD", Globs: globs}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestUnitsReportWriteError(t *testing.T) {
	r := UnitsReport{Rev: strings.Repeat("a", 40), Files: 1, Result: Extract([]gitrev.File{
		{Path: "nix/a.nix", Data: []byte(`{ systemd.services.a = { }; }`)},
	})}
	for name, write := range map[string]func() error{
		"text": func() error { return r.WriteText(failingWriter{}) },
		"json": func() error { return r.WriteJSON(failingWriter{}) },
	} {
		if err := write(); err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("%s: error = %v, want the write error", name, err)
		}
	}
}

// TestLoadParallelDeterministic loads a repository of many modules (with
// parse errors, problems and imports among them) on one core and on
// several: the result, order included, is the same.
func TestLoadParallelDeterministic(t *testing.T) {
	g := gittest.New(t)
	files := map[string]string{}
	for i := range 150 {
		p := fmt.Sprintf("nix/m%03d.nix", i)
		switch i % 10 {
		case 3:
			files[p] = fmt.Sprintf("{ systemd.services.s%d = ; }\n", i) // does not parse
		case 5:
			files[p] = "{ \x00 }\n" // binary
		case 7:
			files[p] = fmt.Sprintf("{ imports = [ ../extra/e%d.nix ]; }\n", i)
			files[fmt.Sprintf("extra/e%d.nix", i)] = fmt.Sprintf("{ systemd.timers.t%d = { }; }\n", i)
		default:
			files[p] = fmt.Sprintf("{ lib, ... }: {\n  systemd.services.s%d = { };\n  systemd.services.shared.wantedBy = [ \"x%d\" ];\n}\n", i, i)
		}
	}
	g.Commit("many", files)
	ctx := context.Background()
	load := func(procs int) *Loaded {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		l, err := Load(ctx, where(t, g.Dir))
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	one := load(1)
	if len(one.Files) != 165 || len(one.Result.Units) < 100 || len(one.Result.Errors) != 30 {
		t.Fatalf("one core: %d files, %d units, %d errors", len(one.Files), len(one.Result.Units), len(one.Result.Errors))
	}
	for range 3 {
		many := load(8)
		if diff := cmp.Diff(one.Result, many.Result); diff != "" {
			t.Fatalf("8 workers differ from one (-one +many):\n%s", diff)
		}
		for i := range one.Files {
			if one.Files[i].Path != many.Files[i].Path {
				t.Fatalf("file %d: %s on one core, %s on many", i, one.Files[i].Path, many.Files[i].Path)
			}
		}
	}
}
