{
  description = "driftcheck: does the NixOS host run exactly the systemd units its git revision declares?";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      packages = forAllSystems (pkgs: rec {
        driftcheck = pkgs.callPackage ./nix/package.nix { };
        default = driftcheck;
      });

      overlays.default = final: prev: {
        driftcheck = final.callPackage ./nix/package.nix { };
      };

      nixosModules.default = { pkgs, ... }: {
        imports = [ ./nix/modules/driftcheck.nix ];
        services.driftcheck.package = nixpkgs.lib.mkDefault self.packages.${pkgs.stdenv.hostPlatform.system}.default;
      };

      checks = forAllSystems (pkgs: {
        package = self.packages.${pkgs.stdenv.hostPlatform.system}.default;

        # Evaluates a NixOS system with the module: assertions hold and the
        # service and timer come out under the configured name.
        module-eval =
          let
            system = nixpkgs.lib.nixosSystem {
              inherit (pkgs.stdenv.hostPlatform) system;
              modules = [
                self.nixosModules.default
                {
                  boot.isContainer = true;
                  system.stateVersion = "25.11";
                  virtualisation.docker.enable = true;
                  services.driftcheck.prune.enable = true;
                }
              ];
            };
            cfg = system.config.systemd;
          in
          assert cfg.timers.ci-docker-prune.timerConfig.Persistent;
          assert cfg.timers.ci-docker-prune.timerConfig.OnCalendar == "daily";
          assert cfg.services.ci-docker-prune.serviceConfig.Type == "oneshot";
          pkgs.runCommand "driftcheck-module-eval" { } "touch $out";
      });
    };
}
