# NixOS module for driftcheck: the drift-gated Docker prune (a oneshot
# service and its timer), the daily drift check writing Prometheus metrics
# (its own service and timer), the shipped alert rules for the monitoring
# host, and an optional pre-switch check.
# Options are documented in docs/operations.md.
{ config, lib, pkgs, ... }:

let
  inherit (lib) mkOption mkEnableOption mkIf types optional optionals escapeShellArgs;

  cfg = config.services.driftcheck;

  # ExecStart is not a shell line: systemd expands % specifiers and $VARS
  # and unescapes C escapes in double quotes. JSON quoting plus doubled %
  # and $ is what nixpkgs' utils.escapeSystemdExecArg does; a busyPattern
  # regex with "$" or "\d" reaches driftcheck unchanged.
  escapeSystemdExecArg = arg: lib.replaceStrings [ "%" "$" ] [ "%%" "$$" ] (builtins.toJSON arg);
  escapeSystemdExecArgs = args: lib.concatStringsSep " " (map escapeSystemdExecArg args);

  # Flags every command that reads the declared side shares.
  declaredArgs =
    [ "--repo" cfg.repository "--rev" cfg.revision ]
    ++ lib.concatMap (g: [ "--modules" g ]) cfg.modules;

  scopeArgs = lib.concatMap (g: [ "--scope" g ]) cfg.scope;

  # The drift gate evaluates the host's configuration with Nix (docs/eval.md).
  evaluating = cfg.declared != "static";
  evalArgs =
    [ "--declared" cfg.declared ]
    ++ optionals evaluating [ "--host" cfg.host "--eval-timeout" cfg.evalTimeout ];

  pruneArgs =
    [ "prune" ] ++ declaredArgs
    ++ evalArgs
    ++ scopeArgs
    ++ [ "--threshold" (toString cfg.prune.threshold) ]
    ++ [ "--until" cfg.prune.until ]
    ++ [ "--state-dir" cfg.prune.stateDir ]
    ++ optionals (cfg.prune.busyPattern != null) [ "--busy-pattern" cfg.prune.busyPattern ]
    ++ optionals (cfg.prune.lockFile != null) [ "--lock" cfg.prune.lockFile ]
    ++ optionals (cfg.prune.metricsFile != null) [ "--metrics-file" cfg.prune.metricsFile ]
    ++ cfg.prune.extraArgs;

  checkArgs =
    [ "check" ] ++ declaredArgs
    ++ evalArgs
    ++ scopeArgs
    ++ optional cfg.check.strict "--strict"
    ++ [ "--metrics-file" cfg.check.metricsFile ]
    ++ cfg.check.extraArgs;

  # What evaluation needs in the hardened services: nix and git (git+file
  # flakes), the store written by the daemon (the file system is read-only
  # there), Nix's caches in a cache directory of the service's own.
  evalService = {
    path = optionals evaluating [ (config.nix.package or pkgs.nix) pkgs.git ];
    environment = mkIf evaluating {
      NIX_REMOTE = "daemon";
      XDG_CACHE_HOME = "/var/cache/driftcheck";
    };
    CacheDirectory = mkIf evaluating "driftcheck";
  };

  defaultStateDir = cfg.prune.stateDir == "/var/lib/driftcheck";

  # Hardening both services share. Root is kept only because the Docker and
  # D-Bus sockets are root's and Docker access is root-equivalent anyway;
  # every capability is dropped, so root cannot read past file modes.
  hardening = {
    CapabilityBoundingSet = "";
    AmbientCapabilities = "";
    NoNewPrivileges = true;
    # The whole tree is read-only; sockets stay connectable on a
    # read-only mount (connect(2) ignores MS_RDONLY for sockets), so
    # /run/docker.sock and /run/dbus/system_bus_socket keep working.
    ProtectSystem = "strict";
    ProtectHome = "read-only"; # the repository may live in a home directory
    PrivateTmp = true;
    PrivateDevices = true;
    # Docker and D-Bus are path-bound unix sockets: no network needed.
    PrivateNetwork = true;
    RestrictAddressFamilies = [ "AF_UNIX" ];
    IPAddressDeny = "any";
    ProtectKernelTunables = true;
    ProtectKernelModules = true;
    ProtectKernelLogs = true;
    ProtectControlGroups = true;
    ProtectClock = true;
    ProtectHostname = true;
    ProtectProc = "invisible";
    RestrictNamespaces = true;
    RestrictRealtime = true;
    RestrictSUIDSGID = true;
    LockPersonality = true;
    MemoryDenyWriteExecute = true;
    SystemCallArchitectures = "native";
    SystemCallFilter = [ "@system-service" "~@privileged" ];
    # Refuse, do not kill: Go's runtime probes a few calls at start.
    SystemCallErrorNumber = "EPERM";
    UMask = "0022"; # node_exporter reads the metrics file
  };

  # StateDirectory= makes the default state directory writable by itself. A
  # "-" prefix: a missing metrics or lock directory must not fail the
  # namespace setup (exit 226, no message); the prune then reports which
  # file it could not write.
  writablePaths =
    optional (!defaultStateDir) cfg.prune.stateDir
    ++ optional (cfg.prune.metricsFile != null) "-${dirOf cfg.prune.metricsFile}"
    ++ optional (cfg.prune.lockFile != null) "-${dirOf cfg.prune.lockFile}";
in
{
  options.services.driftcheck = {
    package = mkOption {
      type = types.package;
      default = pkgs.driftcheck or (pkgs.callPackage ../package.nix { });
      defaultText = lib.literalExpression "pkgs.driftcheck";
      description = "The driftcheck package.";
    };

    repository = mkOption {
      type = types.str;
      default = "/etc/nixos";
      example = "/srv/infra";
      description = ''
        Path on the host of the git repository holding the NixOS modules.
        driftcheck reads git objects at `revision`, never the work tree.
        The prune service runs as root without capabilities, so the
        repository must be readable by uid 0 without CAP_DAC_OVERRIDE.
      '';
    };

    revision = mkOption {
      type = types.str;
      default = "origin/main";
      example = "HEAD";
      description = ''
        The revision the host must match. "origin/main" states what was
        reviewed; "HEAD" only what was checked out, which may be ahead of
        review.
      '';
    };

    modules = mkOption {
      type = types.listOf types.str;
      default = [ "nix/**/*.nix" ];
      description = "Globs, relative to the repository root, of the NixOS module files to read.";
    };

    scope = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [ "ci-*" "docker-*" ];
      description = ''
        Globs of live unit names the repository owns: a live unit matching one
        that the revision does not declare is drift. Empty: the "scope" of
        .driftcheck.json at the revision, else only the declared names.
      '';
    };

    declared = mkOption {
      type = types.enum [ "static" "eval" "both" ];
      default = "both";
      description = ''
        Where the prune's drift gate takes the declared units from: "static"
        reads the module files (no Nix), "eval" evaluates the host's
        configuration at `revision` with Nix (offline, from the flake's
        lock file; never the work tree) and compares the system's toplevel
        with /run/current-system, "both" evaluates and also lists where the
        static reader disagrees. On the host Nix and the flake's inputs are
        at hand, so "both" is the default. See docs/eval.md.
      '';
    };

    host = mkOption {
      type = types.str;
      default = config.networking.hostName;
      defaultText = lib.literalExpression "config.networking.hostName";
      description = "The repository flake's nixosConfigurations attribute that is this host (declared = eval or both).";
    };

    evalTimeout = mkOption {
      type = types.str;
      default = "120s";
      description = "Bound on one evaluation (Go duration); Nix is killed after it and the gate stays closed.";
    };

    preSwitchCheck = mkOption {
      type = types.bool;
      default = false;
      description = ''
        Refuse to switch into a configuration whose systemd units differ
        from the units declared at `revision` (system.preSwitchChecks).
        Bypass once with NIXOS_NO_CHECK=1.
      '';
    };

    check = {
      enable = mkEnableOption "the daily drift check that writes Prometheus metrics (docs/fleet.md)";

      unitName = mkOption {
        type = types.str;
        default = "driftcheck-check";
        description = "Name of the check's service and timer (separate from the prune's).";
      };

      calendar = mkOption {
        type = types.str;
        default = "daily";
        example = "hourly";
        description = "systemd OnCalendar expression of the check's timer.";
      };

      randomizedDelaySec = mkOption {
        type = types.str;
        default = "0";
        example = "30min";
        description = "RandomizedDelaySec of the check's timer (spreads a fleet's checks).";
      };

      strict = mkOption {
        type = types.bool;
        default = false;
        description = "Run `driftcheck check --strict`: dirty, source-differs, revision and toplevel findings are drift.";
      };

      metricsFile = mkOption {
        type = types.str;
        default = "/var/lib/prometheus-node-exporter-text-files/driftcheck-check.prom";
        description = ''
          node_exporter textfile the check writes (`--metrics-file`). Its
          directory must exist and be the textfile collector's directory.
        '';
      };

      onFailure = mkOption {
        type = types.listOf types.str;
        default = [ ];
        description = "Units to start when the check could not run (exit 2). Drift (1) and incomplete (3) are reported through the metrics, not as a failed unit.";
      };

      extraArgs = mkOption {
        type = types.listOf types.str;
        default = [ ];
        example = [ "--declared" "both" ];
        description = "Further arguments to `driftcheck check`.";
      };
    };

    prometheusRules = mkOption {
      type = types.bool;
      default = false;
      description = ''
        On the monitoring host: add driftcheck's alert and recording rules
        (nix/prometheus/driftcheck.rules.yml) to services.prometheus.ruleFiles.
      '';
    };

    prune = {
      enable = mkEnableOption "the drift-gated Docker prune";

      unitName = mkOption {
        type = types.str;
        default = "ci-docker-prune";
        description = ''
          Name of the service and timer. Never "docker-prune": NixOS defines
          docker-prune.service whenever Docker is enabled, and a unit of the
          same name merges with it.
        '';
      };

      calendar = mkOption {
        type = types.str;
        default = "daily";
        description = "systemd OnCalendar expression of the timer.";
      };

      randomizedDelaySec = mkOption {
        type = types.str;
        default = "0";
        example = "30min";
        description = "RandomizedDelaySec of the timer.";
      };

      threshold = mkOption {
        type = types.ints.between 0 100;
        default = 80;
        description = "Prune only when the Docker root's filesystem is at least this full (percent of bytes or inodes).";
      };

      busyPattern = mkOption {
        type = types.nullOr types.str;
        default = null;
        example = "^[a-z0-9]{1,4}-[0-9a-f]{6}_ci_";
        description = "Regular expression for CI run stacks; while one exists the prune skips. null keeps driftcheck's default.";
      };

      until = mkOption {
        type = types.str;
        default = "24h";
        description = "Minimum age (Go duration) of anything the prune removes.";
      };

      lockFile = mkOption {
        type = types.nullOr types.str;
        default = null;
        example = "/run/lock/deploy.lock";
        description = "Lock file deploys hold (flock); while it is held the prune skips.";
      };

      stateDir = mkOption {
        type = types.str;
        default = "/var/lib/driftcheck";
        description = "Directory for the prune's state file and its own lock.";
      };

      metricsFile = mkOption {
        type = types.nullOr types.str;
        default = null;
        example = "/var/lib/prometheus-node-exporter-text-files/driftcheck.prom";
        description = "node_exporter textfile the prune writes its metrics to; null disables.";
      };

      onFailure = mkOption {
        type = types.listOf types.str;
        default = [ ];
        example = [ "notify-admin@%n.service" ];
        description = "Units to start when the prune fails: blocked by drift (exit 1), could not run (2), still under pressure (4).";
      };

      extraArgs = mkOption {
        type = types.listOf types.str;
        default = [ ];
        description = "Further arguments to `driftcheck prune`.";
      };
    };
  };

  config = lib.mkMerge [
    (mkIf cfg.prune.enable {
      assertions = [
        {
          assertion = cfg.prune.unitName != "docker-prune";
          message = ''
            services.driftcheck.prune.unitName must not be "docker-prune": NixOS defines
            docker-prune.service whenever virtualisation.docker.enable is set, and a unit
            of the same name merges with it, so the stock `docker system prune -f` runs
            first or evaluation fails, depending on the nixpkgs version.
          '';
        }
        {
          assertion = !(config.virtualisation.docker.autoPrune.enable or false);
          message = ''
            services.driftcheck.prune replaces virtualisation.docker.autoPrune: set
            virtualisation.docker.autoPrune.enable = false. The stock prune runs
            `docker system prune -f` without the drift gate, without an age limit, and on a
            swarm manager also removes cluster networks.
          '';
        }
      ];

      systemd.services.${cfg.prune.unitName} = {
        description = "Docker prune, gated on the host matching its git revision";
        documentation = [ "https://github.com/driftcheck/driftcheck/blob/main/docs/operations.md" ];
        after = [ "docker.service" ];
        requires = [ "docker.service" ];
        onFailure = cfg.prune.onFailure;
        # A prune must never run because a switch happened to touch the unit.
        restartIfChanged = false;
        inherit (evalService) path environment;
        serviceConfig = {
          Type = "oneshot";
          ExecStart = "${cfg.package}/bin/driftcheck ${escapeSystemdExecArgs pruneArgs}";
          # Exit 1 (blocked by drift), 2 (could not run) and 4 (still under
          # pressure) mark the unit failed; normal skips exit 0.
          StateDirectory = mkIf defaultStateDir "driftcheck";
          StateDirectoryMode = mkIf defaultStateDir "0700";
          inherit (evalService) CacheDirectory;
          ReadWritePaths = writablePaths;
        } // hardening;
      };

      systemd.tmpfiles.rules = optional (!defaultStateDir) "d ${cfg.prune.stateDir} 0700 root root -";

      systemd.timers.${cfg.prune.unitName} = {
        description = "Daily drift-gated Docker prune";
        wantedBy = [ "timers.target" ];
        timerConfig = {
          OnCalendar = cfg.prune.calendar;
          Persistent = true;
          RandomizedDelaySec = cfg.prune.randomizedDelaySec;
        };
      };
    })

    (mkIf cfg.check.enable {
      assertions = [
        {
          assertion = cfg.check.unitName != cfg.prune.unitName;
          message = "services.driftcheck.check.unitName must differ from services.driftcheck.prune.unitName: the check has its own service and timer.";
        }
      ];

      systemd.services.${cfg.check.unitName} = {
        description = "driftcheck: compare the host's units with its git revision, for Prometheus";
        documentation = [ "https://github.com/driftcheck/driftcheck/blob/main/docs/fleet.md" ];
        onFailure = cfg.check.onFailure;
        restartIfChanged = false;
        inherit (evalService) path environment;
        serviceConfig = {
          inherit (evalService) CacheDirectory;
          Type = "oneshot";
          ExecStart = "${cfg.package}/bin/driftcheck ${escapeSystemdExecArgs checkArgs}";
          # Drift (1) and incomplete (3) are verdicts the metrics carry;
          # only "could not run" (2) fails the unit.
          SuccessExitStatus = "1 3";
          # "-": a missing textfile directory must not fail the namespace
          # setup; driftcheck then names the file it could not write.
          ReadWritePaths = [ "-${dirOf cfg.check.metricsFile}" ];
        } // hardening;
      };

      systemd.timers.${cfg.check.unitName} = {
        description = "Daily driftcheck check";
        wantedBy = [ "timers.target" ];
        timerConfig = {
          OnCalendar = cfg.check.calendar;
          Persistent = true;
          RandomizedDelaySec = cfg.check.randomizedDelaySec;
        };
      };
    })

    (mkIf cfg.prometheusRules {
      services.prometheus.ruleFiles = [ ../prometheus/driftcheck.rules.yml ];
    })

    (mkIf cfg.preSwitchCheck {
      # preSwitchChecks run with the new toplevel as $1; the script compares
      # its etc/systemd/system with the units declared at the revision.
      # See docs/operations.md, "Pre-switch check".
      system.preSwitchChecks.driftcheck = ''
        PATH=${lib.makeBinPath [ cfg.package pkgs.jq pkgs.coreutils pkgs.findutils pkgs.gnugrep ]} \
          ${pkgs.bash}/bin/bash ${../pre-switch-check.sh} "$1" ${escapeShellArgs (scopeArgs ++ [ "--" ] ++ declaredArgs)}
      '';
    })
  ];
}
