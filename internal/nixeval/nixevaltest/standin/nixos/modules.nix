# A NixOS-shaped stand-in on nixpkgs' real module system, for tests: the
# systemd and Docker options driftcheck's evaluation reads, with NixOS's
# option names, types and derivations (systemd.units from the services and
# timers, startAt making a timer, Docker implying docker-prune.service, a
# system.build.toplevel derivation). It is not NixOS: no packages, no
# activation, no other options.
{ lib, config, pkgs, ... }:
let
  inherit (lib) mkOption types mkIf mapAttrs' nameValuePair filterAttrs mapAttrs optional;

  listOfStr = mkOption { type = types.listOf types.str; default = [ ]; };

  commonUnitOptions = {
    enable = mkOption { type = types.bool; default = true; };
    description = mkOption { type = types.singleLineStr; default = ""; };
    wantedBy = listOfStr;
    requiredBy = listOfStr;
    after = listOfStr;
    before = listOfStr;
    requires = listOfStr;
    wants = listOfStr;
    unitConfig = mkOption { type = types.attrsOf types.anything; default = { }; };
  };

  serviceModule = {
    options = commonUnitOptions // {
      serviceConfig = mkOption { type = types.attrsOf types.anything; default = { }; };
      script = mkOption { type = types.lines; default = ""; };
      environment = mkOption { type = types.attrsOf types.str; default = { }; };
      path = mkOption { type = types.listOf types.anything; default = [ ]; };
      restartIfChanged = mkOption { type = types.bool; default = true; };
      startAt = mkOption { type = types.either types.str (types.listOf types.str); default = [ ]; };
    };
  };
  timerModule = {
    options = commonUnitOptions // {
      timerConfig = mkOption { type = types.attrsOf types.anything; default = { }; };
    };
  };
  plainModule = { options = commonUnitOptions; };

  unitModule = {
    options = {
      text = mkOption { type = types.str; };
      enable = mkOption { type = types.bool; default = true; };
      wantedBy = listOfStr;
      requiredBy = listOfStr;
    };
  };

  render = section: attrs: "[${section}]\n" + lib.concatStrings (lib.mapAttrsToList (k: v: "${k}=${toString v}\n") attrs);
  unitText = u: extra: render "Unit" ({ Description = u.description; } // u.unitConfig) + extra;

  toUnits = suffix: text: defs:
    mapAttrs' (n: u: nameValuePair "${n}.${suffix}" { inherit (u) enable wantedBy requiredBy; text = text u; }) defs;

  managerOptions = {
    services = mkOption { type = types.attrsOf (types.submodule serviceModule); default = { }; };
    timers = mkOption { type = types.attrsOf (types.submodule timerModule); default = { }; };
    sockets = mkOption { type = types.attrsOf (types.submodule plainModule); default = { }; };
    paths = mkOption { type = types.attrsOf (types.submodule plainModule); default = { }; };
    targets = mkOption { type = types.attrsOf (types.submodule plainModule); default = { }; };
    units = mkOption { type = types.attrsOf (types.submodule unitModule); default = { }; };
  };

  # What NixOS's systemd module derives from the high-level options.
  managerConfig = cfg: {
    timers = mapAttrs (n: s: {
      wantedBy = [ "timers.target" ];
      timerConfig.OnCalendar = s.startAt;
    }) (filterAttrs (n: s: s.startAt != [ ]) cfg.services);
    units =
      toUnits "service" (s: unitText s (render "Service" s.serviceConfig + "X-Script=${s.script}\n")) cfg.services
      // toUnits "timer" (t: unitText t (render "Timer" t.timerConfig)) cfg.timers
      // toUnits "socket" (u: unitText u "") cfg.sockets
      // toUnits "path" (u: unitText u "") cfg.paths
      // toUnits "target" (u: unitText u "") cfg.targets;
  };

  docker = config.virtualisation.docker;
in
{
  options = {
    networking.hostName = mkOption { type = types.str; default = "nixos"; };
    systemd = managerOptions // { user = managerOptions; };
    virtualisation.docker = {
      enable = mkOption { type = types.bool; default = false; };
      autoPrune.enable = mkOption { type = types.bool; default = false; };
      autoPrune.dates = mkOption { type = types.str; default = "weekly"; };
    };
    system.configurationRevision = mkOption { type = types.nullOr types.str; default = null; };
    system.build = mkOption { type = types.attrsOf types.unspecified; default = { }; };
  };

  config = lib.mkMerge [
    { systemd = managerConfig config.systemd // { user = managerConfig config.systemd.user; }; }

    # As nixos/modules/virtualisation/docker.nix: Docker brings its prune
    # service, whether or not autoPrune is enabled.
    (mkIf docker.enable {
      systemd.services.docker = {
        description = "Docker Application Container Engine";
        wantedBy = [ "multi-user.target" ];
        serviceConfig.ExecStart = "${pkgs.docker}/bin/dockerd";
      };
      systemd.sockets.docker = { description = "Docker Socket for the API"; wantedBy = [ "sockets.target" ]; };
      systemd.services.docker-prune = {
        description = "Prune docker resources";
        restartIfChanged = false;
        serviceConfig.Type = "oneshot";
        script = "${pkgs.docker}/bin/docker system prune -f";
        startAt = optional docker.autoPrune.enable docker.autoPrune.dates;
      };
    })

    {
      system.build.toplevel = derivation {
        name = "nixos-system-${config.networking.hostName}";
        system = "x86_64-linux";
        builder = "/bin/sh";
        args = [ "-c" "echo \"$units\" > $out" ];
        units = builtins.toJSON (mapAttrs (n: u: u.text) (filterAttrs (n: u: u.enable) config.systemd.units));
        userUnits = builtins.toJSON (mapAttrs (n: u: u.text) (filterAttrs (n: u: u.enable) config.systemd.user.units));
      };
    }
  ];
}
