package live

import "fmt"

// unitFromProperties maps the org.freedesktop.systemd1.Unit properties to a
// Unit. UnitFileState is deliberately not taken from them: systemd caches
// it for loaded units, the reader asks for the on-disk state separately.
// LoadState decides whether the unit exists at all, so a bus that omits it,
// sends it with another type or sends a value systemd never reports makes
// the unit unreadable (an error), not a unit without a state.
func unitFromProperties(name string, props map[string]any) (Unit, error) {
	load, err := requiredString(props, "LoadState")
	if err == nil {
		err = checkLoadState(load)
	}
	if err != nil {
		return Unit{}, &badPropertyError{unit: name, err: err}
	}
	return Unit{
		Name:             name,
		LoadState:        load,
		ActiveState:      stringProp(props, "ActiveState"),
		SubState:         stringProp(props, "SubState"),
		Preset:           stringProp(props, "UnitFilePreset"),
		FragmentPath:     stringProp(props, "FragmentPath"),
		NeedDaemonReload: boolProp(props, "NeedDaemonReload"),
		LoadError:        loadError(props["LoadError"]),
		Description:      stringProp(props, "Description"),
	}, nil
}

// badPropertyError is a reply about one unit that the reader cannot use:
// the unit is recorded as unreadable and the read goes on.
type badPropertyError struct {
	unit string
	err  error
}

func (e *badPropertyError) Error() string {
	return fmt.Sprintf("properties of %s: %v", e.unit, e.err)
}

func (e *badPropertyError) Unwrap() error { return e.err }

// requiredString reads a string property that must be there.
func requiredString(props map[string]any, key string) (string, error) {
	v, ok := props[key]
	if !ok {
		return "", fmt.Errorf("the bus sent no %s property", key)
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("property %s is a %T, not a string", key, v)
	}
	return s, nil
}

// timerFromProperties maps org.freedesktop.systemd1.Timer properties.
// TimersCalendar is a(sst): (base, normalized spec, next elapse µs); systemd
// normalizes the spec, so "daily" arrives as "*-*-* 00:00:00".
func timerFromProperties(props map[string]any) *Timer {
	t := &Timer{Unit: stringProp(props, "Unit"), Persistent: boolProp(props, "Persistent")}
	entries, _ := props["TimersCalendar"].([][]any)
	for _, e := range entries {
		if len(e) < 2 {
			continue
		}
		if spec, ok := e[1].(string); ok {
			t.Calendar = append(t.Calendar, spec)
		}
	}
	return t
}

// loadError renders LoadError (ss: D-Bus error name, message) as the
// message, or "" when the unit loaded. Only the message is kept: it names
// the unit and the reason, the error name adds nothing for a reader.
func loadError(v any) string {
	fields, _ := v.([]any)
	if len(fields) != 2 {
		return ""
	}
	name, _ := fields[0].(string)
	msg, _ := fields[1].(string)
	if name == "" && msg == "" {
		return ""
	}
	if msg == "" {
		return name
	}
	return msg
}

func stringProp(props map[string]any, key string) string {
	s, _ := props[key].(string)
	return s
}

func boolProp(props map[string]any, key string) bool {
	b, _ := props[key].(bool)
	return b
}
