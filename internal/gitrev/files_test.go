package gitrev

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftcheck/driftcheck/internal/gitrev/gittest"
)

func mustGlobs(t *testing.T, patterns ...string) Globs {
	t.Helper()
	g, err := ParseGlobs(patterns)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestFiles(t *testing.T) {
	g := gittest.New(t)
	g.Commit("first", map[string]string{
		"nix/b.nix":            "{ b = 1; }\n",
		"nix/a.nix":            "{ a = 1; }\n",
		"nix/hosts/web/x.nix":  "{ x = 1; }\n",
		"nix/notes.md":         "# notes\n",
		"README.md":            "# readme\n",
		"other/y.nix":          "{ }\n",
		"nix/binary.nix":       "{ \x00 }\n",
		"nix/latin1.nix":       "{ caf\xe9 = 1; }\n",
		"nix/huge.nix":         strings.Repeat("#", 2048),
		"nix/exactly-max.nix":  strings.Repeat("#", 1024),
		"nix/sub/deeper/z.nix": "{ z = 1; }\n",
	})
	if err := os.Symlink("a.nix", filepath.Join(g.Dir, "nix", "link.nix")); err != nil {
		t.Fatal(err)
	}
	g.Commit("link", nil)
	// Uncommitted work-tree edits must not be seen.
	g.Write("nix/a.nix", "{ changed = true; }\n")
	g.Write("nix/new.nix", "{ }\n")

	r := mustOpen(t, g.Dir)
	r.MaxFileSize = 1024
	v, err := r.Resolve(context.Background(), "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	files, err := v.Files(context.Background(), mustGlobs(t, DefaultModuleGlob))
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		data    string
		problem error
	}
	wants := map[string]want{
		"nix/a.nix":            {data: "{ a = 1; }\n"},
		"nix/b.nix":            {data: "{ b = 1; }\n"},
		"nix/binary.nix":       {problem: ErrBinary},
		"nix/exactly-max.nix":  {data: strings.Repeat("#", 1024)},
		"nix/hosts/web/x.nix":  {data: "{ x = 1; }\n"},
		"nix/huge.nix":         {problem: ErrTooLarge},
		"nix/latin1.nix":       {problem: ErrInvalidUTF8},
		"nix/link.nix":         {problem: ErrSymlink},
		"nix/sub/deeper/z.nix": {data: "{ z = 1; }\n"},
	}
	var paths []string
	for _, f := range files {
		paths = append(paths, f.Path)
		w, ok := wants[f.Path]
		if !ok {
			t.Errorf("unexpected file %s", f.Path)
			continue
		}
		// Hash is git's blob hash, problem or not.
		if want := strings.TrimSpace(g.Git("rev-parse", "HEAD:"+f.Path)); f.Hash.String() != want {
			t.Errorf("%s: hash %s, want %s", f.Path, f.Hash, want)
		}
		if w.problem != nil {
			if !errors.Is(f.Problem, w.problem) || f.Data != nil {
				t.Errorf("%s: problem %v, data %q; want problem %v and no data", f.Path, f.Problem, f.Data, w.problem)
			}
			continue
		}
		if f.Problem != nil || string(f.Data) != w.data {
			t.Errorf("%s: data %q, problem %v; want %q", f.Path, f.Data, f.Problem, w.data)
		}
	}
	wantOrder := "nix/a.nix nix/b.nix nix/binary.nix nix/exactly-max.nix nix/hosts/web/x.nix nix/huge.nix nix/latin1.nix nix/link.nix nix/sub/deeper/z.nix"
	if got := strings.Join(paths, " "); got != wantOrder {
		t.Errorf("paths\n got %s\nwant %s", got, wantOrder)
	}

	md, err := v.Files(context.Background(), mustGlobs(t, "**/*.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(md) != 2 || md[0].Path != "README.md" || md[1].Path != "nix/notes.md" {
		t.Errorf("markdown files = %+v", md)
	}
}

func TestFilesNoMatch(t *testing.T) {
	g := gittest.New(t)
	g.Commit("first", map[string]string{"src/main.go": "package main\n"})
	v, err := mustOpen(t, g.Dir).Resolve(context.Background(), "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	files, err := v.Files(context.Background(), mustGlobs(t, DefaultModuleGlob))
	if err != nil || len(files) != 0 {
		t.Errorf("Files = %v, %v; want none, no error", files, err)
	}
}

func TestFilesCanceled(t *testing.T) {
	g := gittest.New(t)
	g.Commit("first", map[string]string{"nix/a.nix": "{ }\n"})
	v, err := mustOpen(t, g.Dir).Resolve(context.Background(), "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := v.Files(ctx, mustGlobs(t, DefaultModuleGlob)); !errors.Is(err, context.Canceled) {
		t.Errorf("Files with a canceled context: error = %v", err)
	}
}

// TestFilesDefaultSizeLimit commits a module one byte over MaxFileSize:
// it is reported, not loaded, and its neighbours are read.
func TestFilesDefaultSizeLimit(t *testing.T) {
	g := gittest.New(t)
	g.Commit("huge", map[string]string{
		"nix/huge.nix": strings.Repeat("#", MaxFileSize+1),
		"nix/ok.nix":   "{ }\n",
	})
	v, err := mustOpen(t, g.Dir).Resolve(context.Background(), "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	files, err := v.Files(context.Background(), mustGlobs(t, DefaultModuleGlob))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || !errors.Is(files[0].Problem, ErrTooLarge) || files[0].Data != nil || string(files[1].Data) != "{ }\n" {
		t.Fatalf("files = %v %v / %v %q", files[0].Path, files[0].Problem, files[1].Path, files[1].Data)
	}
	if !strings.Contains(files[0].Problem.Error(), "16777217 bytes") {
		t.Errorf("problem %q does not give the size", files[0].Problem)
	}
}

// TestFilesPackedSameAsLoose reads the same revisions from loose objects
// and, after git gc, from a pack where most blobs are deltas of each
// other: the files are the same bytes, and a pack read through kept-open
// descriptors serves many revisions.
func TestFilesPackedSameAsLoose(t *testing.T) {
	g := gittest.New(t)
	base := strings.Repeat("{ services.x = { enable = true; }; }\n", 200)
	var shas []string
	for i := range 12 {
		shas = append(shas, g.Commit("edit", map[string]string{
			"nix/a.nix":                   base + strings.Repeat("# edit\n", i),
			"nix/b.nix":                   strings.Replace(base, "true", "false", i),
			fmt.Sprintf("nix/c%d.nix", i): fmt.Sprintf("{ c = %d; }\n", i),
		}))
	}
	globs := mustGlobs(t, DefaultModuleGlob)
	read := func() map[string][]File {
		r := mustOpen(t, g.Dir)
		defer r.Close()
		out := map[string][]File{}
		for _, sha := range shas {
			v, err := r.Resolve(context.Background(), sha)
			if err != nil {
				t.Fatal(err)
			}
			if out[sha], err = v.Files(context.Background(), globs); err != nil {
				t.Fatal(err)
			}
		}
		return out
	}
	loose := read()
	g.Git("gc", "-q", "--aggressive")
	if packs, _ := filepath.Glob(filepath.Join(g.Dir, ".git", "objects", "pack", "*.pack")); len(packs) == 0 {
		t.Fatal("git gc wrote no pack")
	}
	packed := read()
	for _, sha := range shas {
		if len(loose[sha]) != len(packed[sha]) {
			t.Fatalf("%.7s: %d loose files, %d packed", sha, len(loose[sha]), len(packed[sha]))
		}
		for i, f := range loose[sha] {
			p := packed[sha][i]
			if f.Path != p.Path || f.Hash != p.Hash || string(f.Data) != string(p.Data) || f.Problem != nil || p.Problem != nil {
				t.Errorf("%.7s %s: loose and packed reads differ", sha, f.Path)
			}
		}
	}
	if got := string(packed[shas[11]][0].Data); got != base+strings.Repeat("# edit\n", 11) {
		t.Errorf("nix/a.nix at the last revision: %d bytes, want %d", len(got), len(base)+11*7)
	}
}
