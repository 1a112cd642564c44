package termsafe

import "testing"

func TestString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"docker-prune.timer", "docker-prune.timer"},
		{"getty@tty1.service", "getty@tty1.service"},
		{"ünïcode.service", "ünïcode.service"},
		{"evil\x1b[2Jname.service", `evil\x1b[2Jname.service`},
		{"tab\there", `tab\there`},
		{"new\nline", `new\nline`},
		{"bad\xffutf8", `bad\xffutf8`},
		{`back\slash`, `back\\slash`},
		{"bidi\u202eevil", `bidi\u202eevil`},
		{"", ""},
	}
	for _, tt := range tests {
		if got := String(tt.in); got != tt.want {
			t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzStringHasNoControl(f *testing.F) {
	f.Add("a\x1b]0;title\x07b")
	f.Add("\xff\xfe")
	f.Fuzz(func(t *testing.T, s string) {
		out := String(s)
		for _, r := range out {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
				t.Fatalf("String(%q) = %q contains control %U", s, out, r)
			}
		}
	})
}

func TestMessageEscapesControlsOnce(t *testing.T) {
	tests := []struct{ in, want string }{
		{`read ref "\x1b[31mred": not found`, `read ref "\x1b[31mred": not found`}, // already %q-quoted: left as is
		{"raw \x1b[2J escape", `raw \x1b[2J escape`},
		{"bad\xffutf8", `bad\xffutf8`},
		{"bidi\u202eevil", `bidi\u202eevil`},
	}
	for _, tt := range tests {
		if got := Message(tt.in); got != tt.want {
			t.Errorf("Message(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzMessageHasNoControl(f *testing.F) {
	f.Add("a\x1b]0;title\x07b")
	f.Add(`quoted "\x1b"`)
	f.Fuzz(func(t *testing.T, s string) {
		out := Message(s)
		for _, r := range out {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
				t.Fatalf("Message(%q) = %q contains control %U", s, out, r)
			}
		}
	})
}
