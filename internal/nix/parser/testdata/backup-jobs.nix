{ config, lib, pkgs, ... }:
let
  inherit (lib) mkIf mkMerge mapAttrs' nameValuePair optionalAttrs;
  cfg = config.services.backups;
  mkJob = name: job: nameValuePair "backup-${name}" (mkIf job.enable {
    description = "Backup ${name} to ${job.target}";
    path = with pkgs; [ rsync openssh ];
    script = ''
      set -eu
      # copy ${name}
      rsync -a ${job.source}/ ${job.target}/
      echo "done: ''${HOME:-/root}" # shell expansion kept literal with ''$
      cost=$((1 + 2))
    '';
    startAt = job.startAt;
  });
in {
  config = mkMerge [
    { systemd.services = mapAttrs' mkJob cfg.jobs; }
    (mkIf (cfg.jobs != { }) {
      systemd.tmpfiles.rules = [ "d /var/backup 0750 root root -" ];
    })
    (optionalAttrs (cfg ? extra) { environment.etc."backup.conf".text = cfg.extra; })
  ];
}
