# Revision 2, reconciled: git declares what the host runs. The unit is named
# ci-docker-prune because NixOS defines docker-prune.service itself whenever
# Docker is enabled, and a same-named unit merges with the stock one.
{ config, lib, pkgs, ... }:
{
  virtualisation.docker.enable = true;
  virtualisation.docker.autoPrune.enable = false;

  systemd.services.ci-docker-prune = {
    description = "Prune unused Docker data, gated on git and host agreeing";
    after = [ "docker.service" ];
    requires = [ "docker.service" ];
    serviceConfig.Type = "oneshot";
    script = "${pkgs.docker}/bin/docker system prune -f --filter until=24h";
  };

  systemd.timers.ci-docker-prune = {
    wantedBy = [ "timers.target" ];
    timerConfig = {
      OnCalendar = "daily";
      Persistent = true;
    };
  };
}
