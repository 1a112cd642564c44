# Evaluates flake.nix's outputs with a stub nixpkgs (no download, no
# build): the output attribute names, the package wiring and the module
# import. Used by nix/nix_test.go:
#
#   nix-instantiate --readonly-mode --eval --strict --json nix/tests/eval-flake.nix
let
  flake = import ../../flake.nix;

  genAttrs = names: f: builtins.listToAttrs (map (n: { name = n; value = f n; }) names);

  pkgsFor = system: {
    stdenv.hostPlatform.system = system;
    callPackage = path: args: { type = "derivation"; name = "driftcheck"; inherit system; path = toString path; };
    runCommand = name: env: script: { type = "derivation"; inherit name system; };
  };

  nixpkgs = {
    lib = {
      inherit genAttrs;
      mkDefault = x: { _type = "override"; priority = 1000; content = x; };
      nixosSystem = args: {
        # Stand-in for a NixOS evaluation: what the module-eval check reads.
        config.systemd = {
          timers.ci-docker-prune.timerConfig = { Persistent = true; OnCalendar = "daily"; };
          services.ci-docker-prune.serviceConfig.Type = "oneshot";
        };
      };
    };
    legacyPackages = genAttrs [ "x86_64-linux" "aarch64-linux" ] pkgsFor;
  };

  outputs = flake.outputs { inherit self nixpkgs; };
  self = outputs // { outPath = toString ../..; };

  module = outputs.nixosModules.default { pkgs = pkgsFor "x86_64-linux"; };
in
{
  inputs = builtins.attrNames flake.inputs;
  outputs = builtins.attrNames outputs;
  packages = builtins.mapAttrs (system: ps: builtins.attrNames ps) outputs.packages;
  packagePath = outputs.packages.x86_64-linux.default.path;
  checks = builtins.mapAttrs (system: cs: builtins.attrNames cs) outputs.checks;
  moduleEvalCheck = outputs.checks.x86_64-linux.module-eval.name;
  moduleImports = map toString module.imports;
  modulePackageSystem = module.services.driftcheck.package.content.system;
  overlay = (outputs.overlays.default (pkgsFor "x86_64-linux") { }).driftcheck.name;
}
