# Revision 1, as committed before the incident: the prune is declared as
# docker-prune.{service,timer}. The host was built from an uncommitted copy
# that had renamed both to ci-docker-prune.
{ config, lib, pkgs, ... }:
{
  virtualisation.docker.enable = true;

  systemd.services.docker-prune = {
    description = "Prune unused Docker data";
    after = [ "docker.service" ];
    requires = [ "docker.service" ];
    serviceConfig.Type = "oneshot";
    script = "${pkgs.docker}/bin/docker system prune -f --filter until=24h";
  };

  systemd.timers.docker-prune = {
    wantedBy = [ "timers.target" ];
    timerConfig = {
      OnCalendar = "daily";
      Persistent = true;
    };
  };
}
