package termsafe

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"docker-prune.timer", "docker-prune.timer"},
		{"getty@tty1.service", "getty@tty1.service"},
		{"ünïcode.service", "ünïcode.service"},
		{"replacement \uFFFD char", "replacement \uFFFD char"},
		{"evil\x1b[2Jname.service", `evil\x1b[2Jname.service`},
		{"tab\there", `tab\there`},
		{"new\nline", `new\nline`},
		{"bad\xffutf8", `bad\xffutf8`},
		{"bidi\u202eevil", `bidi\u202eevil`},
		{"isolate\u2066x\u2069", `isolate\u2066x\u2069`},
		{"mark\u200e\u200f\u061c", `mark\u200e\u200f\u061c`},
		{"c1\u009bcsi", `c1\u009bcsi`},
		{"del\x7f", `del\x7f`},
		{"", ""},
	}
	for _, tt := range tests {
		if got := String(tt.in); got != tt.want {
			t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// Issue 8: backslashes were escaped again, so a unit name systemd writes
// with \x2d, or a message whose parts were quoted with %q, printed as
// "\\x2d" and "\\x1b". A backslash cannot drive a terminal: it is kept.
func TestStringEscapesOnce(t *testing.T) {
	tests := []struct{ in, want string }{
		{`dev-disk-by\x2duuid-1234.device`, `dev-disk-by\x2duuid-1234.device`},
		{`back\slash`, `back\slash`},
		{fmt.Sprintf("read ref %q: not found", "\x1b[31mred"), `read ref "\x1b[31mred": not found`},
		{"raw \x1b[2J escape", `raw \x1b[2J escape`},
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
	f.Add(`quoted "\x1b"`)
	f.Add("\u202e\u009b")
	f.Fuzz(func(t *testing.T, s string) {
		out := String(s)
		for _, r := range out {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || isBidi(r) {
				t.Fatalf("String(%q) = %q contains control %U", s, out, r)
			}
		}
	})
}

// Issue 8: JSON output passed U+202E and U+009B through raw (encoding/json
// escapes neither). The encoder escapes them; the decoded value is the same.
func TestJSONEncoderEscapesBidiAndC1(t *testing.T) {
	in := map[string]string{"unit": "evil\u202e\u009b[2J\u2066\u200e\x7f.service", "plain": "ünïcode <&>"}
	var buf bytes.Buffer
	enc := NewJSONEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(in); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, r := range out {
		if r == 0x7f || (r >= 0x80 && r < 0xa0) || isBidi(r) {
			t.Fatalf("JSON %q holds %U raw", out, r)
		}
	}
	if !strings.Contains(out, `evil\u202e\u009b[2J\u2066\u200e\u007f.service`) || !strings.Contains(out, "ünïcode") || !strings.HasSuffix(out, "}\n") {
		t.Errorf("JSON = %s", out)
	}
	var back map[string]string
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil || back["unit"] != in["unit"] || back["plain"] != in["plain"] {
		t.Errorf("decoded %q, %v; want %q", back, err, in)
	}
}

func FuzzEscapeJSONKeepsTheValue(f *testing.F) {
	f.Add("a\u202eb\u009bc")
	f.Add("\xff\u2028")
	f.Fuzz(func(t *testing.T, s string) {
		raw, err := json.Marshal(s)
		if err != nil {
			t.Skip()
		}
		escaped := EscapeJSON(raw)
		var back, want string
		if err := json.Unmarshal(escaped, &back); err != nil {
			t.Fatalf("EscapeJSON(%s) = %s: %v", raw, escaped, err)
		}
		_ = json.Unmarshal(raw, &want)
		if back != want {
			t.Fatalf("EscapeJSON changed the value: %q, want %q", back, want)
		}
		for _, r := range string(escaped) {
			if r == 0x7f || (r >= 0x80 && r < 0xa0) || isBidi(r) {
				t.Fatalf("EscapeJSON(%s) = %s holds %U raw", raw, escaped, r)
			}
		}
	})
}
