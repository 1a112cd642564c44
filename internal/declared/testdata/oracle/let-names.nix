let
  prefix = "ci-docker";
  base = "job";
  name = base + "-" + "one";
  names = rec { first = "a"; second = first + "b"; };
in
{ lib, ... }:
let
  inner = let deeper = "deep"; in "${deeper}-er";
in {
  systemd.services."${prefix}-prune" = { };
  systemd.timers."${prefix}-prune" = { };
  systemd.services.${name} = { };
  systemd.services.${names.second} = { };
  systemd.services.${inner} = { };
}
