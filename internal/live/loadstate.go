package live

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// loadStates is systemd's closed set of unit load states
// (unit_load_state_table, src/basic/unit-def.c; org.freedesktop.systemd1(5)).
// "stub" and "merged" are transient inside systemd, a read rarely meets them.
var loadStates = map[string]bool{
	"stub":        true,
	"loaded":      true,
	"not-found":   true,
	"bad-setting": true,
	"error":       true,
	"merged":      true,
	"masked":      true,
}

// checkLoadState accepts only a load state systemd can report. Every
// decision about a unit's presence hangs on it: an absent or unknown value
// must make the unit unreadable, never present.
func checkLoadState(state string) error {
	switch {
	case state == "":
		return errors.New("no load state")
	case !loadStates[state]:
		return fmt.Errorf("unknown load state %s", quoteExcerpt(state))
	}
	return nil
}

// maxEcho bounds how many bytes of an untrusted string (from a snapshot
// file or a bus) an error message repeats.
const maxEcho = 64

// quoteExcerpt quotes s for an error message, cut to maxEcho bytes on a
// rune boundary, with the length it had when it was cut.
func quoteExcerpt(s string) string {
	if len(s) <= maxEcho {
		return strconv.Quote(s)
	}
	cut := maxEcho
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d bytes)", strconv.Quote(s[:cut]), len(s))
}
