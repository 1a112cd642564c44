{ lib, ... }:
let
  names = [ "a" "b" ];
in {
  systemd.services = lib.listToAttrs (map (n: lib.nameValuePair "m-${n}" { }) names)
    // builtins.listToAttrs (builtins.map (n: { name = "b-${n}"; value = { }; }) [ "c" ]);
}
