package parser

import "testing"

func TestSmoke(t *testing.T) {
	for _, src := range []string{
		"{ lib, pkgs, ... }: { systemd.services.foo = { script = ''\n  echo ${pkgs.hello}\n  ''$x\n''; }; }",
		"a.b or c", "./${x}.nix", "f or", "1e3", "x:x", "-1 - -2", "!a + b", "a -> b -> c",
		`"a\nb${x}$${y}"`, "let a = 1; in a", "let { body = 1; }", "<nixpkgs/lib>", "~/a", "a/b",
	} {
		x, err := ParseExpr(src)
		if err != nil {
			t.Errorf("%q: %v", src, err)
			continue
		}
		t.Logf("%q => %s", src, sexpr(x))
	}
}
