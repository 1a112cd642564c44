# The module from the incident: git declares docker-prune.service/.timer.
{ config, lib, pkgs, ... }:

with lib;

let
  cfg = config.services.dockerPrune;
in
{
  options.services.dockerPrune = {
    enable = mkEnableOption "periodic docker prune";
    schedule = mkOption {
      type = types.str;
      default = "daily";
      description = "When to prune (systemd OnCalendar).";
    };
  };

  config = mkIf cfg.enable {
    systemd.services.docker-prune = {
      description = "Prune unused Docker data";
      after = [ "docker.service" ];
      requires = [ "docker.service" ];
      serviceConfig = {
        Type = "oneshot";
        ExecStart = "${pkgs.docker}/bin/docker system prune --force --filter until=168h";
      };
    };

    systemd.timers.docker-prune = {
      wantedBy = [ "timers.target" ];
      timerConfig = {
        OnCalendar = cfg.schedule;
        Persistent = true;
        RandomizedDelaySec = 60 * 20;
      };
    };
  };
}
