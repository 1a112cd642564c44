package token

import "testing"

func TestFilePosition(t *testing.T) {
	src := "a\n  bb\n\nc\n"
	f := NewFile("p.nix", len(src))
	for i, c := range src {
		if c == '\n' {
			f.AddLine(i + 1)
		}
	}
	f.AddLine(3) // out of order: ignored
	tests := []struct {
		off  int
		want string
	}{
		{0, "p.nix:1:1"}, {4, "p.nix:2:3"}, {7, "p.nix:3:1"}, {8, "p.nix:4:1"}, {len(src), "p.nix:5:1"},
	}
	for _, tt := range tests {
		if got := f.Position(f.Pos(tt.off)).String(); got != tt.want {
			t.Errorf("offset %d at %s, want %s", tt.off, got, tt.want)
		}
	}
	if got := f.Position(NoPos).String(); got != "p.nix" {
		t.Errorf("NoPos at %q, want the file name alone", got)
	}
	var table File
	table.size = len(src)
	if !table.SetLines([]int{0, 2, 7, 8, 10}) || table.Position(PosAt(4)).String() != "2:3" {
		t.Errorf("SetLines: position %s, want 2:3", table.Position(PosAt(4)))
	}
	if table.SetLines([]int{0, 7, 2}) || table.SetLines([]int{1}) || table.SetLines(nil) {
		t.Error("SetLines accepted a table that is not increasing from 0")
	}
	if got := NewFile("", 3).Position(PosAt(2)).String(); got != "1:3" {
		t.Errorf("one-line file: %s, want 1:3", got)
	}
}
