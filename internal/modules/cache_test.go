package modules

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/driftcheck/driftcheck/internal/gitrev"
	"github.com/driftcheck/driftcheck/internal/gitrev/gittest"
)

// TestParseCache reads every revision of a history with and without a
// cache: the results are the same, and each path+blob is parsed once.
func TestParseCache(t *testing.T) {
	g := gittest.New(t)
	g.Commit("first", map[string]string{
		"nix/a.nix": "{ systemd.services.a = { }; }\n",
		"nix/b.nix": "{ systemd.services.b = ; }\n", // does not parse
		"nix/c.nix": "{ systemd.timers.c = { }; }\n",
	})
	g.Commit("edit a", map[string]string{"nix/a.nix": "{ systemd.services.a2 = { }; }\n"})
	g.Commit("copy c", map[string]string{"nix/d.nix": "{ systemd.timers.c = { }; }\n"}) // same blob as c, another path
	g.Commit("fix b", map[string]string{"nix/b.nix": "{ systemd.services.b = { }; }\n"})
	ctx := context.Background()
	l, err := Load(ctx, where(t, g.Dir))
	if err != nil {
		t.Fatal(err)
	}
	revs, err := l.Repo.History(ctx, l.Revision, l.Globs, 10)
	if err != nil || len(revs) != 4 {
		t.Fatalf("history: %d revisions, %v", len(revs), err)
	}

	cache := NewParseCache()
	reads := 0
	for _, v := range revs {
		files, want, err := Read(ctx, v, l.Globs)
		if err != nil {
			t.Fatal(err)
		}
		reads += len(files)
		for _, f := range files {
			if f.Hash.IsZero() {
				t.Fatalf("%s at %.12s: no blob hash", f.Path, v.SHA)
			}
		}
		cachedFiles, got, err := cache.Read(ctx, v, l.Globs)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(files, cachedFiles, cmp.Comparer(func(a, b error) bool { return a == nil && b == nil })); diff != "" {
			t.Errorf("files at %.12s differ (-Read +cache.Read):\n%s", v.SHA, diff)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("result at %.12s differs with the cache (-without +with):\n%s", v.SHA, diff)
		}
	}
	// Distinct path+blob: a (2 versions), b (broken, fixed), c, d (c's
	// blob under another path: parsed again, the tree names its file).
	parsed, reused := cache.Stats()
	if parsed != 6 || reused != reads-6 {
		t.Errorf("parsed %d, reused %d of %d file reads; want 6 parsed, %d reused", parsed, reused, reads, reads-6)
	}
	// The broken b is served from the cache with its error.
	first := revs[len(revs)-1]
	_, res, err := cache.Read(ctx, first, l.Globs)
	if err != nil || len(res.Errors) != 1 || res.Errors[0].File != "nix/b.nix" || res.Errors[0].Line != 1 {
		t.Errorf("cached broken file: errors %+v, %v", res.Errors, err)
	}
	if p, _ := cache.Stats(); p != 6 {
		t.Errorf("re-reading a revision parsed %d files", p-6)
	}

	// Files without a blob hash (not read from git) are parsed every time.
	files := []gitrev.File{{Path: "nix/x.nix", Data: []byte("{ systemd.services.x = { }; }")}}
	c := NewParseCache()
	for range 2 {
		if got := c.Extract(files); len(got.Units) != 1 || got.Units[0].Name != "x.service" {
			t.Fatalf("units %+v", got.Units)
		}
	}
	if p, r := c.Stats(); p != 0 || r != 0 {
		t.Errorf("files without a hash: parsed %d, reused %d through the cache; want 0, 0", p, r)
	}
	var none *ParseCache
	if p, r := none.Stats(); p != 0 || r != 0 || len(none.Extract(files).Units) != 1 {
		t.Error("a nil cache does not work as no cache")
	}
}
