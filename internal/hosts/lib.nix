# The part of nixpkgs' lib that host definitions and imports use, written
# as nixpkgs writes it (lib/lists.nix, lib/attrsets.nix, lib/strings.nix),
# evaluated by driftcheck's evaluator. special holds what needs Go:
# nixosSystem, flake-parts' mkFlake, haumea's load, clan.
{ builtins, special }:
let
  lib = rec {
    inherit (builtins)
      map filter attrNames attrValues length elem elemAt head tail listToAttrs hasAttr getAttr
      removeAttrs readDir pathExists readFile toString baseNameOf dirOf isAttrs isList isString
      isPath isBool isInt isFloat isNull typeOf concatLists concatMap foldl' genList mapAttrs
      intersectAttrs functionArgs stringLength substring replaceStrings trace seq deepSeq tryEval
      fromJSON toJSON any all sort partition groupBy catAttrs zipAttrsWith match split throw
      concatStringsSep;
    inherit (special) nixosSystem mkFlake load makeHive clan buildClan splitString toLower toUpper hasInfix;

    lists = lib; attrsets = lib; strings = lib; trivial = lib; modules = lib; options = lib;
    fixedPoints = lib; asserts = lib; customisation = lib; debug = lib; versions = lib;
    sources = lib; meta = lib; generators = lib;
    path = lib // { append = base: sub: base + ("/" + sub); };
    filesystem = lib // {
      listFilesRecursive = dir:
        flatten (mapAttrsToList (name: type:
          if type == "directory" then listFilesRecursive (dir + "/${name}") else dir + "/${name}")
          (readDir dir));
    };
    listFilesRecursive = filesystem.listFilesRecursive;

    id = x: x;
    const = x: _: x;
    flip = f: a: b: f b a;
    pipe = builtins.foldl' (x: f: f x);
    isFunction = f: builtins.isFunction f || (f ? __functor);
    fix = f: let x = f x; in x;
    extends = f: rattrs: self: let super = rattrs self; in super // f self super;
    extend = f: let self = lib // f self lib; in self;
    warn = _: x: x;
    warnIf = _: _: x: x;
    mapNullable = f: a: if a == null then a else f a;
    defaultTo = d: x: if x == null then d else x;

    singleton = x: [ x ];
    optional = c: x: if c then [ x ] else [ ];
    optionals = c: l: if c then l else [ ];
    optionalAttrs = c: s: if c then s else { };
    optionalString = c: s: if c then s else "";
    toList = x: if isList x then x else [ x ];
    flatten = x: if isList x then concatMap flatten x else [ x ];
    foldr = op: nul: list:
      let
        len = length list;
        fold' = n: if n == len then nul else op (elemAt list n) (fold' (n + 1));
      in fold' 0;
    fold = foldr;
    foldl = op: nul: list: foldl' op nul list;
    last = l: elemAt l (length l - 1);
    init = l: genList (i: elemAt l i) (length l - 1);
    take = n: l: genList (i: elemAt l i) (if n < length l then n else length l);
    drop = n: l: genList (i: elemAt l (i + n)) (if n < length l then length l - n else 0);
    sublist = start: count: l: take count (drop start l);
    range = a: b: if a > b then [ ] else genList (i: a + i) (b - a + 1);
    unique = foldl' (acc: e: if elem e acc then acc else acc ++ [ e ]) [ ];
    subtractLists = e: filter (x: !(elem x e));
    intersectLists = e: filter (x: elem x e);
    remove = e: filter (x: x != e);
    count = pred: foldl' (c: x: if pred x then c + 1 else c) 0;
    imap0 = f: l: genList (n: f n (elemAt l n)) (length l);
    imap1 = f: l: genList (n: f (n + 1) (elemAt l n)) (length l);
    reverseList = l: let n = length l; in genList (i: elemAt l (n - i - 1)) n;
    findFirst = pred: default: l: let f = filter pred l; in if f == [ ] then default else head f;
    zipListsWith = f: a: b: genList (i: f (elemAt a i) (elemAt b i)) (if length a < length b then length a else length b);
    zipLists = zipListsWith (fst: snd: { inherit fst snd; });
    naturalSort = sort (a: b: a < b);
    concat = x: y: x ++ y;
    or = x: y: x || y;
    and = x: y: x && y;

    nameValuePair = name: value: { inherit name value; };
    mapAttrs' = f: set: listToAttrs (map (attr: f attr set.${attr}) (attrNames set));
    mapAttrsToList = f: attrs: map (name: f name attrs.${name}) (attrNames attrs);
    attrsToList = mapAttrsToList nameValuePair;
    filterAttrs = pred: set:
      listToAttrs (concatMap (name: let v = set.${name}; in if pred name v then [ (nameValuePair name v) ] else [ ]) (attrNames set));
    genAttrs = names: f: listToAttrs (map (n: nameValuePair n (f n)) names);
    genAttrs' = xs: f: listToAttrs (map f xs);
    concatMapAttrs = f: v: foldl' (a: b: a // b) { } (attrValues (mapAttrs f v));
    mergeAttrsList = list: foldl' (a: b: a // b) { } list;
    foldAttrs = op: nul: list_of_attrs:
      foldr (n: a: foldr (name: o: o // { ${name} = op n.${name} (a.${name} or nul); }) a (attrNames n)) { } list_of_attrs;
    recursiveUpdateUntil = pred: lhs: rhs:
      let
        f = attrPath: zipAttrsWith (n: values:
          let here = attrPath ++ [ n ]; in
          if length values == 1 || pred here (elemAt values 1) (head values) then head values
          else f here values);
      in f [ ] [ rhs lhs ];
    recursiveUpdate = lhs: rhs: recursiveUpdateUntil (path: lhs: rhs: !(isAttrs lhs && isAttrs rhs)) lhs rhs;
    attrByPath = attrPath: default: set:
      if attrPath == [ ] then set
      else let n = head attrPath; in if set ? ${n} then attrByPath (tail attrPath) default set.${n} else default;
    hasAttrByPath = attrPath: set:
      if attrPath == [ ] then true
      else let n = head attrPath; in set ? ${n} && hasAttrByPath (tail attrPath) set.${n};
    getAttrFromPath = attrPath: set: attrByPath attrPath (throw "missing attribute path") set;
    setAttrByPath = attrPath: value:
      if attrPath == [ ] then value else { ${head attrPath} = setAttrByPath (tail attrPath) value; };
    collect = pred: attrs:
      if pred attrs then [ attrs ] else if isAttrs attrs then concatMap (collect pred) (attrValues attrs) else [ ];
    isDerivation = v: isAttrs v && (v.type or null) == "derivation";
    getAttrs = names: attrs: genAttrs names (name: attrs.${name});

    hasPrefix = p: s: substring 0 (stringLength p) s == p;
    hasSuffix = sfx: s:
      let ls = stringLength s; lx = stringLength sfx; in lx <= ls && substring (ls - lx) lx s == sfx;
    removePrefix = p: s: if hasPrefix p s then substring (stringLength p) (stringLength s - stringLength p) s else s;
    removeSuffix = sfx: s: if hasSuffix sfx s then substring 0 (stringLength s - stringLength sfx) s else s;
    concatStrings = concatStringsSep "";
    concatMapStrings = f: l: concatStrings (map f l);
    concatMapStringsSep = sep: f: l: concatStringsSep sep (map f l);
    fileContents = f: removeSuffix "\n" (readFile f);
    stringToCharacters = s: genList (p: substring p 1 s) (stringLength s);

    mkIf = condition: content: { _type = "if"; inherit condition content; };
    mkMerge = contents: { _type = "merge"; inherit contents; };
    mkOverride = priority: content: { _type = "override"; inherit priority content; };
    mkDefault = mkOverride 1000;
    mkForce = mkOverride 50;
    mkOptionDefault = mkOverride 1500;
    mkVMOverride = mkOverride 10;
    mkImageMediaOverride = mkOverride 60;
    mkOrder = priority: content: { _type = "order"; inherit priority content; };
    mkBefore = mkOrder 500;
    mkAfter = mkOrder 1500;
    mkOption = attrs: attrs // { _type = "option"; };
    mkEnableOption = name: mkOption { default = false; };
    mkPackageOption = _: _: _: mkOption { };
    mkRemovedOptionModule = _: _: { };
    mkRenamedOptionModule = _: _: { };
    mkAliasOptionModule = _: _: { };
    mkChangedOptionModule = _: _: _: { };
    mkMergedOptionModule = _: _: _: { };
    mkRenamedOptionModuleWith = _: { };
    cleanSource = src: src;
    cleanSourceWith = { src, ... }: src;
    sourceByRegex = src: _: src;
    systems = { flakeExposed = [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ]; };
    version = "26.05";
    release = "26.05";
    isStorePath = _: false;
  };
in
lib
