{ config, lib, ... }:
let
  inherit (lib) mkIf mkMerge;
in
{
  config = mkIf config.x {
    systemd.services.inherited = { };
    systemd = { timers.inherited = { }; };
  };
}
