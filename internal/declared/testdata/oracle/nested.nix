{
  systemd = {
    services.nested = { startAt = [ "daily" ]; };
    timers.nested = { timerConfig.OnCalendar = "daily"; };
    user = { timers.usertimer = { }; };
  };
}
