{ lib, ... }:
{
  systemd = let
    mkTimer = { onCalendar, persistent ? true }: {
      wantedBy = [ "timers.target" ];
      timerConfig.OnCalendar = onCalendar;
      timerConfig.Persistent = persistent;
    };
    mkService = name: { "${name}-svc" = { serviceConfig.Type = "oneshot"; }; };
  in {
    timers.monthly = mkTimer { onCalendar = "monthly"; };
    services = mkService "made";
  };
}
