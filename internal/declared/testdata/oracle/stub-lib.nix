# A stand-in for nixpkgs' lib, enough to evaluate the oracle fixtures with
# nix-instantiate offline. Conditions are ignored (mkIf c v = v): the oracle
# answers "which names can these modules declare", as the extractor does.
rec {
  mkIf = c: v: v;
  optionalAttrs = c: v: v;
  mkDefault = v: v;
  mkForce = v: v;
  mkOverride = p: v: v;
  mkOptionDefault = v: v;
  mkBefore = v: v;
  mkAfter = v: v;
  mkOrder = p: v: v;
  mkOption = o: o // { _type = "option"; };
  mkEnableOption = d: { _type = "option"; default = false; };
  types = { str = "str"; int = "int"; };
  optional = c: v: [ v ];
  recursiveUpdate = a: b:
    a // builtins.mapAttrs (n: v:
      if builtins.isAttrs v && a ? ${n} && builtins.isAttrs a.${n}
      then recursiveUpdate a.${n} v else v) b;
  mkMerge = builtins.foldl' recursiveUpdate { };
  nameValuePair = name: value: { inherit name value; };
  listToAttrs = builtins.listToAttrs;
  mapAttrs = builtins.mapAttrs;
  mapAttrs' = f: s: builtins.listToAttrs (map (n: f n s.${n}) (builtins.attrNames s));
  genAttrs = names: f: builtins.listToAttrs (map (n: nameValuePair n (f n)) names);
  concatMapAttrs = f: s: builtins.foldl' (a: b: a // b) { } (map (n: f n s.${n}) (builtins.attrNames s));
}
