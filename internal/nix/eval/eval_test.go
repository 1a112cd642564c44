package eval_test

import (
	"errors"
	"io/fs"
	"sort"
	"strings"
	"testing"

	"github.com/driftcheck/driftcheck/internal/nix/eval"
	"github.com/driftcheck/driftcheck/internal/nix/parser"
)

// mapFiles is a Files over an in-memory tree, as a git revision would be.
type mapFiles map[string]string

func (m mapFiles) ReadFile(p string) ([]byte, error) {
	if s, ok := m[p]; ok {
		return []byte(s), nil
	}
	return nil, fs.ErrNotExist
}

func (m mapFiles) ReadDir(dir string) ([]eval.DirEntry, error) {
	seen := map[string]string{}
	for p := range m {
		rest, ok := strings.CutPrefix(p, dir+"/")
		if !ok {
			continue
		}
		name, _, sub := strings.Cut(rest, "/")
		if sub {
			seen[name] = "directory"
		} else {
			seen[name] = "regular"
		}
	}
	if len(seen) == 0 {
		return nil, errors.New(dir + ": not a directory")
	}
	var out []eval.DirEntry
	for n, t := range seen {
		out = append(out, eval.DirEntry{Name: n, Type: t})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func source(t *testing.T, p, src string) *eval.Source {
	t.Helper()
	f, err := parser.ParseFile(p, []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return &eval.Source{Path: p, AST: f}
}

// str evaluates a file to one constant string, or fails.
func str(t *testing.T, ev *eval.Evaluator, src *eval.Source) string {
	t.Helper()
	vs := ev.File(src)
	if len(vs) != 1 || vs[0].Kind != eval.String {
		t.Fatalf("%s: got %+v, want one string", src.Path, vs)
	}
	return vs[0].Str
}

func TestLanguage(t *testing.T) {
	cases := map[string]string{
		`let a = "x"; b = a + "y"; in b`:                       "xy",
		`rec { a = "1"; b = "${a}2"; }.b`:                      "12",
		`(x: { y }: x + y) "a" { y = "b"; }`:                   "ab",
		`with { n = "w"; }; let m = n; in "${m}!"`:             "w!",
		`if "a" == "a" && !false then "yes" else "no"`:         "yes",
		`({ a.b = "c"; } // { d = 1; }).a.b`:                   "c",
		`let s = { inherit (t) x; }; t = { x = "i"; }; in s.x`: "i",
		`toString 42`: "42",
		`(builtins.listToAttrs [ { name = "k"; value = "v"; } ]).k`: "v",
	}
	for src, want := range cases {
		if got := str(t, eval.New(nil, nil), source(t, "a.nix", src)); got != want {
			t.Errorf("%s = %q, want %q", src, got, want)
		}
	}
}

func TestUnknownSaysWhy(t *testing.T) {
	vs := eval.New(nil, nil).File(source(t, "a.nix", `{ cfg }: "${cfg.name}-x"`))
	if len(vs) != 1 || vs[0].Kind != eval.Lambda {
		t.Fatalf("got %+v, want a lambda", vs)
	}
	vs = eval.New(nil, nil).Eval(vs[0].Fn.Body, nil)
	if len(vs) != 1 || vs[0].Kind != eval.Unknown || !strings.Contains(vs[0].Why, "cfg.name") {
		t.Fatalf("got %+v, want unknown naming cfg.name", vs)
	}
}

func TestBounded(t *testing.T) {
	ev := eval.New(nil, nil)
	vs := ev.File(source(t, "a.nix", `let x = x; in x`))
	if len(vs) != 1 || vs[0].Kind != eval.Unknown || !ev.Hit {
		t.Fatalf("got %+v (hit %v), want an unknown cut short", vs, ev.Hit)
	}
}

func TestImportsThroughFiles(t *testing.T) {
	files := mapFiles{
		"hosts/a/default.nix": `import ../../lib/name.nix { suffix = "a"; }`,
		"lib/name.nix":        `{ suffix }: "host-${suffix}"`,
		"self.nix":            `import ./self.nix`,
		"mods/x.nix":          ``,
		"mods/y/default.nix":  ``,
	}
	ev := eval.New(nil, files)
	if got := str(t, ev, source(t, "top.nix", `import ./hosts/a`)); got != "host-a" {
		t.Errorf("import chain = %q, want host-a", got)
	}
	vs := ev.File(source(t, "self.nix", files["self.nix"]))
	if len(vs) != 1 || vs[0].Kind != eval.Unknown || !strings.Contains(vs[0].Why, "imports itself") {
		t.Errorf("self import = %+v, want unknown: imports itself", vs)
	}
	vs = ev.File(source(t, "top.nix", `import ../outside.nix`))
	if len(vs) != 1 || vs[0].Kind != eval.Unknown {
		t.Errorf("import outside the files = %+v, want unknown", vs)
	}
	vs = ev.File(source(t, "top.nix", `builtins.readDir ./mods`))
	var names []string
	for _, e := range vs[0].Entries {
		typ := eval.New(nil, nil).Force(e.Val)
		names = append(names, e.Key+"="+typ[0].Str)
	}
	if got := strings.Join(names, " "); got != "x.nix=regular y=directory" {
		t.Errorf("readDir = %q", got)
	}
}

func TestWithoutFilesImportsStayUnknown(t *testing.T) {
	vs := eval.New(nil, nil).File(source(t, "top.nix", `import ./x.nix`))
	if len(vs) != 1 || vs[0].Kind != eval.Unknown || vs[0].Why != "computed by import" {
		t.Fatalf("got %+v, want unknown computed by import", vs)
	}
}
