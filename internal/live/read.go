package live

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	sddbus "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"
)

// Query says which units to read.
type Query struct {
	// Names are exact unit names, read whatever their state, including
	// units systemd does not know (load state not-found).
	Names []string
	// ScopeGlobs select every unit systemd has loaded or finds a file for,
	// e.g. "*docker-prune*": how undeclared units are found.
	ScopeGlobs []string
	// Root is the file system FragmentPath is resolved in to find the
	// store path; "" means "/". For a sandbox: /proc/<pid>/root.
	Root string
	// CallTimeout bounds each D-Bus call; 0 means DefaultCallTimeout.
	CallTimeout time.Duration
	// Workers is how many unit reads run at once on the connection; 0
	// means DefaultWorkers.
	Workers int
	// ForComparison reads only what the comparison (internal/unitdiff)
	// reads: the load, active and sub states and descriptions of all units
	// in one ListUnitsByNames call, then per unit only NeedDaemonReload
	// (and LoadError for a unit that did not load) and a loaded timer's
	// settings, instead of every property of every unit. Preset,
	// FragmentPath and StorePath stay empty. `check` reads this way;
	// snapshot and reconcile read every field.
	ForComparison bool
}

const (
	// DefaultCallTimeout is generous because ListUnitFilesByPatterns with a
	// glob matching every unit file computes every install state (3.6 s for
	// 1,500 files on systemd 252).
	DefaultCallTimeout = 30 * time.Second
	// DefaultWorkers: systemd's manager is single-threaded, but overlapping
	// round trips halves wall time; more than 8 gains nothing (measured).
	DefaultWorkers = 8
)

// Read reads every named unit and every unit in scope. A unit systemd
// answers about with an error is recorded in Snapshot.Errors (the check is
// then incomplete); losing the bus or systemd mid-read returns an error and
// no snapshot, never one that silently lacks units.
func Read(ctx context.Context, conn *Conn, q Query) (*Snapshot, error) {
	if conn == nil {
		return nil, errors.New("read units: no bus connection")
	}
	r := reader{bus: conn, q: q}
	if r.q.CallTimeout <= 0 {
		r.q.CallTimeout = DefaultCallTimeout
	}
	if r.q.Workers <= 0 {
		r.q.Workers = DefaultWorkers
	}
	return r.read(ctx)
}

// bus is what the reader may call: read-only by construction.
type bus interface {
	version(ctx context.Context) (string, error)
	unitFileState(ctx context.Context, name string) (string, error)
	unitProperties(ctx context.Context, name string) (map[string]any, error)
	timerProperties(ctx context.Context, name string) (map[string]any, error)
	loadedUnits(ctx context.Context, globs []string) ([]sddbus.UnitStatus, error)
	unitFiles(ctx context.Context, globs []string) ([]sddbus.UnitFile, error)
	unitStates(ctx context.Context, names []string) ([]sddbus.UnitStatus, error)
	unitProperty(ctx context.Context, name, property string) (any, error)
}

type reader struct {
	bus bus
	q   Query
}

func (r reader) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, r.q.CallTimeout)
}

// read asks systemd for the install states of every named and in-scope
// unit file in one ListUnitFilesByPatterns call, and, while systemd
// computes them (the bulk of a read: it scans the unit directories for
// every file matched), lists the loaded units in scope and reads the
// properties of those and of the named units. Units only the file listing
// finds (in scope, on disk, not loaded) are read when it returns.
func (r reader) read(ctx context.Context) (*Snapshot, error) {
	snap := &Snapshot{Schema: SnapshotSchema, TakenAt: time.Now().UTC(), Scope: r.q.ScopeGlobs}
	callCtx, cancel := r.call(ctx)
	v, err := r.bus.version(callCtx)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("read systemd version: %w", err)
	}
	snap.SystemdVersion = v

	named := r.validNames(snap)
	ctx, cancel = context.WithCancel(ctx)
	defer cancel()
	listed := make(chan listing, 1)
	go func() { listed <- r.listFileStates(ctx, named) }()

	names, err := r.withLoaded(ctx, named)
	if err != nil {
		return nil, err
	}
	units, errs, err := r.readUnits(ctx, names)
	if err != nil {
		return nil, err
	}
	l := <-listed
	if l.err != nil {
		return nil, l.err
	}
	onDiskOnly := l.notIn(names)
	more, moreErrs, err := r.readUnits(ctx, onDiskOnly)
	if err != nil {
		return nil, err
	}
	errs = append(errs, moreErrs...)
	for _, u := range append(units, more...) {
		if err := l.unitErrs[u.Name]; err != nil {
			errs = append(errs, ReadError{Unit: u.Name, Message: err.Error()})
			continue
		}
		u.UnitFileState = l.states[u.Name]
		snap.Units = append(snap.Units, u)
	}
	sort.Slice(snap.Units, func(i, j int) bool { return snap.Units[i].Name < snap.Units[j].Name })
	if snap.Units == nil {
		snap.Units = []Unit{} // "units": [] in JSON, not null
	}
	snap.Errors = append(snap.Errors, errs...)
	sort.Slice(snap.Errors, func(i, j int) bool { return snap.Errors[i].Unit < snap.Errors[j].Unit })
	return snap, nil
}

// validNames returns the distinct named units systemd would accept, sorted;
// the others become read errors.
func (r reader) validNames(snap *Snapshot) []string {
	seen := map[string]bool{}
	var names []string
	for _, name := range r.q.Names {
		if seen[name] {
			continue
		}
		seen[name] = true
		if err := CheckUnitName(name); err != nil {
			snap.Errors = append(snap.Errors, ReadError{Unit: name, Message: err.Error()})
			continue
		}
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// withLoaded adds the loaded units the scope globs match to the named ones.
func (r reader) withLoaded(ctx context.Context, named []string) ([]string, error) {
	if len(r.q.ScopeGlobs) == 0 {
		return named, nil
	}
	callCtx, cancel := r.call(ctx)
	loaded, err := r.bus.loadedUnits(callCtx, r.q.ScopeGlobs)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("list loaded units matching %s: %w", strings.Join(r.q.ScopeGlobs, " "), err)
	}
	names := slices.Clone(named)
	for _, u := range loaded {
		names = append(names, u.Name)
	}
	sort.Strings(names)
	return slices.Compact(names), nil
}

type listing struct {
	states   map[string]string // unit name → install state, for every unit file listed
	unitErrs map[string]error  // units whose state systemd answered with an error
	err      error             // the listing failed: no snapshot
}

// notIn returns the listed units that are not among names (sorted).
func (l listing) notIn(names []string) []string {
	var out []string
	for name := range l.states {
		if _, found := slices.BinarySearch(names, name); !found {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// listFileStates lists, fresh from disk, the unit files the scope globs
// match and those of the named units, in one call: systemd's cost is one
// scan of its unit directories per file matched, plus one enumeration.
// A named unit without a file is absent from the listing (its state is
// "": systemd does not know it, or only a dangling link does).
//
// A name is its own pattern (unit names hold no glob characters), except
// that fnmatch reads a backslash as an escape: such names are asked one by
// one with GetUnitFileState. Names a plain scope glob already matches are
// not repeated, so that the patterns do not grow with the names.
func (r reader) listFileStates(ctx context.Context, named []string) listing {
	states := map[string]string{}
	patterns := slices.Clone(r.q.ScopeGlobs)
	var escaped []string
	for _, name := range named {
		switch {
		case strings.ContainsRune(name, '\\'):
			escaped = append(escaped, name)
		case !matchesPlainGlob(r.q.ScopeGlobs, name):
			patterns = append(patterns, name)
		}
	}
	if len(patterns) > 0 {
		callCtx, cancel := r.call(ctx)
		files, err := r.bus.unitFiles(callCtx, patterns)
		cancel()
		if err != nil {
			return listing{err: fmt.Errorf("list unit files of %d units and globs: %w", len(patterns), err)}
		}
		for _, f := range files {
			states[path.Base(f.Path)] = f.Type
		}
	}
	unitErrs := map[string]error{}
	for _, name := range escaped {
		callCtx, cancel := r.call(ctx)
		state, err := r.bus.unitFileState(callCtx, name)
		cancel()
		switch {
		case err != nil && isFatal(err):
			return listing{err: fmt.Errorf("get unit file state of %s: %w", name, err)}
		case err != nil:
			unitErrs[name] = fmt.Errorf("get unit file state of %s: %w", name, err)
		case state != "":
			states[name] = state
		}
	}
	return listing{states: states, unitErrs: unitErrs}
}

// matchesPlainGlob reports whether one of globs matches name, for the globs
// whose meaning is the same for Go's path.Match and systemd's fnmatch
// (FNM_NOESCAPE): those without '\\' and '['.
func matchesPlainGlob(globs []string, name string) bool {
	for _, g := range globs {
		if strings.ContainsAny(g, `\[`) {
			continue
		}
		if ok, err := path.Match(g, name); ok && err == nil {
			return true
		}
	}
	return false
}

// readUnits reads names with Workers goroutines on the one connection.
// The first fatal error (bus lost) cancels the rest and is returned alone.
func (r reader) readUnits(ctx context.Context, names []string) ([]Unit, []ReadError, error) {
	read := r.readUnit
	if r.q.ForComparison && len(names) > 0 {
		states, err := r.unitStates(ctx, names)
		switch {
		case err != nil && isFatal(err):
			return nil, nil, fmt.Errorf("read aborted, no snapshot: %w", err)
		case err != nil:
			// systemd refused the batch (a name it cannot load, such as
			// a template): ask unit by unit, so that the trouble stays
			// that unit's.
			read = func(ctx context.Context, name string) (Unit, error) {
				st, err := r.unitStates(ctx, []string{name})
				if err != nil {
					return Unit{}, err
				}
				return r.readUnitCompared(ctx, name, st[name])
			}
		default:
			read = func(ctx context.Context, name string) (Unit, error) {
				return r.readUnitCompared(ctx, name, states[name])
			}
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	units := make([]Unit, len(names))
	unitErrs := make([]error, len(names))
	var (
		fatalOnce sync.Once
		fatal     error
		wg        sync.WaitGroup
	)
	next := make(chan int)
	for range min(r.q.Workers, len(names)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				u, err := read(ctx, names[i])
				if err != nil && isFatal(err) {
					fatalOnce.Do(func() { fatal = err; cancel() })
					continue
				}
				units[i], unitErrs[i] = u, err
			}
		}()
	}
feed:
	for i := range names {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if fatal != nil {
		return nil, nil, fmt.Errorf("read aborted, no snapshot: %w", fatal)
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("read units: %w", err)
	}
	var out []Unit
	var errs []ReadError
	for i, err := range unitErrs {
		if err != nil {
			errs = append(errs, ReadError{Unit: names[i], Message: err.Error()})
			continue
		}
		out = append(out, units[i])
	}
	return out, errs, nil
}

// readUnit reads one unit's properties and, for a loaded timer, its
// trigger settings. The install state comes from the listing.
func (r reader) readUnit(ctx context.Context, name string) (Unit, error) {
	callCtx, cancel := r.call(ctx)
	props, err := r.bus.unitProperties(callCtx, name)
	cancel()
	if err != nil {
		return Unit{}, fmt.Errorf("get properties of %s: %w", name, err)
	}
	u, err := unitFromProperties(name, props)
	if err != nil {
		return Unit{}, err
	}
	u.StorePath = resolveStorePath(r.q.Root, u.FragmentPath)

	if err := r.readTimer(ctx, &u); err != nil {
		return Unit{}, err
	}
	if err := u.checkStrings(); err != nil {
		return Unit{}, &badPropertyError{unit: name, err: err}
	}
	return u, nil
}

// unitStates asks for the states of names in one ListUnitsByNames call,
// keyed by the name asked: systemd answers one entry per name, in order
// (with the primary name of an alias). It loads unknown units on demand,
// so not-found and masked come back as states. systemd refuses the whole
// call for one name it cannot load (an error reply, not fatal).
func (r reader) unitStates(ctx context.Context, names []string) (map[string]sddbus.UnitStatus, error) {
	callCtx, cancel := r.call(ctx)
	list, err := r.bus.unitStates(callCtx, names)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("list units %s: %w", strings.Join(names, " "), err)
	}
	if len(list) != len(names) {
		// Not a D-Bus error, so fatal: which answer is whose is unknown.
		return nil, fmt.Errorf("list units by names: %d answers for %d names", len(list), len(names))
	}
	states := make(map[string]sddbus.UnitStatus, len(names))
	for i, name := range names {
		states[name] = list[i]
	}
	return states, nil
}

// readUnitCompared completes a unit's states from ListUnitsByNames with
// what the comparison reads besides: NeedDaemonReload, the LoadError of a
// unit that did not load (a loaded unit has none), a loaded timer's
// settings.
func (r reader) readUnitCompared(ctx context.Context, name string, st sddbus.UnitStatus) (Unit, error) {
	if err := checkLoadState(st.LoadState); err != nil {
		return Unit{}, &badPropertyError{unit: name, err: err}
	}
	u := Unit{Name: name, LoadState: st.LoadState, ActiveState: st.ActiveState, SubState: st.SubState, Description: st.Description}
	reload, err := r.unitProperty(ctx, name, "NeedDaemonReload")
	if err != nil {
		return Unit{}, err
	}
	u.NeedDaemonReload, _ = reload.(bool)
	if u.LoadState != "loaded" {
		loadErr, err := r.unitProperty(ctx, name, "LoadError")
		if err != nil {
			return Unit{}, err
		}
		u.LoadError = loadError(loadErr)
	}
	if err := r.readTimer(ctx, &u); err != nil {
		return Unit{}, err
	}
	if err := u.checkStrings(); err != nil {
		return Unit{}, &badPropertyError{unit: name, err: err}
	}
	return u, nil
}

func (r reader) unitProperty(ctx context.Context, name, property string) (any, error) {
	callCtx, cancel := r.call(ctx)
	defer cancel()
	v, err := r.bus.unitProperty(callCtx, name, property)
	if err != nil {
		return nil, fmt.Errorf("get %s of %s: %w", property, name, err)
	}
	return v, nil
}

// readTimer reads a loaded timer's trigger settings into u.
func (r reader) readTimer(ctx context.Context, u *Unit) error {
	if !strings.HasSuffix(u.Name, ".timer") || u.LoadState != "loaded" {
		return nil
	}
	callCtx, cancel := r.call(ctx)
	tprops, err := r.bus.timerProperties(callCtx, u.Name)
	cancel()
	if err != nil {
		return fmt.Errorf("get timer properties of %s: %w", u.Name, err)
	}
	u.Timer = timerFromProperties(tprops)
	return nil
}

// isFatal tells a lost bus or a systemd that left it (the whole read is
// void) from an error reply about one unit (recorded, the read goes on).
func isFatal(err error) bool {
	var badProp *badPropertyError
	if errors.As(err, &badProp) {
		return false // the bus answered, about this unit only
	}
	var dbusErr dbus.Error
	if !errors.As(err, &dbusErr) {
		return true // transport: connection closed, EOF, timeout, cancelled
	}
	switch dbusErr.Name {
	case "org.freedesktop.DBus.Error.ServiceUnknown",
		"org.freedesktop.DBus.Error.NameHasNoOwner",
		"org.freedesktop.DBus.Error.NoReply",
		"org.freedesktop.DBus.Error.Disconnected",
		"org.freedesktop.DBus.Error.Timeout",
		"org.freedesktop.DBus.Error.TimedOut":
		return true
	}
	return false
}

// resolveStorePath follows one symlink level of fragment inside root: on
// NixOS the search-path entry links to the store path the unit came from.
// A regular file, a vanished file or no fragment yields "".
func resolveStorePath(root, fragment string) string {
	if fragment == "" {
		return ""
	}
	if root == "" {
		root = "/"
	}
	// os.Readlink, not filepath.EvalSymlinks: through /proc/<pid>/root the
	// latter reads the magic link as "/" and leaves the sandbox.
	target, err := os.Readlink(filepath.Join(root, fragment))
	if err != nil {
		return ""
	}
	if !path.IsAbs(target) {
		target = path.Join(path.Dir(fragment), target)
	}
	return target
}

// CheckUnitName rejects what systemd would reject for a whole batch, so
// one bad name costs one read error, not the read.
func CheckUnitName(name string) error {
	dot := strings.LastIndexByte(name, '.')
	switch {
	case name == "":
		return errors.New("empty unit name")
	case len(name) > maxUnitName:
		return fmt.Errorf("unit name longer than %d bytes", maxUnitName)
	case dot <= 0 || dot == len(name)-1:
		return errors.New("unit name has no type suffix")
	}
	for i, r := range name {
		if r >= utf8.RuneSelf || !isUnitNameByte(byte(r)) {
			return fmt.Errorf("unit name contains %s", describeRune(name, i, r))
		}
	}
	return nil
}

// describeRune names the offending character as a rune, not its first
// byte: "U+202E", "U+002F '/'", or "byte 0xff" where the name is not UTF-8.
func describeRune(name string, i int, r rune) string {
	if r == utf8.RuneError && !strings.HasPrefix(name[i:], "\uFFFD") {
		return fmt.Sprintf("byte 0x%02x (not UTF-8)", name[i])
	}
	return fmt.Sprintf("%#U", r)
}

func isUnitNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte(":-_.\\@", c) >= 0
}
