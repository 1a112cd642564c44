package live

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

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
}

type reader struct {
	bus bus
	q   Query
	// perUnitFileState asks GetUnitFileState for every unit instead of
	// listing exact names in one ListUnitFilesByPatterns call; kept for
	// the benchmark that chose between them.
	perUnitFileState bool
}

func (r reader) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, r.q.CallTimeout)
}

func (r reader) read(ctx context.Context) (*Snapshot, error) {
	snap := &Snapshot{Schema: SnapshotSchema, TakenAt: time.Now().UTC(), Scope: r.q.ScopeGlobs}
	callCtx, cancel := r.call(ctx)
	v, err := r.bus.version(callCtx)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("read systemd version: %w", err)
	}
	snap.SystemdVersion = v

	names, fileStates, err := r.targets(ctx, snap)
	if err != nil {
		return nil, err
	}
	// The install states of the exact names are listed in one call while
	// the properties are read: systemd works on the listing while this
	// process decodes properties.
	exact := r.listable(names, fileStates)
	ctx, cancel = context.WithCancel(ctx)
	defer cancel()
	listed := make(chan listing, 1)
	go func() { listed <- r.listFileStates(ctx, exact) }()
	covered := func(name string) bool { _, ok := fileStates[name]; return ok || exact[name] }
	units, errs, err := r.readUnits(ctx, names, covered)
	if err != nil {
		return nil, err
	}
	l := <-listed
	if l.err != nil {
		return nil, l.err
	}
	for i := range units {
		if state, ok := fileStates[units[i].Name]; ok {
			units[i].UnitFileState = state
		} else if exact[units[i].Name] {
			units[i].UnitFileState = l.states[units[i].Name]
		}
	}
	snap.Units = units
	if snap.Units == nil {
		snap.Units = []Unit{} // "units": [] in JSON, not null
	}
	snap.Errors = append(snap.Errors, errs...)
	sort.Slice(snap.Errors, func(i, j int) bool { return snap.Errors[i].Unit < snap.Errors[j].Unit })
	return snap, nil
}

// targets returns the sorted, distinct unit names to read, and the install
// states of those it could list fresh from disk in one call. Invalid names
// become read errors.
func (r reader) targets(ctx context.Context, snap *Snapshot) ([]string, map[string]string, error) {
	seen := map[string]bool{}
	var names []string
	add := func(name string) {
		if !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	for _, name := range r.q.Names {
		if err := CheckUnitName(name); err != nil {
			snap.Errors = append(snap.Errors, ReadError{Unit: name, Message: err.Error()})
			seen[name] = true
			continue
		}
		add(name)
	}
	if len(r.q.ScopeGlobs) > 0 {
		callCtx, cancel := r.call(ctx)
		loaded, err := r.bus.loadedUnits(callCtx, r.q.ScopeGlobs)
		cancel()
		if err != nil {
			return nil, nil, fmt.Errorf("list loaded units matching %s: %w", strings.Join(r.q.ScopeGlobs, " "), err)
		}
		for _, u := range loaded {
			add(u.Name)
		}
	}
	fileStates := map[string]string{}
	if len(r.q.ScopeGlobs) > 0 {
		// A linked or disabled unit nobody pulls in is not loaded, yet it
		// is on disk and in scope. The listing's cost grows with the
		// files matched, not with the files on disk.
		callCtx, cancel := r.call(ctx)
		files, err := r.bus.unitFiles(callCtx, r.q.ScopeGlobs)
		cancel()
		if err != nil {
			return nil, nil, fmt.Errorf("list unit files matching %s: %w", strings.Join(r.q.ScopeGlobs, " "), err)
		}
		for _, f := range files {
			name := path.Base(f.Path)
			fileStates[name] = f.Type
			add(name)
		}
	}
	sort.Strings(names)
	return names, fileStates, nil
}

// listable picks the names whose install state one ListUnitFilesByPatterns
// call with exact names can give: those the scope listing did not cover,
// without a backslash (fnmatch would read it as an escape; such names are
// asked one by one with GetUnitFileState).
func (r reader) listable(names []string, known map[string]string) map[string]bool {
	exact := map[string]bool{}
	if r.perUnitFileState {
		return exact
	}
	for _, name := range names {
		if _, ok := known[name]; !ok && !strings.ContainsRune(name, '\\') {
			exact[name] = true
		}
	}
	return exact
}

type listing struct {
	states map[string]string
	err    error
}

// listFileStates lists the unit files of exact names; a name without a
// file gets "" (systemd does not know it, or only a dangling link does).
func (r reader) listFileStates(ctx context.Context, exact map[string]bool) listing {
	states := map[string]string{}
	if len(exact) == 0 {
		return listing{states: states}
	}
	patterns := make([]string, 0, len(exact))
	for name := range exact {
		patterns = append(patterns, name)
	}
	sort.Strings(patterns)
	callCtx, cancel := r.call(ctx)
	files, err := r.bus.unitFiles(callCtx, patterns)
	cancel()
	if err != nil {
		return listing{err: fmt.Errorf("list unit files of %d units: %w", len(patterns), err)}
	}
	for _, f := range files {
		states[path.Base(f.Path)] = f.Type
	}
	return listing{states: states}
}

// readUnits reads names with Workers goroutines on the one connection.
// The first fatal error (bus lost) cancels the rest and is returned alone.
func (r reader) readUnits(ctx context.Context, names []string, covered func(string) bool) ([]Unit, []ReadError, error) {
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
				u, err := r.readUnit(ctx, names[i], covered(names[i]))
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

// readUnit reads one unit's properties, its install state fresh from disk
// unless a listing covers it, and, for a loaded timer, its trigger settings.
func (r reader) readUnit(ctx context.Context, name string, stateListed bool) (Unit, error) {
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

	if !stateListed {
		callCtx, cancel = r.call(ctx)
		u.UnitFileState, err = r.bus.unitFileState(callCtx, name)
		cancel()
		if err != nil {
			return Unit{}, fmt.Errorf("get unit file state of %s: %w", name, err)
		}
	}

	if strings.HasSuffix(name, ".timer") && u.LoadState == "loaded" {
		callCtx, cancel = r.call(ctx)
		tprops, err := r.bus.timerProperties(callCtx, name)
		cancel()
		if err != nil {
			return Unit{}, fmt.Errorf("get timer properties of %s: %w", name, err)
		}
		u.Timer = timerFromProperties(tprops)
	}
	if err := u.checkStrings(); err != nil {
		return Unit{}, &badPropertyError{unit: name, err: err}
	}
	return u, nil
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
	for _, c := range []byte(name) {
		if !isUnitNameByte(c) {
			return fmt.Errorf("unit name contains %q", c)
		}
	}
	return nil
}

func isUnitNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte(":-_.\\@", c) >= 0
}
