# Evaluates nix/modules/driftcheck.nix without nixpkgs, with a stub of the
# few lib functions it uses and a tiny module system: option defaults,
# merged with `settings`, fed back as `config` (a fixpoint), and the
# module's mkIf/mkMerge output flattened. Not a NixOS evaluation: option
# types are not checked. Used by nix/nix_test.go:
#
#   nix-instantiate --readonly-mode --eval --strict --json nix/tests/eval-module.nix \
#     --arg settings '{ services.driftcheck.prune.enable = true; }'
{ settings ? { } }:

let
  inherit (builtins) isAttrs attrNames listToAttrs map filter concatMap foldl' replaceStrings concatStringsSep;

  recursiveUpdate = a: b:
    a // listToAttrs (map
      (n: { name = n; value = if isAttrs (a.${n} or null) && isAttrs b.${n} && !(b.${n} ? _type) then recursiveUpdate a.${n} b.${n} else b.${n}; })
      (attrNames b));

  escapeShellArg = s: "'" + replaceStrings [ "'" ] [ "'\\''" ] s + "'";

  lib = {
    mkOption = o: o // { _type = "option"; };
    mkEnableOption = what: { _type = "option"; default = false; description = "Whether to enable ${what}."; };
    mkIf = condition: content: { _type = "if"; inherit condition content; };
    mkMerge = contents: { _type = "merge"; inherit contents; };
    mkDefault = x: x;
    literalExpression = text: { _type = "literalExpression"; inherit text; };
    optional = c: x: if c then [ x ] else [ ];
    optionals = c: xs: if c then xs else [ ];
    concatMap = builtins.concatMap;
    inherit escapeShellArg;
    escapeShellArgs = xs: concatStringsSep " " (map escapeShellArg xs);
    replaceStrings = builtins.replaceStrings;
    concatStringsSep = builtins.concatStringsSep;
    makeBinPath = ps: concatStringsSep ":" (map (p: "${p}/bin") ps);
    types = {
      str = "str"; bool = "bool"; package = "package";
      listOf = t: "listOf"; nullOr = t: "nullOr"; enum = vs: "enum";
      ints.between = lo: hi: "int";
    };
  };

  pkgs = {
    driftcheck = "/nix/store/00000000000000000000000000000000-driftcheck";
    bash = "/nix/store/00000000000000000000000000000000-bash";
    jq = "/nix/store/00000000000000000000000000000000-jq";
    coreutils = "/nix/store/00000000000000000000000000000000-coreutils";
    findutils = "/nix/store/00000000000000000000000000000000-findutils";
    gnugrep = "/nix/store/00000000000000000000000000000000-gnugrep";
    nix = "/nix/store/00000000000000000000000000000000-nix";
    git = "/nix/store/00000000000000000000000000000000-git";
  };

  module = import ../modules/driftcheck.nix;

  # Option tree → default values.
  defaults = opts:
    if opts ? _type && opts._type == "option" then opts.default or null
    else listToAttrs (map (n: { name = n; value = defaults opts.${n}; }) (attrNames opts));

  # mkIf/mkMerge → plain definitions (a list of attribute sets).
  flatten = x:
    if isAttrs x && x ? _type && x._type == "merge" then concatMap flatten x.contents
    else if isAttrs x && x ? _type && x._type == "if" then (if x.condition then flatten x.content else [ ])
    else [ x ];

  base = { virtualisation.docker.enable = false; virtualisation.docker.autoPrune.enable = false; networking.hostName = "ci"; };

  result = module { inherit lib pkgs config; };
  config = recursiveUpdate (recursiveUpdate base (defaults result.options)) settings;
  defs = flatten result.config;
  get = path: concatMap (d: let v = foldl' (acc: k: if acc != null && isAttrs acc && acc ? ${k} then acc.${k} else null) d path; in if v == null then [ ] else flatten v) defs;
  merged = path: foldl' recursiveUpdate { } (get path);

  # Values that are mkIf wrappers inside unit settings (StateDirectory).
  resolve = v:
    if isAttrs v && v ? _type && v._type == "if" then (if v.condition then resolve v.content else null)
    else if isAttrs v then listToAttrs (filter (e: e.value != null) (map (n: { name = n; value = resolve v.${n}; }) (attrNames v)))
    else v;
in
{
  services = resolve (merged [ "systemd" "services" ]);
  timers = resolve (merged [ "systemd" "timers" ]);
  failedAssertions = map (a: a.message) (filter (a: !a.assertion) (builtins.concatLists (get [ "assertions" ])));
  preSwitchChecks = merged [ "system" "preSwitchChecks" ];
  tmpfiles = builtins.concatLists (get [ "systemd" "tmpfiles" "rules" ]);
  # Paths as strings: nothing is copied to the store.
  prometheusRuleFiles = map toString (builtins.concatLists (get [ "services" "prometheus" "ruleFiles" ]));
}
