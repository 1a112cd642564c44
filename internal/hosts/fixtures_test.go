package hosts_test

// Fixture repositories, one per way real repositories define hosts. Each is
// a real git repository; the hosts are read from git objects via revfs.

// hostModule is a host's entry module that imports a shared module and a
// file of its own.
const sharedModule = `{ pkgs, ... }: { systemd.services.shared = { script = "true"; }; }`

var fixtures = map[string]struct {
	files map[string]string
	// want: host → its closure (files), sorted.
	want map[string][]string
	// external: host → external modules (only checked when set).
	external map[string][]string
}{
	"literal nixosSystem": {
		files: map[string]string{
			"flake.nix": `{
  inputs.nixpkgs.url = "github:nixos/nixpkgs";
  inputs.sops-nix.url = "github:mic92/sops-nix";
  outputs = { self, nixpkgs, ... }@inputs: {
    nixosConfigurations.web = nixpkgs.lib.nixosSystem {
      modules = [ ./hosts/web inputs.sops-nix.nixosModules.sops ];
      specialArgs = { inherit inputs; };
    };
    nixosConfigurations.db = inputs.nixpkgs.lib.nixosSystem { modules = [ ./hosts/db.nix ]; };
  };
}`,
			"hosts/web/default.nix":  `{ inputs, ... }: { imports = [ ../../modules/shared.nix ./hardware.nix inputs.sops-nix.nixosModules.sops ]; }`,
			"hosts/web/hardware.nix": `{ }`,
			"hosts/db.nix":           `{ imports = [ ../modules/shared.nix ]; }`,
			"modules/shared.nix":     sharedModule,
			"modules/unused.nix":     sharedModule,
		},
		want: map[string][]string{
			"web": {"hosts/web/default.nix", "hosts/web/hardware.nix", "modules/shared.nix"},
			"db":  {"hosts/db.nix", "modules/shared.nix"},
		},
		external: map[string][]string{"web": {"inputs.sops-nix.nixosModules.sops"}, "db": {}},
	},
	"let-bound and imported helpers": {
		files: map[string]string{
			"flake.nix": `{
  outputs = { nixpkgs, ... }@inputs:
    let
      lib = nixpkgs.lib;
      mkHost = system: entry: lib.nixosSystem { inherit system; modules = [ ./modules entry ]; };
      mkNixos = import ./lib/mkNixos.nix { inherit inputs; };
    in {
      nixosConfigurations = {
        a = mkHost "x86_64-linux" ./hosts/a.nix;
        b = mkNixos { hostname = "b"; };
      };
    };
}`,
			"lib/mkNixos.nix":     `{ inputs }: { hostname, platform ? "x86_64-linux" }: inputs.nixpkgs.lib.nixosSystem { modules = [ ../hosts/${hostname}.nix ]; specialArgs = { inherit hostname; }; }`,
			"modules/default.nix": `{ imports = [ ./shared.nix ]; }`,
			"modules/shared.nix":  sharedModule,
			"hosts/a.nix":         `{ }`,
			"hosts/b.nix":         `{ hostname, lib, ... }: { imports = lib.optional (hostname == "b") ../modules/shared.nix ++ lib.optionals (hostname == "a") [ ./a.nix ]; }`,
		},
		want: map[string][]string{
			"a": {"hosts/a.nix", "modules/default.nix", "modules/shared.nix"},
			"b": {"hosts/b.nix", "modules/shared.nix"},
		},
	},
	"genAttrs over a list, mapAttrs over readDir": {
		files: map[string]string{
			"flake.nix": `{
  outputs = { self, nixpkgs }:
    let
      inherit (nixpkgs) lib;
      viaList = lib.genAttrs [ "one" "two" ] (n: lib.nixosSystem { modules = [ (./list + "/${n}.nix") ]; });
      viaDir = lib.mapAttrs (n: _: lib.nixosSystem { modules = [ ./machines/${n} ]; })
        (lib.filterAttrs (_: t: t == "directory") (builtins.readDir ./machines));
      viaPairs = builtins.listToAttrs (map (n: { name = n; value = lib.nixosSystem { modules = [ "${self}/list/${n}.nix" ]; }; }) [ "three" ]);
    in { nixosConfigurations = viaList // viaDir // viaPairs; };
}`,
			"list/one.nix":   `{ }`,
			"list/two.nix":   `{ }`,
			"list/three.nix": `{ }`,
			"machines/core01.example.org/default.nix": `{ imports = [ ./hw.nix ]; }`,
			"machines/core01.example.org/hw.nix":      `{ }`,
			"machines/core02.example.org/default.nix": `{ }`,
			"machines/README.md":                      "not a host\n",
		},
		want: map[string][]string{
			"one": {"list/one.nix"}, "two": {"list/two.nix"}, "three": {"list/three.nix"},
			"core01.example.org": {"machines/core01.example.org/default.nix", "machines/core01.example.org/hw.nix"},
			"core02.example.org": {"machines/core02.example.org/default.nix"},
		},
	},
	"per-host nixosModules": {
		files: map[string]string{
			"flake.nix": `{
  outputs = { self, nixpkgs }:
    let common = [ ./common.nix ];
    in {
      nixosModules = {
        alpha = { imports = common ++ [ ./hosts/alpha.nix ]; };
        beta = { imports = common ++ [ ./hosts/beta.nix self.nixosModules.extra ]; };
        extra = import ./extra.nix;
      };
      nixosConfigurations = nixpkgs.lib.mapAttrs (name: m: nixpkgs.lib.nixosSystem { modules = [ m ]; })
        (builtins.removeAttrs self.nixosModules [ "extra" ]);
    };
}`,
			"common.nix":      `{ }`,
			"hosts/alpha.nix": `{ }`,
			"hosts/beta.nix":  `{ }`,
			"extra.nix":       `{ config, ... }: { imports = [ ]; }`,
		},
		want: map[string][]string{
			"alpha": {"common.nix", "hosts/alpha.nix"},
			"beta":  {"common.nix", "extra.nix", "hosts/beta.nix"},
		},
	},
	"flake-parts": {
		files: map[string]string{
			"flake.nix": `{
  inputs.flake-parts.url = "github:hercules-ci/flake-parts";
  inputs.nixpkgs.url = "github:nixos/nixpkgs";
  inputs.treefmt.url = "github:numtide/treefmt-nix";
  outputs = inputs@{ flake-parts, ... }:
    flake-parts.lib.mkFlake { inherit inputs; } {
      systems = [ "x86_64-linux" ];
      imports = [ ./machines/flake-module.nix inputs.treefmt.flakeModule ];
    };
}`,
			"machines/flake-module.nix": `{ inputs, self, ... }: {
  flake.nixosConfigurations.box = inputs.nixpkgs.lib.nixosSystem { modules = [ ./box/configuration.nix ]; };
  flake.nixosModules.shared = ../modules/shared.nix;
}`,
			"machines/box/configuration.nix": `{ imports = [ ../../modules/shared.nix ]; }`,
			"modules/shared.nix":             sharedModule,
		},
		want: map[string][]string{"box": {"machines/box/configuration.nix", "modules/shared.nix"}},
	},
	"colmena hive": {
		files: map[string]string{
			"flake.nix": `{
  outputs = { self, nixpkgs, colmena }: {
    colmena = {
      meta = { nixpkgs = import nixpkgs { system = "x86_64-linux"; }; specialArgs = { site = "ams"; }; };
      defaults = { imports = [ ./common.nix ]; };
      web1 = { name, site, ... }: { imports = [ ./nodes/${name}.nix ./sites/${site}.nix ]; };
      web2 = import ./nodes/web2.nix;
    };
  };
}`,
			"common.nix":     `{ }`,
			"nodes/web1.nix": `{ }`,
			"nodes/web2.nix": `{ ... }: { }`,
			"sites/ams.nix":  `{ }`,
		},
		want: map[string][]string{
			"web1": {"common.nix", "nodes/web1.nix", "sites/ams.nix"},
			"web2": {"common.nix", "nodes/web2.nix"},
		},
	},
	"clan": {
		files: map[string]string{
			"flake.nix": `{
  inputs.clan-core.url = "https://git.clan.lol/clan/clan-core/archive/main.tar.gz";
  outputs = { self, clan-core, ... }:
    let clan = clan-core.lib.clan {
      inherit self;
      inventory.machines.jon.tags = [ "desktop" ];
      inventory.machines.sara = { };
      inventory.instances = {
        desktop = { module.name = "importer"; roles.default.tags = [ "desktop" ]; roles.default.extraModules = [ ./modules/desktop.nix ]; };
        admin = { module.name = "admin"; roles.default.tags.all = { }; };
      };
    };
    in { inherit (clan) nixosConfigurations; };
}`,
			"machines/jon/configuration.nix":  `{ }`,
			"machines/jon/disko.nix":          `{ }`,
			"machines/sara/configuration.nix": `{ }`,
			"machines/lone/configuration.nix": `{ }`,
			"modules/desktop.nix":             `{ }`,
		},
		want: map[string][]string{
			"jon":  {"machines/jon/configuration.nix", "machines/jon/disko.nix", "modules/desktop.nix"},
			"sara": {"machines/sara/configuration.nix"},
			"lone": {"machines/lone/configuration.nix"},
		},
		external: map[string][]string{
			"jon":  {"clan service admin (instance admin, role default)"},
			"sara": {"clan service admin (instance admin, role default)"},
			"lone": {"clan service admin (instance admin, role default)"},
		},
	},
	"configuration.nix at the root": {
		files: map[string]string{
			"configuration.nix":          `{ imports = [ ./hardware-configuration.nix ]; networking.hostName = "ci01"; }`,
			"hardware-configuration.nix": `{ modulesPath, ... }: { imports = [ (modulesPath + "/installer/scan/not-detected.nix") ]; }`,
		},
		want:     map[string][]string{"ci01": {"configuration.nix", "hardware-configuration.nix"}},
		external: map[string][]string{"ci01": {"modulesPath/installer/scan/not-detected.nix"}},
	},
	"closure forms": {
		files: map[string]string{
			"flake.nix": `{
  outputs = { self, nixpkgs }: {
    nixosConfigurations.h = nixpkgs.lib.nixosSystem { modules = [ ./host.nix ]; specialArgs = { inherit self; }; };
    nixosModules = { a = ./mods/a.nix; b = import ./mods/b.nix; };
  };
}`,
			"host.nix": `{ self, lib, ... }: {
  imports = [
    (./. + "/plain.nix")
    "${self}/str.nix"
    self.nixosModules.a
  ] ++ builtins.attrValues { inherit (self.nixosModules) b; }
    ++ map (f: ./users + "/${f}") (builtins.attrNames (builtins.readDir ./users))
    ++ lib.filesystem.listFilesRecursive ./services
    ++ lib.optional false ./never.nix;
}`,
			"plain.nix":        `{ }`,
			"str.nix":          `{ }`,
			"mods/a.nix":       `{ }`,
			"mods/b.nix":       `{ lib, ... }: { imports = [ ]; }`,
			"users/alice.nix":  `{ }`,
			"services/x/y.nix": `{ }`,
			"services/z.nix":   `{ }`,
			"never.nix":        `{ }`,
		},
		want: map[string][]string{"h": {"host.nix", "mods/a.nix", "mods/b.nix", "plain.nix", "services/x/y.nix", "services/z.nix", "str.nix", "users/alice.nix"}},
	},
}
