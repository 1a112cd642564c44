# What the host actually ran: a renamed copy that was never committed.
{ config, pkgs, lib, ... }:
{
  systemd.services.ci-docker-prune = {
    description = "Prune unused Docker data (CI runners)";
    serviceConfig = {
      Type = "oneshot";
      ExecStart = lib.concatStringsSep " " [
        "${pkgs.docker}/bin/docker" "system" "prune" "--all" "--force"
      ];
    };
    startAt = [ "daily" "12:00" ];
  };
  systemd.timers.ci-docker-prune.timerConfig.RandomizedDelaySec = "1h";
}
