# Unit names from option defaults: the service and timer take the default
# of unitName, a second service is built from two defaults.
{ config, lib, ... }:
let
  inherit (lib) mkOption mkEnableOption mkIf types;
  cfg = config.services.backup;
in
{
  options.services.backup = {
    enable = mkEnableOption "backups";
    unitName = mkOption {
      type = types.str;
      default = "nightly-backup";
    };
    prefix = mkOption { default = "ci"; };
    port = mkOption { type = types.int; default = 8080; };
  };

  config = mkIf cfg.enable {
    systemd.services.${cfg.unitName} = { serviceConfig.Type = "oneshot"; };
    systemd.timers.${cfg.unitName} = { timerConfig.OnCalendar = "daily"; };
    systemd.services."${cfg.prefix}-web-${toString cfg.port}" = { };
  };
}
