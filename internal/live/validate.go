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

// maxUnitName is systemd's UNIT_NAME_MAX.
const maxUnitName = 255

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

// MaxUnitString bounds every string a unit carries besides its name (which
// systemd bounds at 255 bytes): description, paths, states, load error,
// calendar specs. Real values are far shorter (paths are bounded by
// PATH_MAX, 4096); the bound keeps what findings and errors repeat from a
// snapshot file or a bus short. A unit over it is unreadable.
const MaxUnitString = 8 << 10

// checkStrings reports the first string of u longer than its bound.
func (u Unit) checkStrings() error {
	if len(u.Name) > maxUnitName {
		return fmt.Errorf("unit name is %d bytes, more than %d", len(u.Name), maxUnitName)
	}
	fields := []struct{ name, value string }{
		{"load", u.LoadState}, {"active", u.ActiveState}, {"sub", u.SubState},
		{"file_state", u.UnitFileState}, {"preset", u.Preset}, {"fragment", u.FragmentPath},
		{"store_path", u.StorePath}, {"load_error", u.LoadError}, {"description", u.Description},
	}
	if u.Timer != nil {
		fields = append(fields, struct{ name, value string }{"timer.unit", u.Timer.Unit})
		for _, c := range u.Timer.Calendar {
			fields = append(fields, struct{ name, value string }{"timer.calendar", c})
		}
	}
	for _, f := range fields {
		if len(f.value) > MaxUnitString {
			return fmt.Errorf("%s is %d bytes, more than %d", f.name, len(f.value), MaxUnitString)
		}
	}
	return nil
}
