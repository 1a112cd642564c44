# Lambdas with trailing commas (RFC 166 style), @-patterns on both sides,
# operators of every precedence level, and the Nix 2.8 number quirks.
{
  lib,
  pkgs,
  ...
}@args:
let
  f = x: y: x + y * 2 - -1;
  g = args@{ a, b ? 2, }: a // { inherit b; };
  h = { ... }: null;
  cmp = a: b: a < b || a >= b && !(a == b) -> a != b;
  lists = [ 1 2.5 .5 1. ] ++ [ (f 1 2) ] ++ [ ];
  sel = args.pkgs.hello or (throw "no hello");
  has = args ? pkgs.hello;
  legacy = let { body = 1; };
  recSet = rec { a = 1; b = a + 1; "c d" = b; ${"e"} = 3; };
  quoted = { "systemd.services" = 1; or = 2; }.or;
  orArg = map or;
in
assert lib.isFunction f;
if has then g { a = 1; } else h { }
