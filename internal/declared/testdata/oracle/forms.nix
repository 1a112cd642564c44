{ config, lib, pkgs, ... }:
{
  systemd.services.plain = { description = "x"; };
  systemd.services."getty@tty1".enable = false;
  systemd.services."serial-getty@" = { };
  systemd.sockets = { sock = { }; };
  systemd.user.services.mine = { startAt = "hourly"; };
  # systemd.services.commented = { };
  environment.etc.x.text = "systemd.services.instring = { };";
  containers.web.config.systemd.services.incontainer = { };
  nodes.machine = { ... }: { systemd.services.innode = { }; };
  services.postgresqlBackup.startAt = "daily";
  services.other.after = [ config.systemd.services.read.name or "x" ];
}
