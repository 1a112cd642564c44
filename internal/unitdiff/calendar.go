package unitdiff

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// calendarShorthands are the OnCalendar shorthands and the normalized form
// systemd prints for them (systemd-analyze calendar, "Normalized form").
var calendarShorthands = map[string]string{
	"minutely":     "*-*-* *:*:00",
	"hourly":       "*-*-* *:00:00",
	"daily":        "*-*-* 00:00:00",
	"weekly":       "Mon *-*-* 00:00:00",
	"monthly":      "*-*-01 00:00:00",
	"yearly":       "*-01-01 00:00:00",
	"annually":     "*-01-01 00:00:00",
	"quarterly":    "*-01,04,07,10-01 00:00:00",
	"semiannually": "*-01,07-01 00:00:00",
}

var weekdayNames = [7]string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}

var weekdayByName = map[string]int{
	"mon": 0, "monday": 0, "tue": 1, "tuesday": 1, "wed": 2, "wednesday": 2,
	"thu": 3, "thursday": 3, "fri": 4, "friday": 4, "sat": 5, "saturday": 5,
	"sun": 6, "sunday": 6,
}

// NormalizeCalendar returns the form systemd normalizes an OnCalendar
// expression to, e.g. "daily" → "*-*-* 00:00:00". It covers the shorthands
// and the common "[weekdays] [date] [time] [UTC|Area/City]" forms; anything
// else (last-day "~", "@epoch", fractional seconds, "*/n") is an error, so
// that a caller reports an inconclusive comparison rather than a false
// mismatch.
func NormalizeCalendar(spec string) (string, error) {
	fields := strings.Fields(spec)
	if len(fields) == 0 {
		return "", fmt.Errorf("empty calendar expression")
	}
	zone := ""
	if last := fields[len(fields)-1]; len(fields) > 1 && isTimezone(last) {
		zone = " " + last
		fields = fields[:len(fields)-1]
	}
	if len(fields) == 1 {
		if norm, ok := calendarShorthands[strings.ToLower(fields[0])]; ok {
			return norm + zone, nil
		}
	}
	var weekdays, date, clock string
	var err error
	i := 0
	if i < len(fields) && isLetter(fields[i][0]) {
		if weekdays, err = normalizeWeekdays(fields[i]); err != nil {
			return "", err
		}
		i++
	}
	date = "*-*-*"
	if i < len(fields) && !strings.Contains(fields[i], ":") {
		if date, err = normalizeDate(fields[i]); err != nil {
			return "", err
		}
		i++
	}
	clock = "00:00:00"
	if i < len(fields) {
		if clock, err = normalizeTime(fields[i]); err != nil {
			return "", err
		}
		i++
	}
	if i != len(fields) {
		return "", fmt.Errorf("calendar expression %q: unexpected %q", spec, fields[i])
	}
	out := date + " " + clock + zone
	if weekdays != "" {
		out = weekdays + " " + out
	}
	return out, nil
}

// isTimezone accepts the zones NormalizeCalendar keeps verbatim: UTC and
// tz database names like Europe/Berlin.
func isTimezone(s string) bool {
	return s == "UTC" || (strings.Contains(s, "/") && isLetter(s[0]) && !strings.ContainsAny(s, ":,"))
}

func isLetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

// normalizeWeekdays turns "mon..fri" or "Mon,Tue,Wed" into systemd's form:
// runs of three or more days become "A..B", runs of two "A,B", all seven
// nothing at all.
func normalizeWeekdays(s string) (string, error) {
	var set [7]bool
	for _, part := range strings.Split(s, ",") {
		from, to, isRange := strings.Cut(part, "..")
		if !isRange {
			from, to, isRange = strings.Cut(part, "-")
		}
		start, ok := weekdayByName[strings.ToLower(from)]
		if !ok {
			return "", fmt.Errorf("calendar weekday %q not recognised", from)
		}
		end := start
		if isRange {
			if end, ok = weekdayByName[strings.ToLower(to)]; !ok {
				return "", fmt.Errorf("calendar weekday %q not recognised", to)
			}
			if end < start {
				return "", fmt.Errorf("calendar weekday range %q wraps around", part)
			}
		}
		for d := start; d <= end; d++ {
			set[d] = true
		}
	}
	if set == [7]bool{true, true, true, true, true, true, true} {
		return "", nil
	}
	var runs []string
	for d := 0; d < 7; d++ {
		if !set[d] {
			continue
		}
		end := d
		for end+1 < 7 && set[end+1] {
			end++
		}
		switch {
		case end == d:
			runs = append(runs, weekdayNames[d])
		case end == d+1:
			runs = append(runs, weekdayNames[d], weekdayNames[end])
		default:
			runs = append(runs, weekdayNames[d]+".."+weekdayNames[end])
		}
		d = end
	}
	return strings.Join(runs, ","), nil
}

type fieldRange struct{ min, max, width int }

var (
	yearField   = fieldRange{1970, 2199, 4}
	monthField  = fieldRange{1, 12, 2}
	dayField    = fieldRange{1, 31, 2}
	hourField   = fieldRange{0, 23, 2}
	minuteField = fieldRange{0, 59, 2}
	secondField = fieldRange{0, 59, 2}
)

func normalizeDate(s string) (string, error) {
	if strings.Contains(s, "~") {
		return "", fmt.Errorf("calendar date %q: last-day syntax not supported", s)
	}
	parts := strings.Split(s, "-")
	fields := []fieldRange{monthField, dayField}
	switch len(parts) {
	case 2:
		parts = append([]string{"*"}, parts...)
		fields = append([]fieldRange{yearField}, fields...)
	case 3:
		fields = append([]fieldRange{yearField}, fields...)
	default:
		return "", fmt.Errorf("calendar date %q not recognised", s)
	}
	return normalizeFields(parts, fields, "-")
}

func normalizeTime(s string) (string, error) {
	parts := strings.Split(s, ":")
	switch len(parts) {
	case 2:
		parts = append(parts, "00")
	case 3:
	default:
		return "", fmt.Errorf("calendar time %q not recognised", s)
	}
	return normalizeFields(parts, []fieldRange{hourField, minuteField, secondField}, ":")
}

func normalizeFields(parts []string, fields []fieldRange, sep string) (string, error) {
	out := make([]string, len(parts))
	for i, p := range parts {
		n, err := normalizeChain(p, fields[i])
		if err != nil {
			return "", err
		}
		out[i] = n
	}
	return strings.Join(out, sep), nil
}

// component is one element of a comma list: a value, a range "a..b", and an
// optional repetition "/n".
type component struct{ start, stop, repeat int }

// normalizeChain normalizes one field ("*", "1,5", "01..07", "0/6"): values
// zero-padded, components sorted by start and exact duplicates dropped,
// as systemd does.
func normalizeChain(s string, f fieldRange) (string, error) {
	if s == "*" {
		return "*", nil
	}
	var comps []component
	for _, part := range strings.Split(s, ",") {
		c, err := parseComponent(part, f)
		if err != nil {
			return "", err
		}
		comps = append(comps, c)
	}
	sort.Slice(comps, func(i, j int) bool {
		a, b := comps[i], comps[j]
		if a.start != b.start {
			return a.start < b.start
		}
		if a.stop != b.stop {
			return a.stop < b.stop
		}
		return a.repeat < b.repeat
	})
	var b strings.Builder
	for i, c := range comps {
		if i > 0 && c == comps[i-1] {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%0*d", f.width, c.start)
		if c.stop >= 0 {
			fmt.Fprintf(&b, "..%0*d", f.width, c.stop)
		}
		if c.repeat > 0 {
			fmt.Fprintf(&b, "/%d", c.repeat)
		}
	}
	return b.String(), nil
}

func parseComponent(s string, f fieldRange) (component, error) {
	c := component{stop: -1}
	value, repeat, hasRepeat := strings.Cut(s, "/")
	if hasRepeat {
		n, err := strconv.Atoi(repeat)
		if err != nil || n <= 0 {
			return c, fmt.Errorf("calendar repetition %q not recognised", s)
		}
		c.repeat = n
	}
	from, to, isRange := strings.Cut(value, "..")
	var err error
	if c.start, err = parseValue(from, f); err != nil {
		return c, err
	}
	if isRange {
		if c.stop, err = parseValue(to, f); err != nil {
			return c, err
		}
		if c.stop < c.start {
			return c, fmt.Errorf("calendar range %q is backwards", value)
		}
	}
	return c, nil
}

func parseValue(s string, f fieldRange) (int, error) {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, fmt.Errorf("calendar value %q not recognised", s)
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("calendar value %q: %w", s, err)
	}
	if f == yearField && len(s) <= 2 {
		// systemd reads two-digit years as 1970–2069.
		if n < 70 {
			n += 2000
		} else {
			n += 1900
		}
	}
	if n < f.min || n > f.max {
		return 0, fmt.Errorf("calendar value %q out of range %d..%d", s, f.min, f.max)
	}
	return n, nil
}
