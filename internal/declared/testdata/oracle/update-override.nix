{
  systemd = { services.gone = { }; } // { services.kept = { }; timers.t = { }; };
}
