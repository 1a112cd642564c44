# Everything driftcheck reads from an evaluated NixOS configuration, and the
# NixOS attribute paths it reads it from: a newer NixOS that moves an option
# needs a change here and nowhere else. Nix 2.8 features only (builtins,
# no lib: the configuration's own lib is not reachable from config).
#
# units: { system = { "<unit>" = props; }; user = { … }; }
#   props: enable, wantedBy, description, type (serviceConfig.Type),
#   onCalendar, persistent, unit (timerConfig.*), and failed: the names of
#   the properties that do not evaluate (a conflicting definition, a throw),
#   which the check reports instead of guessing.
# toplevel: the store path of system.build.toplevel, instantiated, never
#   built. Evaluated with the units in one process (they share the module
#   fixpoint); when that fails, the units alone are evaluated again so that
#   each failure is reported for what it is.
let
  # The high-level option set NixOS derives each unit type from.
  highLevel = {
    service = "services";
    timer = "timers";
    socket = "sockets";
    path = "paths";
    target = "targets";
    slice = "slices";
  };

  try = v: builtins.tryEval (builtins.deepSeq v v);

  unit = manager: name: u:
    let
      parts = builtins.match "(.*)\\.([^.]*)" name;
      base = builtins.elemAt parts 0;
      type = if parts == null then "" else builtins.elemAt parts 1;
      optionSet = if highLevel ? ${type} then manager.${highLevel.${type}} or { } else { };
      high = if parts != null && optionSet ? ${base} then optionSet.${base} else { };
      candidates =
        { enable = u.enable or true; wantedBy = u.wantedBy or [ ]; }
        // (if high ? description then { description = high.description; } else { })
        // (if type == "service" && (high.serviceConfig or { }) ? Type then { type = high.serviceConfig.Type; } else { })
        // (if type == "timer" then
              (if (high.timerConfig or { }) ? OnCalendar then { onCalendar = high.timerConfig.OnCalendar; } else { })
              // (if (high.timerConfig or { }) ? Persistent then { persistent = high.timerConfig.Persistent; } else { })
              // (if (high.timerConfig or { }) ? Unit then { unit = high.timerConfig.Unit; } else { })
            else { });
      tried = builtins.mapAttrs (k: try) candidates;
      names = builtins.attrNames tried;
      ok = builtins.filter (k: tried.${k}.success) names;
    in
    builtins.listToAttrs (map (k: { name = k; value = tried.${k}.value; }) ok)
    // { failed = builtins.filter (k: !tried.${k}.success) names; };

  units = manager: builtins.mapAttrs (unit manager) (manager.units or { });
  unitsOf = config: {
    system = units config.systemd;
    user = units (config.systemd.user or { });
  };
  toplevelOf = config: config.system.build.toplevel.outPath;

  # A flake's hosts: nixosConfigurations.<host>.config.
  hostConfig = host: configurations:
    if configurations ? ${host} then configurations.${host}.config
    else throw "the flake defines no host '${host}' (its hosts: ${builtins.concatStringsSep ", " (builtins.attrNames configurations)})";
in
{
  # Selectors, applied to the flake's nixosConfigurations or to
  # import <nixpkgs/nixos> { configuration = …; }.
  flake = host: configurations:
    let config = hostConfig host configurations; in
    { units = unitsOf config; toplevel = toplevelOf config; };
  flakeUnits = host: configurations: { units = unitsOf (hostConfig host configurations); };
  nixos = nixos: { units = unitsOf nixos.config; toplevel = toplevelOf nixos.config; };
  nixosUnits = nixos: { units = unitsOf nixos.config; };
}
