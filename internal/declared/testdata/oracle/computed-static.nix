{ lib, ... }:
let
  jobs = { a = { }; b = { }; };
in {
  systemd.services = lib.mapAttrs' (n: v: lib.nameValuePair "job-${n}" v) jobs
    // lib.genAttrs [ "x" "y" ] (n: { description = "gen ${n}"; })
    // lib.listToAttrs [ (lib.nameValuePair "l" { }) { name = "m"; value = { }; } ];
  systemd.timers = lib.mapAttrs (n: v: { timerConfig.OnCalendar = v; }) { t1 = "daily"; t2 = "weekly"; };
  systemd.sockets = lib.concatMapAttrs (n: v: { "${n}-sock" = { }; }) jobs;
}
