package drift

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/driftcheck/driftcheck/internal/gitrev"
	"github.com/driftcheck/driftcheck/internal/gitrev/gittest"
	"github.com/driftcheck/driftcheck/internal/live"
)

// cacheRepo is a history in which neighbouring revisions share most module
// files: edits of one file, a file that does not parse and is fixed later,
// a file moved with its content unchanged (same blob, another path), and
// units that were dropped (stale on the host of cacheSnapshot).
func cacheRepo(t *testing.T) *gittest.Repo {
	t.Helper()
	g := gittest.New(t)
	g.Commit("three modules", map[string]string{
		"nix/a.nix": "{ systemd.services.alpha = { wantedBy = [ \"multi-user.target\" ]; }; }\n",
		"nix/b.nix": "{ systemd.timers.beta = { timerConfig.OnCalendar = \"daily\"; }; systemd.services.beta = { }; }\n",
		"nix/c.nix": "{ systemd.services.gamma = { }; systemd.services.old = { }; }\n",
	})
	g.Commit("broken b", map[string]string{"nix/b.nix": "{ systemd.timers.beta = ; }\n"})
	g.Commit("edit a", map[string]string{"nix/a.nix": "# edited\n{ systemd.services.alpha = { wantedBy = [ \"multi-user.target\" ]; }; }\n"})
	g.Commit("fix b", map[string]string{"nix/b.nix": "{ systemd.timers.beta = { timerConfig.OnCalendar = \"daily\"; }; systemd.services.beta = { }; }\n"})
	g.Remove("nix/c.nix")
	g.Commit("move c", map[string]string{"nix/moved/c.nix": "{ systemd.services.gamma = { }; systemd.services.old = { }; }\n"})
	g.Commit("drop old", map[string]string{"nix/moved/c.nix": "{ systemd.services.gamma = { }; }\n"})
	g.Commit("edit a again", map[string]string{"nix/a.nix": "# edited twice\n{ systemd.services.alpha = { wantedBy = [ \"multi-user.target\" ]; }; }\n"})
	return g
}

// cacheSnapshot is a host running the head's units plus the dropped one.
func cacheSnapshot(t *testing.T) string {
	t.Helper()
	unit := func(name, fileState string) live.Unit {
		return live.Unit{Name: name, LoadState: "loaded", ActiveState: "active", SubState: "running", UnitFileState: fileState}
	}
	snap := live.Snapshot{
		Schema:  live.SnapshotSchema,
		TakenAt: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC),
		Units: []live.Unit{
			unit("alpha.service", "enabled"), unit("beta.service", "static"), unit("gamma.service", "static"),
			unit("old.service", "static"),
		},
	}
	beta := unit("beta.timer", "static")
	beta.Timer = &live.Timer{Calendar: []string{"*-*-* 00:00:00"}, Unit: "beta.service"}
	snap.Units = append(snap.Units, beta)
	data, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "snapshot.json")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCheckParseCache checks that one check parses each module file (path
// and blob) once across the revision and the stale search, and that the
// cache changes nothing in what the check reads or reports.
func TestCheckParseCache(t *testing.T) {
	ctx := context.Background()
	g := cacheRepo(t)
	opts := Options{RepoDir: g.Dir, Rev: "HEAD", Globs: defaultGlobs(t), History: DefaultHistory, LiveFile: cacheSnapshot(t)}

	run := func(cached bool) (*checker, *Report) {
		c, err := newChecker(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		if !cached {
			c.parses = nil
		}
		r, err := c.check(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return c, r
	}
	c, withCache := run(true)
	_, without := run(false)
	if diff := cmp.Diff(without, withCache); diff != "" {
		t.Errorf("report with the parse cache differs from the one without (-without +with):\n%s", diff)
	}
	// The fixture must exercise the stale search.
	stale := false
	for _, f := range withCache.Findings {
		stale = stale || f.Unit == "old.service"
	}
	if !stale {
		t.Errorf("no finding about old.service, the fixture does not exercise the history: %+v", withCache.Findings)
	}

	// Expected counts, from the trees: every (path, blob) of the revisions
	// read is parsed once, every other occurrence is reused.
	hist, err := c.repo.History(ctx, c.rev, c.globs, DefaultHistory+1)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 7 {
		t.Fatalf("history has %d revisions, want 7", len(hist))
	}
	type key struct{ path, hash string }
	distinct := map[key]bool{}
	total := 0
	read := []*gitrev.Revision{c.rev}
	for _, v := range hist {
		if v.SHA != c.rev.SHA { // the revision itself is not read again as history
			read = append(read, v)
		}
	}
	for _, v := range read {
		entries, err := v.List(ctx, c.globs)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			distinct[key{e.Path, e.Hash.String()}] = true
			total++
		}
	}
	parsed, reused := c.parses.Stats()
	if parsed != len(distinct) || reused != total-len(distinct) {
		t.Errorf("parsed %d files and reused %d; want %d parsed (distinct path+blob) and %d reused", parsed, reused, len(distinct), total-len(distinct))
	}
	if parsed >= total/2 {
		t.Errorf("parsed %d of %d file reads: the cache saves little on this history", parsed, total)
	}

	// The declared side alone, revision by revision, is identical too.
	hc, err := c.history(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c.parses = nil
	hn, err := c.history(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(hn, hc); diff != "" {
		t.Errorf("history with the parse cache differs (-without +with):\n%s", diff)
	}
}

// defaultGlobs is --modules' default, parsed as the command parses it.
func defaultGlobs(t testing.TB) gitrev.Globs {
	t.Helper()
	g, err := gitrev.ParseGlobs([]string{gitrev.DefaultModuleGlob})
	if err != nil {
		t.Fatal(err)
	}
	return g
}
