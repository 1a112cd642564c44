{ config, lib, pkgs, ... }:
{
  systemd = let
    mkTimer = { onCalendar, persistent ? true, ... }@args: {
      wantedBy = [ "timers.target" ];
      timerConfig = {
        OnCalendar = onCalendar;
        Persistent = persistent;
      } // lib.optionalAttrs (args ? delay) { RandomizedDelaySec = args.delay; };
    };
  in {
    timers.gc = mkTimer { onCalendar = "weekly"; };
    timers.report = mkTimer { onCalendar = "monthly"; delay = 3600; };
    services.gc = {
      serviceConfig.ExecStart = "${config.nix.package}/bin/nix-collect-garbage -d";
      unitConfig.ConditionACPower = true;
    };
  };
  services.openssh.enable = !config.boot.isContainer;
  networking.firewall.allowedTCPPorts = [ 22 ] ++ lib.optional config.services.nginx.enable 80;
}
