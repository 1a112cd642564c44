package declared

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

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
	u := Unit{Name: name, Type: unitType(name), Scope: ScopeSystem, File: file, Line: line}
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
			if diff := cmp.Diff(want, got.Units, cmpopts.IgnoreFields(Unit{}, "Sites")); diff != "" {
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

func TestExtractForms(t *testing.T) {
	runExtractCases(t, []extractCase{
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
	})
}

func TestExtractWrappers(t *testing.T) {
	runExtractCases(t, []extractCase{
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
	})
}

func TestExtractNames(t *testing.T) {
	runExtractCases(t, []extractCase{
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
			name: "whole systemd computed",
			files: []string{`{ lib, ... }:
{
  systemd = import ./units.nix;
}`},
			wantUnresolved: []Unresolved{{File: "a.nix", Line: 3, Reason: "systemd: settings computed by import"}},
		},
	})
}

func TestExtractNotDeclarations(t *testing.T) {
	runExtractCases(t, []extractCase{
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
	})
}

func TestExtractStartAt(t *testing.T) {
	runExtractCases(t, []extractCase{
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
	})
}

func TestExtractDockerImplications(t *testing.T) {
	runExtractCases(t, []extractCase{
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
	})
}

func TestExtractProperties(t *testing.T) {
	runExtractCases(t, []extractCase{
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
	})
}

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
				if diff := cmp.Diff(tc.wantSites, u.Sites); diff != "" {
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
