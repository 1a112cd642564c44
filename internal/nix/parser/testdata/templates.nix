{ lib, pkgs, ... }:
let
  ttys = [ "tty1" "tty2" ];
  svc = "web";
  host = "example";
in
{
  systemd.services."getty@tty1".enable = false;
  systemd.services."serial-getty@" = {
    serviceConfig.Restart = "always";
  };
  systemd.services.${svc} = {
    script = "exec ${pkgs.nginx}/bin/nginx -g 'daemon off;'";
  };
  systemd.services."app-${host}" = {
    environment = { HOST = host; PORT = toString 8080; };
    serviceConfig.ExecStart = "${pkgs.hello}/bin/hello";
  };
  systemd.user.services.sync = {
    wantedBy = [ "default.target" ];
    serviceConfig.ExecStart = "${pkgs.coreutils}/bin/true";
  };
  boot.kernel.sysctl."net.ipv4.ip_forward" = 1;
}
