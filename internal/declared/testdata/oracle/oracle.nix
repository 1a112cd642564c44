# Evaluates one fixture module with the stub lib and lists the unit
# attribute names it defines, per systemd namespace.
{ file }:
let
  lib = import ./stub-lib.nix;
  m0 = import file;
  m = if builtins.isFunction m0
    then m0 { config = { }; inherit lib; pkgs = { }; options = { }; }
    else m0;
  c = if m ? config || m ? options then m.config or { } else m;
  sd = c.systemd or { };
  user = sd.user or { };
  names = set: k: builtins.attrNames (set.${k} or { });
in {
  services = names sd "services";
  timers = names sd "timers";
  sockets = names sd "sockets";
  userServices = names user "services";
  userTimers = names user "timers";
}
