package modules

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/driftcheck/driftcheck/internal/declared"
	"github.com/driftcheck/driftcheck/internal/gitrev"
	"github.com/driftcheck/driftcheck/internal/gitrev/gittest"
)

// Issue 8.1: a module that is only an import, or an imports list that
// points outside the module globs, was silently dropped ("0 units", in
// sync). Imported files are read from the revision's tree; an import that
// cannot be read makes the result incomplete.
func TestLoadFollowsImportsOutsideTheGlobs(t *testing.T) {
	g := gittest.New(t)
	g.Commit("imports", map[string]string{
		"nix/host.nix":        "import ../other/real.nix\n",
		"other/real.nix":      "{ ... }: { systemd.services.probe-zzz = { }; }\n",
		"nix/list.nix":        "{ ... }:\n{\n  imports = [ ../lib/weekly.nix ./inline.nix (import ../lib/fn.nix) ] ++ [ ../lib/dir ];\n}\n",
		"nix/inline.nix":      "{ systemd.services.inline = { }; }\n",
		"lib/weekly.nix":      "{ systemd.timers.weekly = { timerConfig.OnCalendar = \"weekly\"; }; imports = [ ./deeper.nix ]; }\n",
		"lib/deeper.nix":      "{ systemd.services.deeper = { }; }\n",
		"lib/fn.nix":          "{ systemd.services.fn = { }; }\n",
		"lib/dir/default.nix": "{ systemd.services.indir = { }; }\n",
		"lib/unrelated.nix":   "{ systemd.services.unrelated = { }; }\n",
	})
	l, err := Load(context.Background(), where(t, g.Dir))
	if err != nil {
		t.Fatal(err)
	}
	var units []string
	for _, u := range l.Result.Units {
		units = append(units, fmt.Sprintf("%s@%s:%d", u.Name, u.File, u.Line))
	}
	want := []string{
		"deeper.service@lib/deeper.nix:1",
		"fn.service@lib/fn.nix:1",
		"indir.service@lib/dir/default.nix:1",
		"inline.service@nix/inline.nix:1",
		"probe-zzz.service@other/real.nix:1",
		"weekly.timer@lib/weekly.nix:1",
	}
	if diff := cmp.Diff(want, units); diff != "" {
		t.Errorf("units (-want +got):\n%s", diff)
	}
	if len(l.Result.Unresolved) != 0 || len(l.Result.Errors) != 0 {
		t.Errorf("unresolved %+v, errors %+v; want none", l.Result.Unresolved, l.Result.Errors)
	}
	if len(l.Files) != 9-1 {
		t.Errorf("read %d files, want the 4 matching files and the 4 imported ones", len(l.Files))
	}
}

func TestImportsThatCannotBeReadAreUnresolved(t *testing.T) {
	g := gittest.New(t)
	g.Commit("imports", map[string]string{
		"nix/host.nix": "import ../other/missing.nix\n",
		"nix/list.nix": "{ lib, name, ... }:\n{\n  imports = [\n    ./hardware-configuration.nix\n    /etc/nixos/local.nix\n    ../../up.nix\n    ./hosts/${name}.nix\n    <nixpkgs/nixos/modules/profiles/minimal.nix>\n  ] ++ lib.optional true (./hosts + \"/x.nix\");\n  systemd.services.kept = { };\n}\n",
	})
	l, err := Load(context.Background(), where(t, g.Dir))
	if err != nil {
		t.Fatal(err)
	}
	want := []declared.Unresolved{
		{File: "nix/host.nix", Line: 1, Reason: "imports ../other/missing.nix (other/missing.nix), a file that was not read (not in the revision): what it declares is unknown"},
		{File: "nix/list.nix", Line: 4, Reason: "imports ./hardware-configuration.nix (nix/hardware-configuration.nix), a file that was not read (not in the revision): what it declares is unknown"},
		{File: "nix/list.nix", Line: 5, Reason: "imports /etc/nixos/local.nix (outside the repository): what it declares is unknown"},
		{File: "nix/list.nix", Line: 6, Reason: "imports ../../up.nix (outside the repository): what it declares is unknown"},
		{File: "nix/list.nix", Line: 7, Reason: "imports a computed path (computed path): what it declares is unknown"},
		{File: "nix/list.nix", Line: 9, Reason: "imports a computed path (computed path): what it declares is unknown"},
	}
	if diff := cmp.Diff(want, l.Result.Unresolved); diff != "" {
		t.Errorf("unresolved (-want +got):\n%s", diff)
	}
	if len(l.Result.Units) != 1 || l.Result.Units[0].Name != "kept.service" {
		t.Errorf("units %+v, want kept.service", l.Result.Units)
	}
}

// Extract does no I/O: an import of a file it was not given is unresolved.
func TestExtractReportsImportsOfFilesNotGiven(t *testing.T) {
	res := Extract([]gitrev.File{
		{Path: "nix/host.nix", Data: []byte("import ./real.nix\n")},
		{Path: "nix/a.nix", Data: []byte("{ imports = [ ./host.nix ]; }\n")},
	})
	want := []declared.Unresolved{{File: "nix/host.nix", Line: 1, Reason: "imports ./real.nix (nix/real.nix), a file that was not read (not in the revision): what it declares is unknown"}}
	if diff := cmp.Diff(want, res.Unresolved); diff != "" {
		t.Errorf("unresolved (-want +got):\n%s", diff)
	}
}
