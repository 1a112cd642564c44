{ config, lib, ... }:
with lib;
let
  cfg = config.services.wrapped;
in {
  options.services.wrapped.enable = mkEnableOption "wrapped";
  config = mkMerge [
    { systemd.services.always = mkDefault { }; }
    (mkIf cfg.enable {
      systemd.services.sometimes = mkForce { };
      systemd.timers.sometimes = mkOverride 900 { };
    })
    {
      systemd.services = optionalAttrs cfg.enable { opt = { }; } // { upd = mkBefore { }; };
    }
    (lib.mkIf cfg.enable { systemd.services.qualified = lib.mkOrder 10 { }; })
  ];
}
