package modules

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/driftcheck/driftcheck/internal/gitrev/gittest"
)

// TestReadHistoryReusesExtraction walks a history whose commits change
// what files read from each other (an option's value, where it is
// defined, whether it is declared, a condition another file decides), as
// a check does: HEAD through a fresh cache, then the earlier revisions
// through the same cache, every file and one host's closure. Every
// revision's Result equals reading it without a cache, and unchanged
// files are reused.
func TestReadHistoryReusesExtraction(t *testing.T) {
	const decl = `{ lib, ... }:
{
  options.walk = {
    name = lib.mkOption { type = lib.types.str; default = "alpha"; };
    enable = lib.mkEnableOption "walk";
  };
}
`
	const reader = `{ config, lib, ... }:
{
  imports = [ ./decl.nix ./setter.nix ./other.nix ];
  systemd.services.${config.walk.name}.script = "true";
  systemd.services.gated = lib.mkIf config.walk.enable { script = "gated"; };
}
`
	g := gittest.New(t)
	g.Commit("first", map[string]string{
		"flake.nix":      "{ outputs = { nixpkgs, ... }: { nixosConfigurations.box = nixpkgs.lib.nixosSystem { modules = [ ./nix/reader.nix ]; }; }; }\n",
		"nix/decl.nix":   decl,
		"nix/reader.nix": reader,
		"nix/setter.nix": "{ walk.name = \"beta\"; }\n",
		"nix/other.nix":  "{ systemd.services.other.script = \"x\"; }\n",
	})
	g.Commit("rename through the option", map[string]string{"nix/setter.nix": "{ walk.name = \"gamma\"; }\n"})
	g.Commit("unrelated edit", map[string]string{"nix/other.nix": "{ systemd.services.other.script = \"y\"; }\n"})
	g.Commit("move the definition", map[string]string{"nix/setter.nix": "{ }\n",
		"nix/other.nix": "{ walk.name = \"gamma\"; systemd.services.other.script = \"y\"; }\n"})
	g.Commit("decide the condition elsewhere", map[string]string{"nix/setter.nix": "{ walk.enable = true; }\n"})
	g.Commit("undeclare", map[string]string{"nix/decl.nix": "{ }\n"})
	g.Commit("declare again", map[string]string{"nix/decl.nix": decl})

	ctx := context.Background()
	l, err := Load(ctx, where(t, g.Dir))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Repo.Close()
	revs, err := l.Repo.History(ctx, l.Revision, l.Globs, 10)
	if err != nil || len(revs) != 7 {
		t.Fatalf("history: %d revisions, %v", len(revs), err)
	}

	cache := NewParseCache()
	if _, _, err := cache.Read(ctx, l.Revision, l.Globs); err != nil {
		t.Fatal(err)
	}
	got, err := cache.ReadHistory(ctx, revs[1:], l.Globs)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i, v := range revs[1:] {
		_, want, err := Read(ctx, v, l.Globs)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got[i]); diff != "" {
			t.Errorf("every file at %.12s (%d back): the cached walk differs (-without +with):\n%s", v.SHA, i+1, diff)
		}
		for _, u := range want.Units {
			seen[u.Name] = true
		}
	}
	if !seen["beta.service"] || !seen["gamma.service"] {
		t.Errorf("the history does not rename a unit through the option: units %v", seen)
	}
	if _, reused := cache.ExtractStats(); reused == 0 {
		t.Error("no file's extraction was reused over the history")
	}

	hostCache := NewParseCache()
	for i, v := range revs {
		fresh, err := NewParseCache().ReadHost(ctx, v, HostSpec{Name: "box"})
		if err != nil {
			t.Fatal(err)
		}
		cached, err := hostCache.ReadHost(ctx, v, HostSpec{Name: "box"})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(fresh.Result, cached.Result); diff != "" {
			t.Errorf("host box at %.12s (%d back): the cached walk differs (-without +with):\n%s", v.SHA, i, diff)
		}
	}
	if _, reused := hostCache.ExtractStats(); reused == 0 {
		t.Error("no file's extraction was reused over the host's history")
	}
}
