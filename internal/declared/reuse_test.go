package declared

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/driftcheck/driftcheck/internal/nix/ast"
	"github.com/driftcheck/driftcheck/internal/nix/parser"
	"github.com/driftcheck/driftcheck/internal/testreq"
)

// walk reads revisions one after another as the history walk does,
// reusing per-file results, and checks every revision's Result against
// an extraction without reuse. Trees are shared by path and source, as
// modules.ParseCache shares them by path and blob.
type walk struct {
	t       testing.TB
	trees   map[[2]string]*ast.File
	mu      sync.Mutex
	results map[bool]map[*ast.File]*FileResult // by everyFile, by tree
	reused  int                                // files reused, over all revisions
	reread  int                                // files offered a result that did not hold
}

func newWalk(t testing.TB) *walk {
	return &walk{t: t, trees: map[[2]string]*ast.File{},
		results: map[bool]map[*ast.File]*FileResult{false: {}, true: {}}}
}

// sources parses a revision: files by path, in path order. A source
// that does not parse is a file with no tree, as modules passes it.
func (w *walk) sources(rev map[string]string) []SourceFile {
	var out []SourceFile
	for _, path := range slices.Sorted(maps.Keys(rev)) {
		k := [2]string{path, rev[path]}
		tree, ok := w.trees[k]
		if !ok {
			tree, _ = parser.ParseFile(path, []byte(rev[path]))
			w.trees[k] = tree
		}
		out = append(out, SourceFile{Path: path, AST: tree})
	}
	return out
}

// read reads one revision in both modes, reusing what earlier revisions
// gave, and fails the test where the Result differs from Extract's or
// ExtractEveryFile's.
func (w *walk) read(name string, rev map[string]string) {
	w.t.Helper()
	w.check(name, w.sources(rev), fresh(w.sources(rev)))
}

// fresh is what reading files gives without reuse, by everyFile.
func fresh(files []SourceFile) map[bool]Result {
	return map[bool]Result{false: Extract(files), true: ExtractEveryFile(files)}
}

// check is read with the fresh Results known.
func (w *walk) check(name string, files []SourceFile, fresh map[bool]Result) {
	w.t.Helper()
	for _, everyFile := range []bool{false, true} {
		want := fresh[everyFile]
		got := w.extract(files, everyFile)
		if diff := cmp.Diff(want, got); diff != "" {
			w.t.Errorf("%s (every file %v): reusing earlier results differs from reading every file (-want +got):\n%s", name, everyFile, diff)
		}
	}
}

// extract is ExtractReusing through the walk's results; safe for
// concurrent use.
func (w *walk) extract(files []SourceFile, everyFile bool) Result {
	earlier := make([]*FileResult, len(files))
	w.mu.Lock()
	for i, f := range files {
		earlier[i] = w.results[everyFile][f.AST]
	}
	w.mu.Unlock()
	res, now := ExtractReusing(files, everyFile, earlier)
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, r := range now {
		switch {
		case r != nil && r == earlier[i]:
			w.reused++
		case earlier[i] != nil:
			w.reread++
		}
		if r != nil {
			w.results[everyFile][files[i].AST] = r
		}
	}
	return res
}

const (
	walkDecl = `{ lib, ... }:
{
  options.walk = {
    name = lib.mkOption { type = lib.types.str; default = "alpha"; };
    enable = lib.mkEnableOption "walk";
    dates = lib.mkOption { default = "daily"; };
  };
}`
	walkReader = `{ config, lib, ... }:
{
  systemd.services.${config.walk.name} = {
    script = "true";
    startAt = config.walk.dates;
  };
  systemd.services.gated = lib.mkIf config.walk.enable { script = "gated"; };
}`
	fooUnit = "{ systemd.services.foo = { script = \"foo\"; wantedBy = [ \"multi-user.target\" ]; }; }"
	barUnit = "{ systemd.services.bar.serviceConfig.ExecStart = \"bar\"; }"
)

// TestExtractReusingMerge: a revision read with the per-file results of
// an earlier one gives exactly the Result of reading it afresh, whatever
// changed between them; files whose reading cannot have changed are
// reused, the others read again.
func TestExtractReusingMerge(t *testing.T) {
	cases := []struct {
		name       string
		revs       []map[string]string
		wantReused int // over the revisions after the first, both modes
		wantReread int // files offered a result that did not hold
	}{
		{
			name: "an edited file is read again, the others reused",
			revs: []map[string]string{
				{"a.nix": fooUnit, "b.nix": barUnit},
				{"a.nix": fooUnit, "b.nix": barUnit + "\n# edit\n"},
			},
			wantReused: 2,
		},
		{
			name: "a file added before the others: sites keep path order",
			revs: []map[string]string{
				{"b.nix": fooUnit, "c.nix": "{ systemd.services.foo.wantedBy = [ \"x.target\" ]; }"},
				{"a.nix": "{ systemd.services.foo.description = \"first\"; }", "b.nix": fooUnit,
					"c.nix": "{ systemd.services.foo.wantedBy = [ \"x.target\" ]; }"},
			},
			wantReused: 4,
		},
		{
			name: "a file removed",
			revs: []map[string]string{
				{"a.nix": fooUnit, "b.nix": barUnit, "c.nix": "{ systemd.services.foo.enable = false; }"},
				{"a.nix": fooUnit, "b.nix": barUnit},
			},
			wantReused: 4,
		},
		{
			name: "an option another file reads is set to another value: the unit is renamed",
			revs: []map[string]string{
				{"decl.nix": walkDecl, "reader.nix": walkReader, "setter.nix": `{ walk.name = "beta"; }`},
				{"decl.nix": walkDecl, "reader.nix": walkReader, "setter.nix": `{ walk.name = "gamma"; }`},
			},
			wantReused: 2, // decl.nix
			wantReread: 2, // reader.nix, in both modes
		},
		{
			name: "an option definition moves to another file",
			revs: []map[string]string{
				{"decl.nix": walkDecl, "reader.nix": walkReader, "setter.nix": `{ walk.name = "beta"; }`, "zother.nix": "{ }"},
				{"decl.nix": walkDecl, "reader.nix": walkReader, "setter.nix": "{ }", "zother.nix": `{ walk.name = "beta"; }`},
			},
		},
		{
			name: "a condition decided by another file",
			revs: []map[string]string{
				{"decl.nix": walkDecl, "reader.nix": walkReader, "setter.nix": "{ }"},
				{"decl.nix": walkDecl, "reader.nix": walkReader, "setter.nix": "{ walk.enable = true; }"},
				{"decl.nix": walkDecl, "reader.nix": walkReader, "setter.nix": "{ lib, ... }: { walk.enable = lib.mkForce false; }"},
			},
		},
		{
			name: "the option's default changes",
			revs: []map[string]string{
				{"decl.nix": walkDecl, "reader.nix": walkReader},
				{"decl.nix": strings.Replace(walkDecl, `"alpha"`, `"omega"`, 1), "reader.nix": walkReader},
			},
		},
		{
			name: "the declaring file goes away, then comes back twice",
			revs: []map[string]string{
				{"decl.nix": walkDecl, "reader.nix": walkReader},
				{"reader.nix": walkReader},
				{"decl.nix": walkDecl, "decl2.nix": walkDecl, "reader.nix": walkReader},
				{"decl.nix": walkDecl, "reader.nix": walkReader},
			},
		},
		{
			name: "an unrelated file changes: the reader's reads replay and it is reused",
			revs: []map[string]string{
				{"decl.nix": walkDecl, "reader.nix": walkReader, "setter.nix": `{ walk.name = "beta"; }`, "x.nix": fooUnit},
				{"decl.nix": walkDecl, "reader.nix": walkReader, "setter.nix": `{ walk.name = "beta"; }`, "x.nix": barUnit},
			},
			wantReused: 6,
		},
		{
			name: "docker implications set across files",
			revs: []map[string]string{
				{"a.nix": "{ virtualisation.docker.enable = true; }", "b.nix": `{ virtualisation.docker.autoPrune = { enable = true; dates = [ "daily" ]; }; }`},
				{"a.nix": "{ virtualisation.docker.enable = true; }", "b.nix": `{ virtualisation.docker.autoPrune = { enable = true; dates = [ "weekly" ]; }; }`},
				{"a.nix": "{ lib, ... }: { virtualisation.docker.enable = lib.mkForce false; }", "b.nix": `{ virtualisation.docker.autoPrune = { enable = true; dates = [ "weekly" ]; }; }`},
			},
		},
		{
			name: "docker enabled by an option another file declares",
			revs: []map[string]string{
				{"decl.nix": walkDecl, "a.nix": "{ config, ... }: { virtualisation.docker.enable = config.walk.enable; }", "s.nix": "{ walk.enable = true; }"},
				{"decl.nix": walkDecl, "a.nix": "{ config, ... }: { virtualisation.docker.enable = config.walk.enable; }", "s.nix": "{ walk.enable = false; }"},
			},
		},
		{
			name: "startAt in another file than the service",
			revs: []map[string]string{
				{"a.nix": fooUnit, "b.nix": `{ systemd.services.foo.startAt = "daily"; }`},
				{"a.nix": fooUnit, "b.nix": `{ lib, ... }: { systemd.services.foo.startAt = lib.mkForce [ ]; }`},
			},
		},
		{
			name: "home-manager user units",
			revs: []map[string]string{
				{"a.nix": `{ home-manager.users.alice.systemd.user.services.sync.Service.ExecStart = "x"; }`, "b.nix": fooUnit},
				{"a.nix": `{ home-manager.users.alice.systemd.user.services.sync.Service.ExecStart = "x"; }`, "b.nix": barUnit},
			},
			wantReused: 2,
		},
		{
			name: "a file that does not parse",
			revs: []map[string]string{
				{"a.nix": fooUnit, "b.nix": "{ broken"},
				{"a.nix": fooUnit, "b.nix": barUnit},
			},
			wantReused: 2,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWalk(t)
			w.read("revision 1", c.revs[0])
			w.reused, w.reread = 0, 0
			for i, rev := range c.revs[1:] {
				w.read(fmt.Sprintf("revision %d", i+2), rev)
			}
			if c.wantReused > 0 && w.reused != c.wantReused {
				t.Errorf("%d files reused, want %d", w.reused, c.wantReused)
			}
			if c.wantReread > 0 && w.reread != c.wantReread {
				t.Errorf("%d files read again, want %d", w.reread, c.wantReread)
			}
		})
	}
}

// TestExtractReusingCopies: a Result built from reused per-file results
// shares nothing with them: changing one never changes a later Result.
func TestExtractReusingCopies(t *testing.T) {
	w := newWalk(t)
	rev := map[string]string{"a.nix": `{ systemd.services.foo = { startAt = "daily"; wantedBy = [ "a.target" ]; enable = true; }; }`}
	files := w.sources(rev)
	first := w.extract(files, true)
	second := w.extract(files, true)
	if w.reused != 1 {
		t.Fatalf("%d files reused, want 1", w.reused)
	}
	for _, res := range []Result{first, second} {
		for _, u := range res.Units {
			for i := range u.Properties.WantedBy {
				u.Properties.WantedBy[i] = "changed"
			}
			for i := range u.Properties.OnCalendar {
				u.Properties.OnCalendar[i] = "changed"
			}
			if u.Properties.Enable != nil {
				*u.Properties.Enable = false
			}
			for _, s := range u.Sites {
				for k := range s.Settings {
					s.Settings[k] = Setting{}
				}
				for i := range s.Properties.WantedBy {
					s.Properties.WantedBy[i] = "changed"
				}
			}
		}
	}
	if diff := cmp.Diff(ExtractEveryFile(files), w.extract(files, true)); diff != "" {
		t.Errorf("a changed Result changed what is reused (-want +got):\n%s", diff)
	}
}

// TestExtractReusingCorpus is the differential test on real
// configurations: each corpus repository, then a history of one change at
// a time (declaring files' defaults flipped, removed and restored; option
// reads given a definition in a new file, then another; units renamed;
// settings turned off; files edited), read forwards and backwards, and
// concurrently, reusing per-file results: every revision's Result must
// equal a fresh extraction's.
func TestExtractReusingCorpus(t *testing.T) {
	root := testreq.Corpus(t)
	dirs, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	total := newWalk(t)
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		t.Run(d.Name(), func(t *testing.T) {
			head := corpusRevision(t, filepath.Join(root, d.Name()))
			w := newWalk(t)
			w.read("HEAD", head)
			revs := corpusHistory(w, head)
			if len(revs) < 5 {
				t.Fatalf("only %d changes made to %s", len(revs), d.Name())
			}
			wants := make([]map[bool]Result, len(revs))
			for i, r := range revs {
				wants[i] = fresh(w.sources(r.files))
				w.check(r.name, w.sources(r.files), wants[i])
			}
			for i, r := range slices.Backward(revs) {
				w.check(r.name+", backwards", w.sources(r.files), wants[i])
			}
			// Concurrently, as ReadHistory extracts revisions.
			checkConcurrently(t, w, revs, wants)
			t.Logf("%d revisions: %d files reused, %d offered and read again", 2*len(revs)+1, w.reused, w.reread)
			total.reused += w.reused
			total.reread += w.reread
		})
	}
	if total.reused == 0 || total.reread == 0 {
		t.Errorf("reused %d files and read %d again: the corpus history does not exercise both", total.reused, total.reread)
	}
}

// checkConcurrently reads revisions at once through one set of results.
func checkConcurrently(t *testing.T, w *walk, revs []corpusRev, wants []map[bool]Result) {
	t.Helper()
	sources := make([][]SourceFile, len(revs))
	for i, r := range revs {
		sources[i] = w.sources(r.files)
	}
	got := make([]Result, len(revs))
	var wg sync.WaitGroup
	for i := range revs {
		wg.Go(func() { got[i] = w.extract(sources[i], true) })
	}
	wg.Wait()
	for i := range revs {
		if diff := cmp.Diff(wants[i][true], got[i]); diff != "" {
			t.Errorf("%s, concurrently: differs (-want +got):\n%s", revs[i].name, diff)
		}
	}
}

// corpusRevision reads the .nix files of a corpus repository.
func corpusRevision(t *testing.T, dir string) map[string]string {
	t.Helper()
	rev := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() && e.Name() == ".git" {
			return filepath.SkipDir
		}
		if e.IsDir() || !strings.HasSuffix(p, ".nix") {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rev[filepath.ToSlash(rel)] = string(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rev
}

type corpusRev struct {
	name  string
	files map[string]string
}

// corpusHistory makes a history of single changes from head, each on top
// of the one before.
func corpusHistory(w *walk, head map[string]string) []corpusRev {
	var out []corpusRev
	cur := maps.Clone(head)
	change := func(name string, edit func(files map[string]string) bool) {
		next := maps.Clone(cur)
		if edit(next) {
			out = append(out, corpusRev{name: name, files: next})
			cur = next
		}
	}
	paths := slices.Sorted(maps.Keys(head))
	files := w.sources(head)
	var declaring, reading, units, enabling []string
	var readPaths []string
	first := map[*ast.File]*FileResult{}
	_, results := ExtractReusing(files, true, nil)
	for i, f := range files {
		first[f.AST] = results[i]
	}
	for _, f := range files {
		src := head[f.Path]
		switch {
		case f.AST == nil:
		case declaresOptions(f):
			declaring = append(declaring, f.Path)
		case strings.Contains(src, "enable = true;"):
			enabling = append(enabling, f.Path)
		}
		if r := first[f.AST]; r != nil && len(r.deps.reads) > 0 {
			reading = append(reading, f.Path)
			for _, d := range r.deps.reads {
				readPaths = append(readPaths, strings.Join(d.path, "."))
			}
		}
		if strings.Contains(src, "systemd.services.") {
			units = append(units, f.Path)
		}
	}
	slices.Sort(readPaths)
	readPaths = slices.Compact(readPaths)
	for _, p := range firstN(declaring, 2) {
		for _, flip := range [][2]string{{"default = true;", "default = false;"}, {"default = false;", "default = true;"}} {
			change("flip a default in "+p, func(fs map[string]string) bool {
				if !strings.Contains(fs[p], flip[0]) {
					return false
				}
				fs[p] = strings.Replace(fs[p], flip[0], flip[1], 1)
				return true
			})
		}
	}
	for _, p := range firstN(declaring, 1) {
		removed := cur[p]
		change("remove "+p, func(fs map[string]string) bool { delete(fs, p); return true })
		change("restore "+p, func(fs map[string]string) bool { fs[p] = removed; return true })
	}
	for i, opt := range firstN(readPaths, 2) {
		extra := fmt.Sprintf("zz-walk-%d.nix", i)
		change("define "+opt+" in a new file", func(fs map[string]string) bool {
			fs[extra] = fmt.Sprintf("{ lib, ... }: { %s = lib.mkForce true; }", opt)
			return true
		})
		change("define "+opt+" otherwise", func(fs map[string]string) bool {
			fs[extra] = fmt.Sprintf("{ %s = \"walk\"; }", opt)
			return true
		})
	}
	for _, p := range firstN(units, 2) {
		change("rename a unit in "+p, func(fs map[string]string) bool {
			fs[p] = strings.Replace(fs[p], "systemd.services.", "systemd.services.walk-", 1)
			return true
		})
	}
	for _, p := range firstN(enabling, 2) {
		change("turn a setting off in "+p, func(fs map[string]string) bool {
			fs[p] = strings.Replace(fs[p], "enable = true;", "enable = false;", 1)
			return true
		})
	}
	for _, p := range firstN(slices.Concat(reading, units, paths), 4) {
		change("edit "+p, func(fs map[string]string) bool {
			fs[p] += "\n# walk\n"
			return true
		})
	}
	return out
}

func firstN(s []string, n int) []string { return s[:min(n, len(s))] }

// TestModuleTopMayDefine: a module is skipped by a definition search
// only when searching it could find or force nothing.
func TestModuleTopMayDefine(t *testing.T) {
	cases := []struct {
		name string
		src  string
		path string
		want bool
	}{
		{"the first attribute at the top", "{ services.x.enable = true; }", "services.x.enable", true},
		{"another first attribute", "{ networking.hostName = \"h\"; }", "services.x.enable", false},
		{"an unknown value, longer path", "{ config, ... }: config.foo", "services.x.enable", false},
		{"an unknown value, one-attribute path", "{ config, ... }: config.foo", "walk", true},
		{"a ${…} key, longer path", "{ config, ... }: { ${config.name} = 1; }", "services.x", false},
		{"a ${…} key, one-attribute path", "{ config, ... }: { ${config.name} = 1; }", "walk", true},
		{"options and config: always searched", "{ options = { }; config = { }; }", "services.x", true},
		{"a key under mkIf", "{ lib, ... }: lib.mkIf true { services.x.enable = true; }", "services.x.enable", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := parseFiles(t, c.src)
			o := newOptionTable()
			o.summarize = true
			f := &declaredFile{file: "a.nix", lines: files[0].AST.Lines}
			if r := o.declareFile(f, files[0].AST.Expr); r != nil {
				t.Fatal(r)
			}
			if len(f.summary.tops) != 1 {
				t.Fatalf("%d modules", len(f.summary.tops))
			}
			path := strings.Split(c.path, ".")
			if got := f.summary.tops[0].mayDefine(path); got != c.want {
				t.Errorf("mayDefine(%s) = %v, want %v (top %+v)", c.path, got, c.want, f.summary.tops[0])
			}
			if got := mayDefine(f.modules[0], path); got != c.want {
				t.Errorf("mayDefine on the module read (%s) = %v, want %v", c.path, got, c.want)
			}
			// Skipping must find what searching finds: nothing.
			if !f.summary.tops[0].mayDefine(path) {
				o.ready = true
				defs, hidden := o.definitionsIn(newEvaluator(o), f.modules[0], path)
				if len(defs) > 0 || hidden != "" {
					t.Errorf("skipped, but searching finds %d definitions, hidden %q", len(defs), hidden)
				}
			}
		})
	}
}
