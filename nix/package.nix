# driftcheck, built with nixpkgs' buildGoModule.
# vendorHash is the NAR sha256 of the directory `go mod vendor` writes
# (vendor/ including vendor/modules.txt). `go test ./nix -run TestVendorHash`
# fails when it is stale and prints how to update it.
{ lib, buildGoModule, go_1_26 ? null }:

let
  src = lib.fileset.toSource {
    root = ../.;
    fileset = lib.fileset.unions [
      ../go.mod
      ../go.sum
      ../cmd
      ../internal
    ];
  };
in
(if go_1_26 == null then buildGoModule else buildGoModule.override { go = go_1_26; }) {
  pname = "driftcheck";
  version = "0.1.0";
  inherit src;

  vendorHash = "sha256-Vo6gvfbXxvOUHhzx9AG1MRBENaUSMuXq6GvdtOOCaAc=";

  subPackages = [ "cmd/driftcheck" ];
  env.CGO_ENABLED = 0;
  ldflags = [ "-s" "-w" ];

  # The test suite boots systemd sandboxes and talks to dockerd: it cannot
  # run in the Nix build sandbox. CI runs it (make test).
  doCheck = false;

  meta = {
    description = "Check that a NixOS host runs exactly the systemd units its git revision declares";
    homepage = "https://github.com/driftcheck/driftcheck";
    license = lib.licenses.asl20;
    mainProgram = "driftcheck";
    platforms = lib.platforms.linux;
  };
}
