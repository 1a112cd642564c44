package gitrev

import "testing"

func TestGlobsMatch(t *testing.T) {
	tests := []struct {
		globs []string
		path  string
		want  bool
	}{
		{[]string{"nix/**/*.nix"}, "nix/a.nix", true},
		{[]string{"nix/**/*.nix"}, "nix/hosts/web/a.nix", true},
		{[]string{"nix/**/*.nix"}, "nix/a.nix.bak", false},
		{[]string{"nix/**/*.nix"}, "other/nix/a.nix", false},
		{[]string{"nix/**/*.nix"}, "nix", false},
		{[]string{"**/*.md"}, "README.md", true},
		{[]string{"**/*.md"}, "docs/a/b.md", true},
		{[]string{"*.nix"}, "a.nix", true},
		{[]string{"*.nix"}, "nix/a.nix", false},
		{[]string{"nix/**"}, "nix/a/b", true},
		{[]string{"nix/**"}, "nix", true},
		{[]string{"a/**/b/**/c.nix"}, "a/b/c.nix", true},
		{[]string{"a/**/b/**/c.nix"}, "a/x/b/y/z/c.nix", true},
		{[]string{"a/**/b/**/c.nix"}, "a/x/y/c.nix", false},
		{[]string{"./nix/*.nix"}, "nix/a.nix", true},
		{[]string{"hosts/*.nix", "modules/**/*.nix"}, "modules/x/y.nix", true},
		{[]string{"hosts/*.nix", "modules/**/*.nix"}, "hosts/x/y.nix", false},
		{[]string{"nix/[ab].nix"}, "nix/b.nix", true},
		{[]string{"nix/[ab].nix"}, "nix/c.nix", false},
	}
	for _, tt := range tests {
		g, err := ParseGlobs(tt.globs)
		if err != nil {
			t.Fatalf("ParseGlobs(%q): %v", tt.globs, err)
		}
		if got := g.Match(tt.path); got != tt.want {
			t.Errorf("%q.Match(%q) = %v, want %v", tt.globs, tt.path, got, tt.want)
		}
	}
}

func TestGlobsMayMatchUnder(t *testing.T) {
	tests := []struct {
		glob string
		dir  string
		want bool
	}{
		{"nix/**/*.nix", "", true},
		{"nix/**/*.nix", "nix", true},
		{"nix/**/*.nix", "nix/a/b/c", true},
		{"nix/**/*.nix", "src", false},
		{"nix/*.nix", "nix", true},
		{"nix/*.nix", "nix/sub", false},
		{"*.nix", "nix", false},
		{"**/*.md", "deep/down", true},
	}
	for _, tt := range tests {
		g, err := ParseGlobs([]string{tt.glob})
		if err != nil {
			t.Fatal(err)
		}
		if got := g.MayMatchUnder(tt.dir); got != tt.want {
			t.Errorf("%q.MayMatchUnder(%q) = %v, want %v", tt.glob, tt.dir, got, tt.want)
		}
	}
}

func TestParseGlobsRejects(t *testing.T) {
	for _, bad := range []string{"", "/etc/*.nix", "nix//a.nix", "nix/../a.nix", "nix/**.nix", "nix/[.nix"} {
		if _, err := ParseGlobs([]string{bad}); err == nil {
			t.Errorf("ParseGlobs(%q) accepted a bad pattern", bad)
		}
	}
	if _, err := ParseGlobs(nil); err == nil {
		t.Error("ParseGlobs(nil) accepted no pattern")
	}
}

// FuzzGlobs checks that matching never panics and that directory pruning
// never hides a match: every directory above a matching path may match.
func FuzzGlobs(f *testing.F) {
	f.Add("nix/**/*.nix", "nix/hosts/web/a.nix")
	f.Add("**/**/x", "a/b/x")
	f.Add("a/*/b/**", "a/x/b")
	f.Add("[a-", "a")
	f.Fuzz(func(t *testing.T, pattern, p string) {
		g, err := ParseGlobs([]string{pattern})
		if err != nil {
			return
		}
		if !g.Match(p) {
			return
		}
		for i := range len(p) {
			if p[i] == '/' && !g.MayMatchUnder(p[:i]) {
				t.Fatalf("%q matches %q but MayMatchUnder(%q) is false", pattern, p, p[:i])
			}
		}
		if !g.MayMatchUnder("") {
			t.Fatalf("%q matches %q but MayMatchUnder(root) is false", pattern, p)
		}
	})
}
