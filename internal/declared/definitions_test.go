package declared

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/driftcheck/driftcheck/internal/nix/parser"
)

func extractFiles(t *testing.T, files map[string]string, order ...string) Result {
	t.Helper()
	var srcs []SourceFile
	for _, name := range order {
		f, err := parser.ParseFile(name, []byte(files[name]))
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, SourceFile{Path: name, AST: f})
	}
	return Extract(srcs)
}

// TestDefinitions: every site of a unit with its role; File and Line
// point at the site that declares the unit, not at an override that comes
// first in path order; a unit only overridden says where it comes from.
func TestDefinitions(t *testing.T) {
	res := extractFiles(t, map[string]string{
		"a/demo.nix": "{\n  systemd.services.web.serviceConfig.MemoryMax = \"1G\";\n  systemd.services.telegraf.path = [ ];\n  systemd.services.getty.enable = false;\n}\n",
		"b/web.nix":  "{\n  systemd.services.web = {\n    script = \"serve\";\n    wantedBy = [ \"multi-user.target\" ];\n  };\n}\n",
	}, "a/demo.nix", "b/web.nix")
	byName := map[string]Unit{}
	for _, u := range res.Units {
		byName[u.Name] = u
	}
	web := byName["web.service"]
	if web.File != "b/web.nix" || web.Line != 2 {
		t.Errorf("web.service declared at %s:%d, want b/web.nix:2", web.File, web.Line)
	}
	want := []Definition{{File: "a/demo.nix", Line: 2, Role: RoleOverrides}, {File: "b/web.nix", Line: 2, Role: RoleDeclares}}
	if diff := cmp.Diff(want, web.Definitions); diff != "" {
		t.Errorf("web.service definitions (-want +got):\n%s", diff)
	}
	if len(web.Notes) != 0 {
		t.Errorf("web.service notes %v", web.Notes)
	}
	tg := byName["telegraf.service"]
	if diff := cmp.Diff([]Definition{{File: "a/demo.nix", Line: 3, Role: RoleOverrides}}, tg.Definitions); diff != "" {
		t.Errorf("telegraf.service definitions (-want +got):\n%s", diff)
	}
	if len(tg.Notes) != 1 || tg.Notes[0] != "only overridden in the repository: the module that defines the unit is outside it (a NixOS service module or a flake input)" {
		t.Errorf("telegraf.service notes %q", tg.Notes)
	}
	getty := byName["getty.service"]
	if diff := cmp.Diff([]Definition{{File: "a/demo.nix", Line: 4, Role: RoleDisables}}, getty.Definitions); diff != "" || len(getty.Notes) != 0 {
		t.Errorf("getty.service definitions %v, notes %v", getty.Definitions, getty.Notes)
	}
}

// TestHomeManagerUnits: units a home-manager configuration written in a
// NixOS module declares are user units of that user, apart from the
// system's.
func TestHomeManagerUnits(t *testing.T) {
	res := extractFiles(t, map[string]string{
		"host.nix": "{ pkgs, ... }: {\n  systemd.services.web = { script = \"serve\"; };\n  home-manager.users.alice = {\n    systemd.user.services.sync = { Service.ExecStart = \"sync\"; };\n  };\n  home-manager.users.bob = import ./bob.nix;\n}\n",
	}, "host.nix")
	var got []string
	for _, u := range res.Units {
		got = append(got, u.Name+" "+string(u.Scope)+" "+u.User)
	}
	if diff := cmp.Diff([]string{"sync.service user alice", "web.service system "}, got); diff != "" {
		t.Errorf("units (-want +got):\n%s", diff)
	}
}
