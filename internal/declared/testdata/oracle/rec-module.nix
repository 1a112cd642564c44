rec {
  unitName = "from-rec";
  systemd.services.${unitName} = { };
  systemd.services."${unitName}-2" = { };
}
