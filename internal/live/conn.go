package live

import (
	"context"
	"errors"
	"fmt"
	"sync"

	sddbus "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"

	"github.com/driftcheck/driftcheck/internal/busdial"
)

// DefaultSystemBus is the system bus when neither --bus-address nor
// DBUS_SYSTEM_BUS_ADDRESS names one.
const DefaultSystemBus = "unix:path=/var/run/dbus/system_bus_socket"

// BusAddress picks the bus to read from: the explicit address (the
// --bus-address flag), else DBUS_SYSTEM_BUS_ADDRESS as getenv reports it,
// else the default system bus.
func BusAddress(explicit string, getenv func(string) string) string {
	if explicit != "" {
		return explicit
	}
	if env := getenv("DBUS_SYSTEM_BUS_ADDRESS"); env != "" {
		return env
	}
	return DefaultSystemBus
}

// Conn is a connection to systemd's manager over a D-Bus bus. It exposes
// only the read calls the reader needs: nothing reachable through a Conn
// can start, stop, reload, enable or mask anything.
type Conn struct {
	sd *sddbus.Conn
	// raw is one of the two bus connections go-systemd opened, used for
	// the read-only manager calls go-systemd does not wrap with a context
	// (GetUnitFileState, the Version property).
	raw *dbus.Conn
}

// Connect dials addr, authenticates as the current uid (EXTERNAL) and says
// Hello. The address is the seam tests use to point a reader or a command
// at a sandbox: nothing reads the process environment here.
//
// ctx bounds only the connecting. godbus ties a connection's lifetime to the
// context it was dialed with, so the dial itself gets none, and a connect
// that outlives ctx is abandoned and closed when it completes.
func Connect(ctx context.Context, addr string) (*Conn, error) {
	type result struct {
		conn *Conn
		err  error
	}
	done := make(chan result, 1)
	go func() {
		conn, err := dialManager(addr)
		done <- result{conn, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return nil, fmt.Errorf("connect to bus %s: %w", addr, r.err)
		}
		return r.conn, nil
	case <-ctx.Done():
		go func() {
			if r := <-done; r.conn != nil {
				r.conn.Close()
			}
		}()
		return nil, fmt.Errorf("connect to bus %s: %w", addr, ctx.Err())
	}
}

func dialManager(addr string) (*Conn, error) {
	var (
		mu     sync.Mutex
		dialed []*dbus.Conn
	)
	dial := func() (*dbus.Conn, error) {
		conn, err := busdial.Dial(addr)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		dialed = append(dialed, conn)
		mu.Unlock()
		return conn, nil
	}
	sd, err := sddbus.NewConnection(dial)
	if err != nil {
		return nil, err
	}
	mu.Lock()
	defer mu.Unlock()
	if len(dialed) == 0 {
		sd.Close()
		return nil, errors.New("no connection dialed")
	}
	return &Conn{sd: sd, raw: dialed[0]}, nil
}

// Close closes both bus connections.
func (c *Conn) Close() { c.sd.Close() }

const (
	systemdBusName   = "org.freedesktop.systemd1"
	systemdPath      = dbus.ObjectPath("/org/freedesktop/systemd1")
	managerInterface = "org.freedesktop.systemd1.Manager"
)

func (c *Conn) manager() dbus.BusObject { return c.raw.Object(systemdBusName, systemdPath) }

// version reads the manager's Version property, e.g. "252.39-1~deb12u2".
func (c *Conn) version(ctx context.Context) (string, error) {
	var v dbus.Variant
	err := c.manager().CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0, managerInterface, "Version").Store(&v)
	if err != nil {
		return "", err
	}
	s, ok := v.Value().(string)
	if !ok {
		return "", fmt.Errorf("manager property Version is %s, not a string", v.Signature())
	}
	return s, nil
}

// unitFileState asks systemd to compute a unit's install state from disk
// now; the UnitFileState property of a loaded unit is cached until the next
// daemon-reload. A unit without a file yields "".
func (c *Conn) unitFileState(ctx context.Context, name string) (string, error) {
	var state string
	err := c.manager().CallWithContext(ctx, managerInterface+".GetUnitFileState", 0, name).Store(&state)
	var dbusErr dbus.Error
	if errors.As(err, &dbusErr) && dbusErr.Name == "org.freedesktop.DBus.Error.FileNotFound" {
		return "", nil
	}
	return state, err
}

func (c *Conn) unitProperties(ctx context.Context, name string) (map[string]any, error) {
	return c.sd.GetUnitPropertiesContext(ctx, name)
}

func (c *Conn) timerProperties(ctx context.Context, name string) (map[string]any, error) {
	return c.sd.GetUnitTypePropertiesContext(ctx, name, "Timer")
}

func (c *Conn) loadedUnits(ctx context.Context, globs []string) ([]sddbus.UnitStatus, error) {
	return c.sd.ListUnitsByPatternsContext(ctx, nil, globs)
}

func (c *Conn) unitFiles(ctx context.Context, globs []string) ([]sddbus.UnitFile, error) {
	return c.sd.ListUnitFilesByPatternsContext(ctx, nil, globs)
}

func (c *Conn) unitStates(ctx context.Context, names []string) ([]sddbus.UnitStatus, error) {
	return c.sd.ListUnitsByNamesContext(ctx, names)
}

func (c *Conn) unitProperty(ctx context.Context, name, property string) (any, error) {
	p, err := c.sd.GetUnitPropertyContext(ctx, name, property)
	if err != nil {
		return nil, err
	}
	return p.Value.Value(), nil
}
