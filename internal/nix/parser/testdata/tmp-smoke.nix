{ lib, ... }: { systemd.services.foo.enable = true; }
