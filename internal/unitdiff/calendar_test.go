package unitdiff

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/driftcheck/driftcheck/internal/testreq"
)

// calendarCases are OnCalendar expressions with the normalized form
// systemd 252 prints for them (systemd-analyze calendar); "" means the
// normalizer must refuse the expression.
var calendarCases = []struct{ spec, want string }{
	{"daily", "*-*-* 00:00:00"},
	{"weekly", "Mon *-*-* 00:00:00"},
	{"hourly", "*-*-* *:00:00"},
	{"monthly", "*-*-01 00:00:00"},
	{"yearly", "*-01-01 00:00:00"},
	{"annually", "*-01-01 00:00:00"},
	{"quarterly", "*-01,04,07,10-01 00:00:00"},
	{"semiannually", "*-01,07-01 00:00:00"},
	{"minutely", "*-*-* *:*:00"},
	{"Daily", "*-*-* 00:00:00"},
	{"daily UTC", "*-*-* 00:00:00 UTC"},
	{"weekly UTC", "Mon *-*-* 00:00:00 UTC"},
	{"03:00 Europe/Berlin", "*-*-* 03:00:00 Europe/Berlin"},
	{"*-*-* 00:00:00", "*-*-* 00:00:00"},
	{"Mon *-*-* 00:00:00", "Mon *-*-* 00:00:00"},
	{"Mon *-*-* 00:00:00 UTC", "Mon *-*-* 00:00:00 UTC"},
	{"Mon,Tue,Wed", "Mon..Wed *-*-* 00:00:00"},
	{"Mon,Tue", "Mon,Tue *-*-* 00:00:00"},
	{"Mon,Wed,Fri", "Mon,Wed,Fri *-*-* 00:00:00"},
	{"mon..fri", "Mon..Fri *-*-* 00:00:00"},
	{"Mon-Fri", "Mon..Fri *-*-* 00:00:00"},
	{"Sat,Sun", "Sat,Sun *-*-* 00:00:00"},
	{"Sun,Mon", "Mon,Sun *-*-* 00:00:00"},
	{"Tue,Mon", "Mon,Tue *-*-* 00:00:00"},
	{"Mon,Mon", "Mon *-*-* 00:00:00"},
	{"Mon..Sun", "*-*-* 00:00:00"},
	{"Mon..Wed,Fri", "Mon..Wed,Fri *-*-* 00:00:00"},
	{"Monday", "Mon *-*-* 00:00:00"},
	{"fri", "Fri *-*-* 00:00:00"},
	{"Mon 05:00", "Mon *-*-* 05:00:00"},
	{"Mon..Fri 22:00", "Mon..Fri *-*-* 22:00:00"},
	{"Fri *-*-1..7 18:00", "Fri *-*-01..07 18:00:00"},
	{"*-*-* 00/6:00:00", "*-*-* 00/6:00:00"},
	{"0/6:00", "*-*-* 00/6:00:00"},
	{"*:0/15", "*-*-* *:00/15:00"},
	{"*-*-* *:*:*", "*-*-* *:*:*"},
	{"*:*", "*-*-* *:*:00"},
	{"*:5", "*-*-* *:05:00"},
	{"12:00", "*-*-* 12:00:00"},
	{"04-01", "*-04-01 00:00:00"},
	{"2026-1-1 3:4", "2026-01-01 03:04:00"},
	{"2026-*-*", "2026-*-* 00:00:00"},
	{"26-1-1", "2026-01-01 00:00:00"},
	{"*-*-1,2,3", "*-*-01,02,03 00:00:00"},
	{"*-*-5,1", "*-*-01,05 00:00:00"},
	{"*-*-1..3,2", "*-*-01..03,02 00:00:00"},
	{"*-*-01,01", "*-*-01 00:00:00"},
	{"*-*-* 0,12:00", "*-*-* 00,12:00:00"},
	{"*-*-1/3", "*-*-01/3 00:00:00"},
	{"*-2/3-1", "*-02/3-01 00:00:00"},
	{"*-*-1..3/2", "*-*-01..03/2 00:00:00"},
	{"*-*-1..31", "*-*-01..31 00:00:00"},
	{"*-*-* 05..07:00", "*-*-* 05..07:00:00"},
	// Refused: systemd rejects them, or they use syntax the normalizer
	// does not model (it must then say "inconclusive", not guess).
	{"*-*~03", ""},
	{"*:00:00.5", ""},
	{"@123", ""},
	{"1,2,3", ""},
	{"*-*-*/2", ""},
	{"*/2", ""},
	{"Sat..Mon", ""},
	{"00:00:60", ""},
	{"mon, fri", ""},
	{"now", ""},
	{"", ""},
	{"daily weekly", ""},
	{"Mon Tue", ""},
	{"13-01", ""},
}

func TestNormalizeCalendar(t *testing.T) {
	for _, tc := range calendarCases {
		got, err := NormalizeCalendar(tc.spec)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("NormalizeCalendar(%q) = %q, want an error", tc.spec, got)
		case tc.want != "" && err != nil:
			t.Errorf("NormalizeCalendar(%q): %v, want %q", tc.spec, err, tc.want)
		case got != tc.want:
			t.Errorf("NormalizeCalendar(%q) = %q, want %q", tc.spec, got, tc.want)
		}
	}
}

// TestNormalizeCalendarAgreesWithSystemd checks the table against the real
// normalizer: for every expression the normalizer accepts, systemd must
// print the same normalized form. A disagreement here would become a false
// "mismatch" finding.
func TestNormalizeCalendarAgreesWithSystemd(t *testing.T) {
	analyze := testreq.Command(t, "systemd-analyze", "systemd")
	for _, tc := range calendarCases {
		if tc.spec == "" {
			continue
		}
		ours, ourErr := NormalizeCalendar(tc.spec)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		out, runErr := exec.CommandContext(ctx, analyze, "calendar", tc.spec).CombinedOutput()
		cancel()
		theirs := ""
		for _, line := range strings.Split(string(out), "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Normalized form: "); ok {
				theirs = v
			}
		}
		switch {
		case ourErr == nil && runErr != nil:
			t.Errorf("%q: we normalize to %q, systemd rejects it: %s", tc.spec, ours, strings.TrimSpace(string(out)))
		case ourErr == nil && ours != theirs:
			t.Errorf("%q: we normalize to %q, systemd to %q", tc.spec, ours, theirs)
		}
	}
}
