# Differential oracle: the import closure of one host, computed by Nix.
# flake.nix's outputs are evaluated with stand-in inputs whose lib is
# nixpkgs' real lib with nixosSystem returning its argument; modules from
# inputs are stand-ins named after what driftcheck reports as external.
# root and libDir are strings: a path would be copied to the store.
{ root, libDir, host, externals }:
let
  lib = import (libDir + "/lib");
  flake = import (root + "/flake.nix");
  stubLib = lib // { nixosSystem = args: { __host = args; }; };
  # externals: [ [ "sops-nix" "nixosModules" "sops" ] … ] without "inputs".
  extSets = map (p: lib.setAttrByPath p { _external = lib.concatStringsSep "." p; }) externals;
  extTree = lib.foldl' lib.recursiveUpdate { } extSets;
  inputNames = lib.unique ((builtins.attrNames (flake.inputs or { }))
    ++ builtins.filter (n: n != "self") (builtins.attrNames (builtins.functionArgs flake.outputs)));
  input = n: lib.recursiveUpdate { lib = stubLib; outPath = "/nonexistent-input-${n}"; } (extTree.${n} or { });
  inputs = lib.genAttrs inputNames input // { inherit self; };
  outputs = flake.outputs inputs;
  self = outputs // { outPath = root; inherit inputs outputs; };
  h = outputs.nixosConfigurations.${host}.__host;
  args = {
    inherit lib;
    config = throw "config is not available to imports";
    options = throw "options";
    pkgs = throw "pkgs";
    modulesPath = "/nonexistent-modulesPath";
  } // (h.specialArgs or { });
  rootStr = toString root;
  isRepoPath = m: (builtins.isPath m || builtins.isString m) && lib.hasPrefix rootStr (toString m);
  isOutside = m: (builtins.isString m || builtins.isPath m) && !(isRepoPath m);
  fileOf = m: let p = toString m; in if builtins.pathExists (p + "/default.nix") then p + "/default.nix" else p;
  # NixOS passes every argument a module asks for, lazily (those not in
  # specialArgs come from _module.args and fail only when forced).
  callAll = m:
    if lib.isFunction m
    then m (builtins.mapAttrs (n: _: args.${n} or (throw "module argument ${n}")) (lib.functionArgs m) // args)
    else m;
  # One item per module: key dedupes path modules as the module system does.
  item = parentKey: i: m:
    if isRepoPath m then { key = fileOf m; file = fileOf m; mod = import (fileOf m); }
    else { key = "${parentKey}#${toString i}"; file = null; mod = m; };
  bodyOf = m: if builtins.isAttrs m && m ? _external then { } else callAll m;
  posFile = b: let ns = builtins.attrNames (builtins.removeAttrs b [ "_file" "key" ]); in
    if ns == [ ] then null else (builtins.unsafeGetAttrPos (builtins.head ns) b).file or null;
  items = builtins.genericClosure {
    startSet = lib.imap0 (i: m: item "entry" i m) (builtins.filter (m: !(isOutside m)) h.modules);
    operator = it:
      let b = bodyOf it.mod; in
      lib.imap0 (i: m: item it.key i m) (builtins.filter (m: !(isOutside m)) (b.imports or [ ]));
  };
  fileOfItem = it:
    if it.file != null then it.file
    else if builtins.isAttrs it.mod && it.mod ? _external then null
    else posFile (bodyOf it.mod);
  rel = f: lib.removePrefix (rootStr + "/") f;
in
lib.unique (builtins.sort (a: b: a < b) (map rel (builtins.filter (f: f != null) (map fileOfItem items))))
