package nixgen

import (
	"strings"
	"testing"
)

func TestDeterministic(t *testing.T) {
	gens := map[string]func(*Generator) Program{
		"Valid": (*Generator).Valid, "Invalid": (*Generator).Invalid, "Module": (*Generator).Module,
		"Operators": (*Generator).Operators, "StringLiteral": (*Generator).StringLiteral,
	}
	for name, gen := range gens {
		a, b, c := New(7), New(7), New(8)
		var differs bool
		for i := range 50 {
			pa, pb, pc := gen(a).Source(), gen(b).Source(), gen(c).Source()
			if pa != pb {
				t.Fatalf("%s: program %d differs for the same seed:\n%s\n%s", name, i, pa, pb)
			}
			differs = differs || pa != pc
		}
		if !differs {
			t.Errorf("%s: seeds 7 and 8 gave the same 50 programs", name)
		}
	}
}

func TestModuleDeclaresUnits(t *testing.T) {
	g := New(1)
	for range 20 {
		p := g.Module()
		if !strings.Contains(strings.Join(p.Frags, " "), "systemd . services .") {
			t.Fatalf("module without a systemd service:\n%s", p.Source())
		}
	}
}
