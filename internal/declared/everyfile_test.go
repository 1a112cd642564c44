package declared

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// sopsModule gates a unit on an option it declares, as the corpus's
// fluent-bit module does with users.withSops.
const sopsModule = `{ config, lib, ... }:
{
  options.users.withSops = lib.mkOption { type = lib.types.bool; default = true; };
  config = lib.mkIf config.users.withSops {
    systemd.services.fluent-bit.script = "fluent-bit";
  };
}`

// keptNote is the note of a unit that another file's setting would decide.
func keptNote(sites string) string {
	return "kept, conditional: its condition is decided by another file's setting at " + sites +
		", and every file is read, not one host's (--host reads a host's files only)"
}

// TestExtractEveryFile: reading every file (no host), one file's setting
// never drops or decides another file's unit: it stays, conditional, with
// the deciding site in a note. Settings in the unit's own file, and option
// defaults, decide as for one configuration (Extract), which still lets
// any file decide.
func TestExtractEveryFile(t *testing.T) {
	cases := []struct {
		name                 string
		files                []string
		everyFile, oneConfig []Unit
	}{
		{
			name:      "a setting in another file turns a unit off",
			files:     []string{sopsModule, "{\n  users.withSops = false;\n}"},
			everyFile: []Unit{unit("fluent-bit.service", "a.nix", 5, conditional, notes(keptNote("b.nix:2")))},
		},
		{
			name:      "a setting in another file turns a unit on",
			files:     []string{sopsModule, "{ users.withSops = true; }"},
			everyFile: []Unit{unit("fluent-bit.service", "a.nix", 5, conditional, notes(keptNote("b.nix:1")))},
			oneConfig: []Unit{unit("fluent-bit.service", "a.nix", 5)},
		},
		{
			name: "a setting in the unit's own file turns it off",
			files: []string{`{ config, lib, ... }:
{
  options.users.withSops = lib.mkOption { type = lib.types.bool; default = true; };
  config = lib.mkMerge [
    { users.withSops = false; }
    (lib.mkIf config.users.withSops { systemd.services.fluent-bit.script = "fluent-bit"; })
  ];
}`},
		},
		{
			name:      "an option default decides for every file alike",
			files:     []string{sopsModule, "{ systemd.services.other.script = \"x\"; }"},
			everyFile: []Unit{unit("fluent-bit.service", "a.nix", 5, conditional), unit("other.service", "b.nix", 1)},
			oneConfig: []Unit{unit("fluent-bit.service", "a.nix", 5, conditional), unit("other.service", "b.nix", 1)},
		},
		{
			name: "mkForce false on one host keeps the implied docker-prune of another",
			files: []string{"{\n  virtualisation.docker.enable = true;\n}",
				"{ lib, ... }:\n{\n  virtualisation.docker.enable = lib.mkForce false;\n}"},
			everyFile: []Unit{unit("docker-prune.service", "a.nix", 2, conditional,
				impliedBy("virtualisation.docker.enable"), notes(keptNote("b.nix:3")))},
		},
		{
			name: "mkForce false in the same file drops the implied docker-prune",
			files: []string{`{ lib, ... }:
{
  imports = [ { virtualisation.docker.enable = true; } ];
  virtualisation.docker.enable = lib.mkForce false;
}`},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, mode := range []struct {
				name    string
				extract func([]SourceFile) Result
				want    []Unit
			}{{"every file", ExtractEveryFile, tc.everyFile}, {"one configuration", Extract, tc.oneConfig}} {
				want := mode.want
				if want == nil {
					want = []Unit{}
				}
				got := mode.extract(parseFiles(t, tc.files...))
				if diff := cmp.Diff(want, got.Units, cmpopts.IgnoreFields(Unit{}, "Sites", "Definitions")); diff != "" {
					t.Errorf("%s: units (-want +got):\n%s", mode.name, diff)
				}
			}
		})
	}
}
