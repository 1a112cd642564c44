# Evaluates one fixture module with the stub lib and lists the unit
# attribute names it defines, per systemd namespace. config is the
# module's own option defaults (a fixpoint, as the module system builds
# it when nothing defines the options).
{ file }:
let
  lib = import ./stub-lib.nix;
  m0 = import file;
  m = if builtins.isFunction m0
    then m0 { inherit config lib; pkgs = { }; options = { }; }
    else m0;
  defaults = o:
    if o._type or null == "option" then o.default
    else builtins.mapAttrs (n: defaults) o;
  config = defaults (m.options or { });
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
