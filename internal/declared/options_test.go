package declared

import "testing"

func notes(n ...string) func(*Unit) {
	return func(u *Unit) { u.Notes = n }
}

// appModule declares services.app and names its service from an option.
const appModule = `{ config, lib, ... }:
let cfg = config.services.app; in
{
  options.services.app = {
    enable = lib.mkEnableOption "app";
    unitName = lib.mkOption { type = lib.types.str; default = "app-default"; };
  };
  config = {
    systemd.services.${cfg.unitName} = { serviceConfig.Type = "oneshot"; };
  };
}`

// gatedModule is appModule with its units under mkIf cfg.enable.
const gatedModule = `{ config, lib, ... }:
let cfg = config.services.app; in
{
  options.services.app.enable = lib.mkEnableOption "app";
  config = lib.mkIf cfg.enable {
    systemd.services.gated = { };
  };
}`

const fromDefault = "name from option default services.app.unitName"

var optionsCases = []extractCase{
	{
		name:  "option default names the unit",
		files: []string{appModule},
		want: []Unit{unit("app-default.service", "a.nix", 9, props(Properties{Type: "oneshot"}),
			notes(fromDefault))},
	},
	{
		name:  "plain definition in another file beats the default",
		files: []string{appModule, `{ services.app.unitName = "app-b"; }`},
		want:  []Unit{unit("app-b.service", "a.nix", 9, props(Properties{Type: "oneshot"}))},
	},
	{
		name:  "mkDefault definition beats the default",
		files: []string{appModule, `{ lib, ... }: { services.app.unitName = lib.mkDefault "soft"; }`},
		want:  []Unit{unit("soft.service", "a.nix", 9, props(Properties{Type: "oneshot"}))},
	},
	{
		name: "priorities between definitions",
		files: []string{appModule,
			`{ lib, ... }: { services.app.unitName = lib.mkDefault "soft"; }`,
			`{ services = { app = { unitName = "plain"; }; }; }`,
			`{ lib, ... }: { services.app.unitName = lib.mkForce "forced"; }`,
			`{ lib, ... }: { services.app.unitName = lib.mkOverride 60 "override-60"; }`},
		want: []Unit{unit("forced.service", "a.nix", 9, props(Properties{Type: "oneshot"}))},
	},
	{
		name:  "two conflicting plain definitions",
		files: []string{appModule, `{ services.app.unitName = "one"; }`, `{ services.app.unitName = "two"; }`},
		wantUnresolved: []Unresolved{{File: "a.nix", Line: 9, Reason: "systemd.services: unit name ${cfg.unitName} is not a constant: " +
			"services.app.unitName has 2 conflicting definitions (b.nix:1, c.nix:1)"}},
	},
	{
		name:  "two equal definitions agree",
		files: []string{appModule, `{ services.app.unitName = "one"; }`, `{ services.app.unitName = "one"; }`},
		want:  []Unit{unit("one.service", "a.nix", 9, props(Properties{Type: "oneshot"}))},
	},
	{
		name: "definition under mkIf, no default",
		files: []string{`{ config, lib, ... }:
{
  options.services.app.unitName = lib.mkOption { type = lib.types.str; };
  config.systemd.services.${config.services.app.unitName} = { };
}`, `{ config, lib, ... }:
{
  config = lib.mkIf config.services.other.enable { services.app.unitName = "maybe"; };
}`},
		want: []Unit{unit("maybe.service", "a.nix", 4, conditional)},
	},
	{
		name:  "definition under mkIf next to the default",
		files: []string{appModule, `{ config, lib, ... }: lib.mkIf config.x { services.app.unitName = "maybe"; }`},
		want: []Unit{
			unit("app-default.service", "a.nix", 9, conditional, props(Properties{Type: "oneshot"}), notes(fromDefault)),
			unit("maybe.service", "a.nix", 9, conditional, props(Properties{Type: "oneshot"})),
		},
	},
	{
		name:  "mkIf false definition is dropped",
		files: []string{appModule, `{ lib, ... }: { config = lib.mkIf false { services.app.unitName = "never"; }; }`},
		want: []Unit{unit("app-default.service", "a.nix", 9, props(Properties{Type: "oneshot"}),
			notes(fromDefault))},
	},
	{
		name: "mkEnableOption and mkOption defaults read as values",
		files: []string{`{ config, lib, ... }:
let cfg = config.services.app; in
{
  options.services.app.enable = lib.mkEnableOption "app";
  options.services.app.calendar = lib.mkOption { default = "weekly"; };
  config.systemd.timers.app = {
    enable = cfg.enable;
    timerConfig.OnCalendar = cfg.calendar;
  };
}`},
		want: []Unit{unit("app.timer", "a.nix", 6, props(Properties{Enable: ptr(false), OnCalendar: []string{"weekly"}}))},
	},
	{
		name: "conditions on defaults stay conditions",
		files: []string{`{ config, lib, ... }:
let cfg = config.services.app; in
{
  options.services.app.enable = lib.mkEnableOption "app";
  options.services.app.extra = lib.mkOption { type = lib.types.bool; default = true; };
  config = lib.mkMerge [
    (lib.mkIf cfg.enable { systemd.services.on = { }; })
    (lib.mkIf (!cfg.enable) { systemd.services.off = { }; })
    (lib.mkIf cfg.extra { systemd.services.extra = { }; })
    (lib.mkIf (cfg.enable || cfg.extra) { systemd.services.either = { }; })
  ];
}`},
		want: []Unit{
			unit("either.service", "a.nix", 10, conditional),
			unit("extra.service", "a.nix", 9, conditional),
			unit("off.service", "a.nix", 8, conditional),
			unit("on.service", "a.nix", 7, conditional),
		},
	},
	{
		name:  "a definition decides the condition",
		files: []string{gatedModule, `{ services.app.enable = true; }`},
		want:  []Unit{unit("gated.service", "a.nix", 6)},
	},
	{
		name:  "a forced false definition removes the unit",
		files: []string{gatedModule, `{ services.app.enable = true; }`, `{ lib, ... }: { services.app.enable = lib.mkForce false; }`},
	},
	{
		name:  "enable defined under mkIf stays conditional",
		files: []string{gatedModule, `{ config, lib, ... }: { services.app.enable = lib.mkIf config.x true; }`},
		want:  []Unit{unit("gated.service", "a.nix", 6, conditional)},
	},
	{
		name: "definitions under another module's mkIf, decided by a third file",
		files: []string{`{ config, lib, ... }:
let cfg = config.services.ci; in {
  options.services.ci.enable = lib.mkEnableOption "ci";
  options.services.ci.dates = lib.mkOption { default = "monthly"; };
  config = lib.mkIf cfg.enable {
    services.app.unitName = "from-ci";
    virtualisation.docker.enable = true;
    virtualisation.docker.autoPrune.enable = true;
    virtualisation.docker.autoPrune.dates = cfg.dates;
  };
}`, appModule, `{ services.ci.enable = true; }`},
		want: []Unit{
			unit("docker-prune.service", "a.nix", 7, impliedBy("virtualisation.docker.enable")),
			unit("docker-prune.timer", "a.nix", 8, impliedBy("virtualisation.docker.autoPrune.enable"),
				props(Properties{OnCalendar: []string{"monthly"}})),
			unit("from-ci.service", "b.nix", 9, props(Properties{Type: "oneshot"})),
		},
	},
	{
		name: "module enabling itself under its own condition",
		files: []string{`{ config, lib, ... }:
let cfg = config.services.app; in
{
  options.services.app.enable = lib.mkEnableOption "app";
  options.services.app.unitName = lib.mkOption { default = "self"; };
  config = lib.mkIf cfg.enable {
    services.app.enable = true;
    systemd.services.${cfg.unitName} = { };
  };
}`},
		want: []Unit{unit("self.service", "a.nix", 8, conditional, notes(fromDefault))},
	},
	{
		name: "cycles",
		files: []string{`{ config, lib, ... }:
{
  options.services.loop.name = lib.mkOption { default = config.services.loop.name; };
  options.services.loop.a = lib.mkOption { default = "x-${config.services.loop.b}"; };
  options.services.loop.b = lib.mkOption { default = config.services.loop.a; };
  config.systemd.services.${config.services.loop.name} = { };
  config.systemd.timers.${config.services.loop.a} = { };
}`},
		wantUnresolved: []Unresolved{
			{File: "a.nix", Line: 6, Reason: "services.loop.name has no static default: services.loop.name depends on itself"},
			{File: "a.nix", Line: 7, Reason: "services.loop.a has no static default: services.loop.a depends on itself"},
		},
	},
	{
		name: "module shapes: args@, options and config, nested options, with lib, mkPackageOption",
		files: []string{`args@{ lib, ... }:
with lib;
let cfg = args.config.services.shapes; in
{
  options = {
    services.shapes = {
      name = mkOption { default = "shaped"; };
      package = mkPackageOption args.pkgs "hello" { };
    };
  };
  config = {
    systemd.services.${cfg.name} = { };
    systemd.services."${cfg.name}-${cfg.package}" = { };
  };
}`},
		want: []Unit{unit("shaped.service", "a.nix", 12, notes("name from option default services.shapes.name"))},
		wantUnresolved: []Unresolved{{File: "a.nix", Line: 13,
			Reason: `unit name "${cfg.name}-${cfg.package}" is not a constant: services.shapes.package has no static default`}},
	},
	{
		name: "with cfg",
		files: []string{`{ config, lib, ... }:
let cfg = config.services.app; in
with cfg;
{
  options.services.app.unitName = lib.mkOption { default = "with-name"; };
  config.systemd.services.${unitName} = { };
}`},
		want: []Unit{unit("with-name.service", "a.nix", 6, notes(fromDefault))},
	},
	{
		name:  "definitions hidden behind an unreadable value",
		files: []string{appModule, `{ services.app = import ./app-settings.nix; }`},
		wantUnresolved: []Unresolved{{File: "a.nix", Line: 9,
			Reason: "services.app.unitName may be set at b.nix:1 by a value that cannot be read statically"}},
	},
	{
		name: "option without default or definition",
		files: []string{`{ config, lib, ... }:
{
  options.services.app.unitName = lib.mkOption { type = lib.types.str; };
  config.systemd.services.${config.services.app.unitName} = { };
}`},
		wantUnresolved: []Unresolved{{File: "a.nix", Line: 4, Reason: "services.app.unitName has no definition and no default"}},
	},
	{
		name: "names built from defaults, and the startAt timer",
		files: []string{`{ config, lib, ... }:
let cfg = config.services.web; in
{
  options.services.web = {
    prefix = lib.mkOption { default = "ci"; };
    port = lib.mkOption { default = 8080; };
    calendar = lib.mkOption { default = "hourly"; };
  };
  config.systemd.services."${cfg.prefix}-web-${toString cfg.port}" = {
    startAt = cfg.calendar;
  };
}`},
		want: []Unit{
			unit("ci-web-8080.service", "a.nix", 9,
				notes("name from option default services.web.prefix", "name from option default services.web.port")),
			unit("ci-web-8080.timer", "a.nix", 10, impliedBy("startAt"), props(Properties{OnCalendar: []string{"hourly"}}),
				notes("name from option default services.web.prefix", "name from option default services.web.port")),
		},
	},
	{
		name: "list definitions are joined",
		files: []string{`{ config, lib, ... }:
{
  options.services.app.wantedBy = lib.mkOption { default = [ "multi-user.target" ]; };
  config.systemd.services.app.wantedBy = config.services.app.wantedBy;
}`, `{ services.app.wantedBy = [ "a.target" ]; }`, `{ services.app.wantedBy = [ "b.target" ]; }`},
		want: []Unit{unit("app.service", "a.nix", 4, props(Properties{WantedBy: []string{"a.target", "b.target"}}))},
	},
	{
		name: "docker enabled from an option default may be enabled",
		files: []string{`{ config, lib, ... }:
{
  options.ci.docker = lib.mkOption { default = true; };
  config.virtualisation.docker.enable = config.ci.docker;
}`},
		want: []Unit{unit("docker-prune.service", "a.nix", 4, conditional, impliedBy("virtualisation.docker.enable"))},
	},
	{
		name: "reads of undeclared options stay unknown",
		files: []string{`{ config, lib, ... }:
let cfg = config.services.app; in
{
  options.services.app.unitName = lib.mkOption { default = "x"; };
  config.systemd.services.${cfg.other} = { };
}`},
		wantUnresolved: []Unresolved{{File: "a.nix", Line: 5, Reason: "systemd.services: unit name ${cfg.other} is not a constant"}},
	},
}

func TestExtractOptions(t *testing.T) { runExtractCases(t, optionsCases) }
