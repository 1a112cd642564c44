{ config, lib, pkgs, modulesPath, ... }:
let
  hostName = "alpha";
  hw = ./hardware + "/${hostName}.nix";
in {
  imports = [
    (modulesPath + "/profiles/minimal.nix")
    ./common/base.nix
    ../shared/users.nix
    ./hosts/${hostName}.nix
    <nixpkgs/nixos/modules/virtualisation/docker.nix>
  ] ++ lib.optional (builtins.pathExists hw) hw;
  nix.nixPath = [ "nixpkgs=${<nixpkgs>}" ];
  environment.etc."motd".source = /etc/static/motd;
  environment.variables.DOCS = https://nixos.org/manual/nixos/stable/;
  security.pki.certificateFiles = [ ~/certs/ca.pem ];
}
