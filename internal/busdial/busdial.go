// Package busdial opens a private connection to a D-Bus bus by address:
// dial, authenticate as the current uid, say Hello. The reader, the systemd
// sandbox and the benchmarks all connect this way (go-systemd's own
// constructors read the process environment or assume the system bus).
package busdial

import (
	"fmt"
	"os"
	"strconv"

	"github.com/godbus/dbus/v5"
)

// Dial connects to addr, authenticates with EXTERNAL as the current uid
// and registers on the bus with Hello. opts go to dbus.Dial; note that
// dbus.WithContext ties the connection's whole lifetime to that context.
func Dial(addr string, opts ...dbus.ConnOption) (*dbus.Conn, error) {
	conn, err := dbus.Dial(addr, opts...)
	if err != nil {
		return nil, err
	}
	if err := conn.Auth([]dbus.Auth{dbus.AuthExternal(strconv.Itoa(os.Getuid()))}); err != nil {
		conn.Close()
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	if err := conn.Hello(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("hello: %w", err)
	}
	return conn, nil
}
