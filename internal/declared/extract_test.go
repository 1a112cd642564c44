package declared

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/driftcheck/driftcheck/internal/nix/ast"
	"github.com/driftcheck/driftcheck/internal/nix/parser"
)

// parseFiles parses Nix sources named a.nix, b.nix, … in order.
func parseFiles(t testing.TB, srcs ...string) []SourceFile {
	t.Helper()
	var files []SourceFile
	for i, src := range srcs {
		name := fmt.Sprintf("%c.nix", 'a'+i)
		f, err := parser.ParseFile(name, []byte(src))
		if err != nil {
			t.Fatalf("parse %s: %v\n%s", name, err, src)
		}
		files = append(files, SourceFile{Path: name, AST: f})
	}
	return files
}

// unit builds an expected unit; the type comes from the name's suffix.
func unit(name, file string, line int, opts ...func(*Unit)) Unit {
	u := Unit{Name: name, Type: UnitType(name), Scope: ScopeSystem, File: file, Line: line}
	for _, o := range opts {
		o(&u)
	}
	return u
}

func conditional(u *Unit) { u.Conditional = true }
func user(u *Unit)        { u.Scope = ScopeUser }
func impliedBy(by string) func(*Unit) {
	return func(u *Unit) { u.ImpliedBy = by }
}
func props(p Properties) func(*Unit) {
	return func(u *Unit) { u.Properties = p }
}
func ptr[T any](v T) *T { return &v }

type extractCase struct {
	name  string
	files []string
	want  []Unit
	// wantUnresolved: File, Line and Unit exact, Reason a substring.
	wantUnresolved []Unresolved
}

func runExtractCases(t *testing.T, cases []extractCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Extract(parseFiles(t, tc.files...))
			want := tc.want
			if want == nil {
				want = []Unit{}
			}
			if diff := cmp.Diff(want, got.Units, cmpopts.IgnoreFields(Unit{}, "Sites", "Definitions")); diff != "" {
				t.Errorf("units (-want +got):\n%s", diff)
			}
			checkUnresolved(t, got.Unresolved, tc.wantUnresolved)
		})
	}
}

func checkUnresolved(t *testing.T, got, want []Unresolved) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = got[i].File == want[i].File && got[i].Line == want[i].Line &&
			strings.Contains(got[i].Reason, want[i].Reason) && got[i].Unit == want[i].Unit
	}
	if !ok {
		t.Errorf("unresolved:\n got %+v\nwant %+v", got, want)
	}
}

var formsCases = []extractCase{
	{
		name: "dotted path",
		files: []string{`{
  systemd.services.foo = {
    description = "Foo";
    serviceConfig.Type = "oneshot";
    wantedBy = [ "multi-user.target" ];
  };
}`},
		want: []Unit{unit("foo.service", "a.nix", 2, props(Properties{Description: "Foo", Type: "oneshot",
			WantedBy: []string{"multi-user.target"}}))},
	},
	{
		name: "quoted names, templates and instances",
		files: []string{`{
  systemd.services."getty@tty1".enable = false;
  systemd.services."serial-getty@" = { };
  systemd.services."docker-prune".description = "x";
}`},
		want: []Unit{
			unit("docker-prune.service", "a.nix", 4, props(Properties{Description: "x"})),
			unit("getty@tty1.service", "a.nix", 2, props(Properties{Enable: ptr(false)})),
			unit("serial-getty@.service", "a.nix", 3),
		},
	},
	{
		name: "nested systemd set",
		files: []string{`{
  systemd = {
    services.backup = { serviceConfig.Type = "oneshot"; };
    timers.backup = {
      wantedBy = [ "timers.target" ];
      timerConfig = { OnCalendar = "daily"; Persistent = true; Unit = "backup.service"; };
    };
  };
}`},
		want: []Unit{
			unit("backup.service", "a.nix", 3, props(Properties{Type: "oneshot"})),
			unit("backup.timer", "a.nix", 4, props(Properties{OnCalendar: []string{"daily"},
				WantedBy: []string{"timers.target"}, Persistent: ptr(true), Unit: "backup.service"})),
		},
	},
	{
		name: "services set",
		files: []string{`{
  systemd.services = {
    one = { };
    "two" = { };
  };
  systemd.sockets.three = { };
  systemd.paths.four = { };
  systemd.targets.five = { };
  systemd.slices.six = { };
}`},
		want: []Unit{
			unit("five.target", "a.nix", 8),
			unit("four.path", "a.nix", 7),
			unit("one.service", "a.nix", 3),
			unit("six.slice", "a.nix", 9),
			unit("three.socket", "a.nix", 6),
			unit("two.service", "a.nix", 4),
		},
	},
	{
		name: "merged across files",
		files: []string{`{
  systemd.services.nginx.serviceConfig.Type = "simple";
}`, `{ lib, ... }:
{

  systemd.services.nginx.description = "web";
  systemd.services.other = { };
}`},
		want: []Unit{
			unit("nginx.service", "a.nix", 2, props(Properties{Type: "simple", Description: "web"})),
			unit("other.service", "b.nix", 5),
		},
	},
	{
		name: "function module",
		files: []string{`{ config, lib, pkgs, ... }:
{
  systemd.services.foo = { };
}`},
		want: []Unit{unit("foo.service", "a.nix", 3)},
	},
	{
		name: "config and options",
		files: []string{`{ config, lib, ... }:
{
  options.services.foo.enable = lib.mkEnableOption "foo";
  imports = [ ./other.nix ];
  config = {
    systemd.services.foo = { };
  };
}`},
		want: []Unit{unit("foo.service", "a.nix", 6)},
	},
	{
		name: "config only",
		files: []string{`{
  config.systemd.timers.t = { };
}`},
		want: []Unit{unit("t.timer", "a.nix", 2)},
	},
	{
		name: "inline modules in imports",
		files: []string{`{ config, lib, ... }:
{
  imports = [
    ./path-is-not-followed.nix
    { systemd.services.inline = { }; }
    ({ lib, ... }: { config = lib.mkIf config.x { systemd.services.inlinefn = { }; }; })
  ];
}`},
		want: []Unit{unit("inline.service", "a.nix", 5), unit("inlinefn.service", "a.nix", 6, conditional)},
	},
	{
		name: "let around the module",
		files: []string{`let
  name = "app";
in
{ pkgs, ... }:
let
  port = 80;
in {
  systemd.services.${name} = { };
}`},
		want: []Unit{unit("app.service", "a.nix", 8)},
	},
	{
		name: "user scope",
		files: []string{`{
  systemd.user.services.sync = { startAt = "hourly"; };
  systemd.user.timers.other = { };
  systemd.services.sync = { };
}`},
		want: []Unit{
			unit("other.timer", "a.nix", 3, user),
			unit("sync.service", "a.nix", 4),
			unit("sync.service", "a.nix", 2, user),
			unit("sync.timer", "a.nix", 2, user, impliedBy("startAt"), props(Properties{OnCalendar: []string{"hourly"}})),
		},
	},
	{
		name: "systemd.units, mounts and automounts",
		files: []string{`{
  systemd.units."foo.service".text = "";
  systemd.mounts = [
    { what = "/dev/sdb1";
      where = "/var/lib/docker"; }
  ];
  systemd.automounts = [ { where = "/mnt/my-data"; } ];
}`},
		want: []Unit{
			unit("foo.service", "a.nix", 2),
			unit("mnt-my\\x2ddata.automount", "a.nix", 7),
			unit("var-lib-docker.mount", "a.nix", 5),
		},
	},
}

func TestExtractForms(t *testing.T) { runExtractCases(t, formsCases) }

var wrappersCases = []extractCase{
	{
		name: "lib.mkIf on config",
		files: []string{`{ config, lib, ... }:
let cfg = config.services.foo; in
{
  options.services.foo.enable = lib.mkEnableOption "foo";
  config = lib.mkIf cfg.enable {
    systemd.services.foo = { };
  };
}`},
		want: []Unit{unit("foo.service", "a.nix", 6, conditional)},
	},
	{
		name: "bare mkIf under with lib",
		files: []string{`{ config, lib, ... }:
with lib;
{
  config = mkIf config.foo {
    systemd.services.foo = { };
  };
}`},
		want: []Unit{unit("foo.service", "a.nix", 5, conditional)},
	},
	{
		name: "inherit (lib) mkIf and mkMerge",
		files: []string{`{ config, lib, ... }:
let
  inherit (lib) mkIf mkMerge;
in {
  config = mkMerge [
    { systemd.services.always = { }; }
    (mkIf config.x { systemd.services.sometimes = { }; })
  ];
}`},
		want: []Unit{
			unit("always.service", "a.nix", 6),
			unit("sometimes.service", "a.nix", 7, conditional),
		},
	},
	{
		name: "priorities and ordering wrappers are not conditions",
		files: []string{`{ lib, ... }:
{
  systemd.services.a = lib.mkDefault { };
  systemd.services.b = lib.mkForce { };
  systemd.services.c = lib.mkOverride 900 { };
  systemd.services.d = lib.mkBefore { };
  systemd.services.e = lib.mkAfter { };
  systemd.services.f = lib.mkOrder 500 { };
  systemd = lib.mkForce { timers.g = { }; };
}`},
		want: []Unit{
			unit("a.service", "a.nix", 3), unit("b.service", "a.nix", 4), unit("c.service", "a.nix", 5),
			unit("d.service", "a.nix", 6), unit("e.service", "a.nix", 7), unit("f.service", "a.nix", 8),
			unit("g.timer", "a.nix", 9),
		},
	},
	{
		name: "optionalAttrs, update and if",
		files: []string{`{ config, lib, ... }:
{
  systemd.services = lib.optionalAttrs config.x {
    a = { };
  } // {
    b = { };
  } // (if config.y then { c = { }; } else { d = { }; })
    // optionalAttrs true { e = { }; };
}`},
		want: []Unit{
			unit("a.service", "a.nix", 4, conditional),
			unit("b.service", "a.nix", 6),
			unit("c.service", "a.nix", 7, conditional),
			unit("d.service", "a.nix", 7, conditional),
			unit("e.service", "a.nix", 8),
		},
	},
	{
		name: "conditions at the unit level",
		files: []string{`{ config, lib, ... }:
{
  systemd.services.a = if config.c then { description = "x"; } else { };
  systemd.services.b = lib.mkMerge [ { } (lib.mkIf config.c { description = "y"; }) ];
  systemd.services.c = if config.c then lib.mkIf config.d { } else { };
  systemd.services.d = lib.optionalAttrs config.c { };
  systemd.services.e.serviceConfig = lib.mkIf config.c { Type = "simple"; };
  systemd.services.f = lib.mkIf config.c (if config.d then { } else { });
}`},
		want: []Unit{
			unit("a.service", "a.nix", 3),
			unit("b.service", "a.nix", 4),
			unit("c.service", "a.nix", 5, conditional),
			unit("d.service", "a.nix", 6, conditional),
			unit("e.service", "a.nix", 7),
			unit("f.service", "a.nix", 8, conditional),
		},
	},
	{
		name: "update replaces the whole left attribute",
		files: []string{`{
  systemd = { services.gone = { }; } // { services.kept = { }; timers.t = { }; };
}`},
		want: []Unit{unit("kept.service", "a.nix", 2), unit("t.timer", "a.nix", 2)},
	},
	{
		name: "mkIf with a constant condition",
		files: []string{`{ lib, ... }:
{
  systemd.services.on = lib.mkIf true { };
  systemd.services.off = lib.mkIf false { };
}`},
		want: []Unit{unit("on.service", "a.nix", 3)},
	},
	{
		name: "assert and nested let",
		files: []string{`{ lib, ... }:
assert true;
let a = "x"; in
let b = "${a}-y"; in
{ systemd.services."${b}-z" = { }; }`},
		want: []Unit{unit("x-y-z.service", "a.nix", 5)},
	},
}

func TestExtractWrappers(t *testing.T) { runExtractCases(t, wrappersCases) }

var namesCases = []extractCase{
	{
		name: "let-bound prefix interpolated",
		files: []string{`let
  prefix = "ci-docker";
in {
  systemd.services."${prefix}-prune" = { };
  systemd.timers."${prefix}-prune" = { };
}`},
		want: []Unit{unit("ci-docker-prune.service", "a.nix", 4), unit("ci-docker-prune.timer", "a.nix", 5)},
	},
	{
		name: "dynamic key, concatenation, rec set",
		files: []string{`let
  base = "job";
  name = base + "-" + "one";
  names = rec { first = "a"; second = first + "b"; };
in {
  systemd.services.${name} = { };
  systemd.services.${names.second} = { };
}`},
		want: []Unit{unit("ab.service", "a.nix", 7), unit("job-one.service", "a.nix", 6)},
	},
	{
		name: "rec module",
		files: []string{`rec {
  unitName = "from-rec";
  systemd.services.${unitName} = { };
}`},
		want: []Unit{unit("from-rec.service", "a.nix", 3)},
	},
	{
		name: "names from config are not constant",
		files: []string{`{ config, lib, ... }:
let cfg = config.services.app; in
{
  systemd.services.${cfg.unitName} = { };
  systemd.services."app-${config.networking.hostName}" = { };
  systemd.services.static = { };
}`},
		want: []Unit{unit("static.service", "a.nix", 6)},
		wantUnresolved: []Unresolved{
			{File: "a.nix", Line: 4, Reason: "systemd.services: unit name ${cfg.unitName} is not a constant"},
			{File: "a.nix", Line: 5, Reason: `unit name "app-${config.networking.hostName}" is not a constant`},
		},
	},
	{
		name: "computed sets",
		files: []string{`{ config, lib, ... }:
with lib;
{
  systemd.services = mapAttrs' (n: v: nameValuePair "job-${n}" { }) config.jobs;
  systemd.timers = listToAttrs (map (x: { name = "t-${x}"; value = { }; }) config.xs);
  systemd.sockets = genAttrs config.names (n: { });
  systemd.paths = concatMapAttrs (n: v: { }) config.p;
  systemd.targets = someFunction config;
}`},
		wantUnresolved: []Unresolved{
			{File: "a.nix", Line: 4, Reason: `systemd.services: unit names computed by mapAttrs' (template "job-${n}")`},
			{File: "a.nix", Line: 5, Reason: `systemd.timers: unit names computed by listToAttrs (template "t-${x}")`},
			{File: "a.nix", Line: 6, Reason: "systemd.sockets: unit names computed by genAttrs over config.names"},
			{File: "a.nix", Line: 7, Reason: "systemd.paths: unit names computed by concatMapAttrs"},
			{File: "a.nix", Line: 8, Reason: "systemd.targets: unit names computed by someFunction"},
		},
	},
	{
		name: "template found in a let-bound helper",
		files: []string{`{ config, lib, ... }:
let
  inherit (lib) mapAttrs' nameValuePair;
  mkJob = name: job: nameValuePair "backup-${name}" (lib.mkIf job.enable { });
  mkTimer = n: { name = "t-${n}"; value = { }; };
in {
  systemd.services = mapAttrs' mkJob config.jobs;
  systemd.timers = lib.listToAttrs (map mkTimer config.names);
}`},
		wantUnresolved: []Unresolved{
			{File: "a.nix", Line: 7, Reason: `systemd.services: unit names computed by mapAttrs' (template "backup-${name}")`},
			{File: "a.nix", Line: 8, Reason: `systemd.timers: unit names computed by listToAttrs (template "t-${n}")`},
		},
	},
	{
		name: "static part next to a dynamic one",
		files: []string{`{ config, lib, ... }:
{
  systemd.services = (lib.listToAttrs config.xs) // {
    foo = { };
  };
}`},
		want: []Unit{unit("foo.service", "a.nix", 4)},
		wantUnresolved: []Unresolved{
			{File: "a.nix", Line: 3, Reason: "unit names computed by listToAttrs"},
		},
	},
	{
		name: "computed sets over constants resolve",
		files: []string{`{ lib, ... }:
let
  jobs = { a = { }; b = { }; };
in {
  systemd.services = lib.mapAttrs' (n: v: lib.nameValuePair "job-${n}" v) jobs
    // lib.genAttrs [ "x" "y" ] (n: { description = "gen ${n}"; })
    // lib.listToAttrs [ (lib.nameValuePair "l" { }) ];
}`},
		want: []Unit{
			unit("job-a.service", "a.nix", 3), unit("job-b.service", "a.nix", 3),
			unit("l.service", "a.nix", 7),
			unit("x.service", "a.nix", 6, props(Properties{Description: "gen x"})),
			unit("y.service", "a.nix", 6, props(Properties{Description: "gen y"})),
		},
	},
	{
		name: "generated values decided per name",
		files: []string{`{ lib, ... }:
{
  systemd.services = lib.genAttrs [
    "on"
    "off"
  ] (n: lib.mkIf (n == "on") { });
}`},
		want: []Unit{unit("on.service", "a.nix", 4)},
	},
	{
		name: "map over a constant list",
		files: []string{`{ lib, ... }:
{
  systemd.services = lib.listToAttrs (map (n: lib.nameValuePair "m-${n}" { }) [
    "a"
    "b"
  ]);
  systemd.timers = builtins.listToAttrs (map (n: { name = n; value = { }; }) config.names);
}`},
		want: []Unit{unit("m-a.service", "a.nix", 4), unit("m-b.service", "a.nix", 5)},
		wantUnresolved: []Unresolved{
			{File: "a.nix", Line: 7, Reason: "systemd.timers: unit names computed by listToAttrs (template n)"},
		},
	},
	{
		name: "lib from import <nixpkgs/lib>",
		files: []string{`with import <nixpkgs/lib>;
let l = import <nixpkgs/lib>; in
{
  systemd.services.a = mkIf true { };
  systemd.services.b = l.mkForce { };
}`},
		want: []Unit{unit("a.service", "a.nix", 4), unit("b.service", "a.nix", 5)},
	},
	{
		name: "whole systemd computed",
		files: []string{`{ lib, ... }:
{
  systemd = import ./units.nix;
}`},
		wantUnresolved: []Unresolved{{File: "a.nix", Line: 3, Reason: "systemd: settings computed by import"}},
	},
}

func TestExtractNames(t *testing.T) { runExtractCases(t, namesCases) }

var notDeclarationsCases = []extractCase{
	{
		name: "reads, strings and comments",
		files: []string{`{ config, pkgs, ... }:
{
  # systemd.services.commented = { };
  environment.etc.x.text = "systemd.services.instring = {};";
  services.foo.after = config.systemd.services.read.serviceConfig.Type;
  services.bar = { inherit (config.systemd.services) inherited; };
  systemd.services.real = { script = ''
    systemd.services.inscript = 1
  ''; };
}`},
		want: []Unit{unit("real.service", "a.nix", 7)},
	},
	{
		name: "containers, test nodes and other startAt",
		files: []string{`{ ... }:
{
  containers.web.config = { systemd.services.incontainer = { }; };
  nodes.machine = { ... }: { systemd.services.innode = { }; };
  nodes = { other = { systemd.services.innode2 = { }; }; };
  services.postgresqlBackup.startAt = "daily";
  services.borgbackup.jobs.x.startAt = "hourly";
  services.foo.timerConfig.OnCalendar = "weekly";
  specialisation.s.configuration.systemd.services.inspec = { };
}`},
	},
	{
		name: "systemd set to a plain value",
		files: []string{`{ config, ... }:
{
  systemd = toString config.systemd.package;
}`},
	},
	{
		name:  "not a module",
		files: []string{`{ stdenv, fetchurl }: stdenv.mkDerivation { name = "x"; }`},
	},
	{
		name: "NixOS test file",
		files: []string{`import ./make-test-python.nix ({ pkgs, ... }: {
  name = "t";
  nodes.machine = { systemd.services.x = { }; };
  testScript = "machine.succeed('systemctl start x')";
})`},
	},
	{
		name: "hidden module body is reported",
		files: []string{`{ lib, ... }:
builder {
  systemd.services.x = { };
}`},
		wantUnresolved: []Unresolved{{File: "a.nix", Line: 2, Reason: "configuration computed by builder"}},
	},
}

func TestExtractNotDeclarations(t *testing.T) { runExtractCases(t, notDeclarationsCases) }

var startAtCases = []extractCase{
	{
		name: "string, list, empty and unknown",
		files: []string{`{ config, lib, ... }:
{
  systemd.services.s = { startAt = "daily"; };
  systemd.services.l = { startAt = [ "Mon *-*-* 02:00" "Fri 03:00" ]; };
  systemd.services.e = { startAt = [ ]; };
  systemd.services.u = { startAt = config.dates; };
  systemd.services.o = { startAt = lib.optional config.x "weekly"; };
}`},
		want: []Unit{
			unit("e.service", "a.nix", 5),
			unit("l.service", "a.nix", 4),
			unit("l.timer", "a.nix", 4, impliedBy("startAt"), props(Properties{OnCalendar: []string{"Mon *-*-* 02:00", "Fri 03:00"}})),
			unit("o.service", "a.nix", 7),
			unit("o.timer", "a.nix", 7, conditional, impliedBy("startAt"), props(Properties{OnCalendar: []string{"weekly"}})),
			unit("s.service", "a.nix", 3),
			unit("s.timer", "a.nix", 3, impliedBy("startAt"), props(Properties{OnCalendar: []string{"daily"}})),
			unit("u.service", "a.nix", 6),
			unit("u.timer", "a.nix", 6, conditional, impliedBy("startAt")),
		},
	},
	{
		name: "startAt under conditions of its own",
		files: []string{`{ config, lib, ... }:
{
  systemd.services.i.startAt = if config.c then "daily" else "weekly";
  systemd.services.j.startAt = if config.c then [ ] else [ "daily" ];
  systemd.services.k.startAt = lib.mkIf config.c "daily";
  systemd.services.l.startAt = lib.mkDefault "daily";
  systemd.services.l.startAt = lib.mkForce [ ];
}`},
		want: []Unit{
			unit("i.service", "a.nix", 3),
			unit("i.timer", "a.nix", 3, impliedBy("startAt")),
			unit("j.service", "a.nix", 4),
			// If it exists, its calendar is the non-empty branch's.
			unit("j.timer", "a.nix", 4, conditional, impliedBy("startAt"), props(Properties{OnCalendar: []string{"daily"}})),
			unit("k.service", "a.nix", 5),
			unit("k.timer", "a.nix", 5, conditional, impliedBy("startAt"), props(Properties{OnCalendar: []string{"daily"}})),
			unit("l.service", "a.nix", 6), // mkForce [ ] beats mkDefault "daily": no timer
		},
	},
	{
		name: "startAt across files",
		files: []string{`{ config, lib, ... }:
{
  systemd.services.m.startAt = "daily";
}`, `{ config, lib, ... }:
{
  config = lib.mkMerge [
    (lib.mkIf config.c { systemd.services.m.startAt = "hourly"; })
    { systemd.services.n.startAt = lib.mkDefault "daily"; }
  ];
}`, `{ config, lib, ... }:
{
  config = lib.mkIf config.c { systemd.services.n.startAt = lib.mkForce [ ]; };
}`},
		want: []Unit{
			// m: certain in a.nix; b.nix may add a second calendar.
			unit("m.service", "a.nix", 3),
			unit("m.timer", "a.nix", 3, impliedBy("startAt")),
			// n: the timer goes away when c holds.
			unit("n.service", "b.nix", 5),
			unit("n.timer", "b.nix", 5, conditional, impliedBy("startAt"), props(Properties{OnCalendar: []string{"daily"}})),
		},
	},
	{
		name: "startAt merged with an explicit timer",
		files: []string{`{
  systemd.services.b = {
    startAt = "daily";
  };
  systemd.timers.b.timerConfig.Persistent = true;
}`},
		want: []Unit{
			unit("b.service", "a.nix", 2),
			unit("b.timer", "a.nix", 5, props(Properties{OnCalendar: []string{"daily"}, Persistent: ptr(true)})),
		},
	},
	{
		name: "startAt under mkIf",
		files: []string{`{ config, lib, ... }:
{
  config = lib.mkIf config.on { systemd.services.c.startAt = "hourly"; };
}`},
		want: []Unit{
			unit("c.service", "a.nix", 3, conditional),
			unit("c.timer", "a.nix", 3, conditional, impliedBy("startAt"), props(Properties{OnCalendar: []string{"hourly"}})),
		},
	},
}

func TestExtractStartAt(t *testing.T) { runExtractCases(t, startAtCases) }

var dockerImplicationsCases = []extractCase{
	{
		name:  "docker without autoPrune",
		files: []string{`{ virtualisation.docker.enable = true; }`},
		want:  []Unit{unit("docker-prune.service", "a.nix", 1, impliedBy("virtualisation.docker.enable"))},
	},
	{
		name: "docker with autoPrune, default dates",
		files: []string{`{
  virtualisation.docker = {
    enable = true;
    autoPrune.enable = true;
  };
}`},
		want: []Unit{
			unit("docker-prune.service", "a.nix", 3, impliedBy("virtualisation.docker.enable")),
			unit("docker-prune.timer", "a.nix", 4, impliedBy("virtualisation.docker.autoPrune.enable"),
				props(Properties{OnCalendar: []string{"weekly"}})),
		},
	},
	{
		name: "autoPrune in another file, dates set, enable under mkIf",
		files: []string{`{ config, lib, ... }:
{
  config = lib.mkIf config.ci.enable {
    virtualisation.docker.enable = true;
  };
}`, `{
  virtualisation.docker.autoPrune = { enable = true; dates = "daily"; };
}`},
		want: []Unit{
			unit("docker-prune.service", "a.nix", 4, conditional, impliedBy("virtualisation.docker.enable")),
			unit("docker-prune.timer", "b.nix", 2, conditional, impliedBy("virtualisation.docker.autoPrune.enable"),
				props(Properties{OnCalendar: []string{"daily"}})),
		},
	},
	{
		name: "autoPrune without docker, and docker forced off",
		files: []string{`{ lib, ... }:
{
  virtualisation.docker.autoPrune.enable = true;
  virtualisation.docker.enable = lib.mkDefault true;
}`, `{ lib, ... }: { virtualisation.docker.enable = lib.mkForce false; }`},
	},
	{
		name: "non-constant enable and dates",
		files: []string{`{ config, lib, ... }:
{
  virtualisation.docker.enable = config.ci.docker;
  virtualisation.docker.autoPrune = {
    enable = true;
    dates = config.ci.pruneDates;
  };
}`},
		want: []Unit{
			unit("docker-prune.service", "a.nix", 3, conditional, impliedBy("virtualisation.docker.enable")),
			unit("docker-prune.timer", "a.nix", 5, conditional, impliedBy("virtualisation.docker.autoPrune.enable")),
		},
	},
	{
		name: "the incident: git declares docker-prune, host runs ci-docker-prune",
		files: []string{`{ config, lib, pkgs, ... }:
{
  virtualisation.docker.enable = true;
  systemd.services.docker-prune = {
    description = "Prune docker";
    serviceConfig.Type = "oneshot";
  };
  systemd.timers.docker-prune = {
    wantedBy = [ "timers.target" ];
    timerConfig.OnCalendar = "daily";
  };
}`},
		want: []Unit{
			unit("docker-prune.service", "a.nix", 4, props(Properties{Description: "Prune docker", Type: "oneshot"})),
			unit("docker-prune.timer", "a.nix", 8, props(Properties{OnCalendar: []string{"daily"}, WantedBy: []string{"timers.target"}})),
		},
	},
}

func TestExtractDockerImplications(t *testing.T) { runExtractCases(t, dockerImplicationsCases) }

var propertiesCases = []extractCase{
	{
		name: "non-constant properties are left unset",
		files: []string{`{ config, lib, ... }:
{
  systemd.services.p = {
    description = "for ${config.networking.hostName}";
    enable = config.x;
    wantedBy = lib.optional config.y "multi-user.target";
    serviceConfig.Type = if config.z then "simple" else "oneshot";
  };
}`},
		want: []Unit{unit("p.service", "a.nix", 3)},
	},
	{
		name: "priorities pick the winner",
		files: []string{`{ lib, ... }:
{
  systemd.services.p = {
    serviceConfig.Type = lib.mkDefault "simple";
    description = lib.mkForce "forced";
  };
  systemd.services.p.serviceConfig.Type = "oneshot";
  systemd.services.p.description = "plain";
}`},
		want: []Unit{unit("p.service", "a.nix", 3, props(Properties{Type: "oneshot", Description: "forced"}))},
	},
	{
		name: "conditional definitions in other sites",
		files: []string{`{ lib, ... }:
{
  systemd.services.a.serviceConfig.Type = "oneshot";
  systemd.services.b.serviceConfig.Type = "oneshot";
  systemd.services.c.serviceConfig.Type = lib.mkDefault "simple";
  systemd.services.d.wantedBy = [ "multi-user.target" ];
}`, `{ config, lib, ... }:
{
  config = lib.mkIf config.x {
    systemd.services.a.serviceConfig.Type = lib.mkForce "simple";
    systemd.services.b.serviceConfig.Type = "oneshot";
    systemd.services.c.serviceConfig.Type = "notify";
    systemd.services.d.wantedBy = [ "default.target" ];
    systemd.services.e.description = "only here";
  };
}`},
		want: []Unit{
			unit("a.service", "a.nix", 3), // "simple" when x holds, else "oneshot"
			unit("b.service", "a.nix", 4, props(Properties{Type: "oneshot"})),
			unit("c.service", "a.nix", 5),
			unit("d.service", "a.nix", 6),
			unit("e.service", "b.nix", 8, conditional, props(Properties{Description: "only here"})),
		},
	},
	{
		name: "properties under a unit-level mkIf",
		files: []string{`{ config, lib, ... }:
{
  systemd.services.a = lib.mkIf config.x { description = "a"; };
  systemd.services.b = lib.mkIf config.x (if config.y then { description = "b1"; } else { description = "b2"; });
  systemd.services.c = lib.mkMerge [ { description = "c"; } (lib.mkIf config.x { serviceConfig.Type = "simple"; }) ];
  systemd.services.d = lib.mkMerge [ (lib.mkIf config.x { description = "d1"; }) (lib.mkIf config.y { description = "d2"; }) ];
}`},
		want: []Unit{
			unit("a.service", "a.nix", 3, conditional, props(Properties{Description: "a"})),
			unit("b.service", "a.nix", 4, conditional),
			unit("c.service", "a.nix", 5, props(Properties{Description: "c"})),
			unit("d.service", "a.nix", 6, conditional),
		},
	},
	{
		name: "let-bound helper applied to an attrset is inlined",
		files: []string{`{ lib, ... }:
{
  systemd = let
    mkTimer = { onCalendar, persistent ? true }: {
      wantedBy = [ "timers.target" ];
      timerConfig.OnCalendar = onCalendar;
      timerConfig.Persistent = persistent;
    };
  in {
    timers.monthly = mkTimer { onCalendar = "monthly"; };
  };
}`},
		want: []Unit{unit("monthly.timer", "a.nix", 10, props(Properties{OnCalendar: []string{"monthly"},
			WantedBy: []string{"timers.target"}, Persistent: ptr(true)}))},
	},
	{
		name: "unknown helper is an unresolved property, the unit stays",
		files: []string{`{ lib, ... }:
let helpers = import ./helpers.nix; in
{
  systemd.timers.t = helpers.mkTimer { onCalendar = "monthly"; };
}`},
		want:           []Unit{unit("t.timer", "a.nix", 4)},
		wantUnresolved: []Unresolved{{File: "a.nix", Line: 4, Reason: "properties of t.timer computed by helpers.mkTimer", Unit: "t.timer"}},
	},
}

func TestExtractProperties(t *testing.T) { runExtractCases(t, propertiesCases) }

func TestResultUnit(t *testing.T) {
	res := Extract(parseFiles(t, `{
  systemd.user.services.x = { };
  systemd.services.x = { };
}`))
	u, ok := res.Unit("x.service")
	if !ok || u.Scope != ScopeSystem || u.Line != 3 {
		t.Errorf("Unit(x.service) = %+v, %v; want the system unit at line 3", u, ok)
	}
	if _, ok := res.Unit("missing.service"); ok {
		t.Error("Unit(missing.service) found a unit")
	}
}

func TestSitesAndConflicts(t *testing.T) {
	tests := []struct {
		name      string
		files     []string
		unit      string
		wantSites []Site
		want      []string // Conflict.String()
	}{
		{
			name: "two files disagree on OnCalendar and Type",
			files: []string{`{
  systemd.timers.t.timerConfig.OnCalendar = "daily";
  systemd.services.t.serviceConfig.Type = "oneshot";
}`, `{
  systemd.timers.t.timerConfig.OnCalendar = "weekly";
}`},
			unit: "t.timer",
			wantSites: []Site{
				{File: "a.nix", Line: 2, Properties: Properties{OnCalendar: []string{"daily"}},
					Settings: map[string]Setting{"OnCalendar": {Line: 2, Priority: 100}}},
				{File: "b.nix", Line: 2, Properties: Properties{OnCalendar: []string{"weekly"}},
					Settings: map[string]Setting{"OnCalendar": {Line: 2, Priority: 100}}},
			},
			want: []string{`t.timer: OnCalendar set differently: a.nix:2 sets ["daily"]; b.nix:2 sets ["weekly"]`},
		},
		{
			name: "startAt against an explicit OnCalendar",
			files: []string{`{
  systemd.services.t.startAt = "daily";
  systemd.timers.t.timerConfig.OnCalendar = "hourly";
}`},
			unit: "t.timer",
			want: []string{`t.timer: OnCalendar set differently: a.nix:2 sets ["daily"]; a.nix:3 sets ["hourly"]`},
		},
		{
			name: "mkDefault, mkForce and mkIf do not conflict",
			files: []string{`{ config, lib, ... }:
{
  systemd.services.s.serviceConfig.Type = lib.mkDefault "simple";
  systemd.services.s.serviceConfig.Type = "oneshot";
  systemd.services.s.description = lib.mkIf config.x "a";
  systemd.services.s.description = "b";
}`, `{ lib, ... }: { systemd.services.s.serviceConfig.Type = lib.mkForce "notify"; }`},
			unit: "s.service",
		},
		{
			name: "same value twice is no conflict",
			files: []string{`{ systemd.services.s.serviceConfig.Type = "oneshot"; }`,
				`{ systemd.services.s.serviceConfig.Type = "oneshot"; }`},
			unit: "s.service",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, ok := Extract(parseFiles(t, tc.files...)).Unit(tc.unit)
			if !ok {
				t.Fatalf("unit %s not extracted", tc.unit)
			}
			if tc.wantSites != nil {
				if diff := cmp.Diff(tc.wantSites, u.Sites, cmpopts.IgnoreFields(Site{}, "Role")); diff != "" {
					t.Errorf("sites (-want +got):\n%s", diff)
				}
			}
			var got []string
			for _, c := range Conflicts(u) {
				got = append(got, c.String())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("conflicts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEscapePath(t *testing.T) {
	tests := map[string]string{
		"/":               "-",
		"/var/lib/docker": "var-lib-docker",
		"/mnt/my-data/":   `mnt-my\x2ddata`,
		"//srv//x":        "srv-x",
		"/.hidden/a.b":    `\x2ehidden-a.b`,
		"/with space/ü":   `with\x20space-\xc3\xbc`,
		"/a:b_c":          "a:b_c",
	}
	for in, want := range tests {
		if got := escapePath(in); got != want {
			t.Errorf("escapePath(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestReasonsHaveNoControlCharacters: reasons quote source text, which may
// hold terminal escapes; they must come out escaped.
func TestReasonsHaveNoControlCharacters(t *testing.T) {
	res := Extract(parseFiles(t, "{ config, ... }: { systemd.services.\"\x1b[31m${config.x}\x07\" = { }; }"))
	if len(res.Unresolved) != 1 {
		t.Fatalf("want one unresolved entry, got %+v", res.Unresolved)
	}
	reason := res.Unresolved[0].Reason
	if strings.ContainsAny(reason, "\x1b\x07") || !strings.Contains(reason, `\x1b[31m`) {
		t.Errorf("reason %q: control characters not escaped", reason)
	}
}

// allExtractCases are every table case, for tests that check properties
// across all of them.
func allExtractCases() []extractCase {
	var all []extractCase
	for _, cs := range [][]extractCase{formsCases, wrappersCases, namesCases, notDeclarationsCases, startAtCases, dockerImplicationsCases, propertiesCases, optionsCases} {
		all = append(all, cs...)
	}
	return all
}

// TestExtractEmptyAndNil: files that did not parse (nil AST) are skipped,
// and the slices of the result encode as JSON arrays, never null.
func TestExtractEmptyAndNil(t *testing.T) {
	res := Extract([]SourceFile{{Path: "broken.nix"}, {Path: "empty.nix", AST: &ast.File{Name: "empty.nix"}}})
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"units":[],"unresolved":[],"errors":[]}`; string(b) != want {
		t.Errorf("Extract of unparsed files = %s, want %s", b, want)
	}
}
