{ config, lib, pkgs, ... }:
{
  virtualisation.docker.enable = true;
  systemd.services.docker-prune = {
    description = "Prune docker";
    serviceConfig.Type = "oneshot";
    script = "docker system prune -f";
  };
  systemd.timers.docker-prune = {
    wantedBy = [ "timers.target" ];
    timerConfig.OnCalendar = "daily";
  };
}
