# nixpkgs.lib.nixosSystem and <nixpkgs/nixos> of the stand-in: the modules
# evaluated with nixpkgs' lib, the stand-in's options and a few fake packages.
lib:
{ modules ? [ ], specialArgs ? { }, system ? "x86_64-linux", ... }:
let
  fakePackage = name: derivation {
    inherit name system;
    builder = "/bin/sh";
    args = [ "-c" "echo ${name} > $out" ];
  };
  pkgs = lib.genAttrs [ "docker" "coreutils" "bash" "hello" "telegraf" ] fakePackage;
in
lib.evalModules {
  inherit specialArgs;
  modules = [ ./modules.nix { _module.args.pkgs = pkgs; } ] ++ modules;
}
