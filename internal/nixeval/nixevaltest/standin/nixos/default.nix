# <nixpkgs/nixos> of the stand-in: import <nixpkgs/nixos> { configuration = …; }.
{ configuration ? import <nixos-config>, system ? "x86_64-linux" }:
let
  eval = import ./eval-config.nix (import ../lib) { inherit system; modules = [ configuration ]; };
in
{
  inherit (eval) config options;
  system = eval.config.system.build.toplevel;
}
