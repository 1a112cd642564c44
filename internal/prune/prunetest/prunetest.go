// Package prunetest holds test helpers shared by the prune package, its
// Docker engine and the prune command: things that must not reach the
// shipped binary's production types.
package prunetest

import (
	"net"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// CountingSocket listens on a unix socket in a temporary directory, accepts
// and immediately closes every connection, and counts them. Tests use it as
// a Docker host (the returned unix:// URL) to prove that a blocked prune
// contacts no daemon: a count of zero means nothing even dialled.
func CountingSocket(t testing.TB) (url string, conns *atomic.Int64) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "docker.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	conns = new(atomic.Int64)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			c.Close()
		}
	}()
	return "unix://" + path, conns
}
