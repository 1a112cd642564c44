package drift

import (
	"context"
	"errors"
	"os"

	"github.com/driftcheck/driftcheck/internal/live"
)

// hostRead reads the host over D-Bus while the repository is read: the two
// sides are independent until the comparison, and systemd computes the
// install states (the bulk of the read) in its own process, so a check
// takes about the longer of the two instead of their sum. It connects at
// once, reads what the revision's units ask for as soon as they are known
// (start), and reads the units only earlier revisions name once the stale
// search has found them (finish).
//
// A failure on either side fails the check: a host that cannot be read
// cancels the repository side through fail, and a repository side that
// fails cancels the read through the context both share.
type hostRead struct {
	addr  string
	query chan live.Query // the first read's query; buffered, sent once
	done  chan struct{}   // closed when the connect and the first read are over
	first live.Query      // the first read's query, set by run before done is closed

	// Set by run before done is closed.
	conn *live.Conn
	snap *live.Snapshot
	err  error
}

// startHostRead connects to the bus at busAddress ("" =
// DBUS_SYSTEM_BUS_ADDRESS, else the default system bus) in the background.
// fail is called when the host cannot be read.
func startHostRead(ctx context.Context, busAddress string, fail context.CancelFunc) *hostRead {
	h := &hostRead{
		addr:  live.BusAddress(busAddress, os.Getenv),
		query: make(chan live.Query, 1),
		done:  make(chan struct{}),
	}
	go h.run(ctx, fail)
	return h
}

func (h *hostRead) run(ctx context.Context, fail context.CancelFunc) {
	defer close(h.done)
	h.conn, h.err = dialHost(ctx, h.addr)
	if h.err == nil {
		select {
		case h.first = <-h.query:
			h.snap, h.err = h.read(ctx, h.first)
		case <-ctx.Done():
			h.err = ctx.Err()
		}
	}
	if h.err != nil {
		fail()
	}
}

func (h *hostRead) read(ctx context.Context, q live.Query) (*live.Snapshot, error) {
	return readHostUnits(ctx, h.conn, h.addr, q)
}

// start begins the read of q once connected. Call it at most once.
func (h *hostRead) start(q live.Query) { h.query <- q }

// finish waits for the read start began and reads those of names it did
// not cover (units only earlier revisions declared), into one snapshot.
func (h *hostRead) finish(ctx context.Context, names []string) (*live.Snapshot, error) {
	<-h.done
	if h.err != nil {
		return nil, h.err
	}
	if more := h.snap.Unread(names); len(more) > 0 {
		later, err := h.read(ctx, live.Query{Names: more, ForComparison: h.first.ForComparison})
		if err != nil {
			return nil, err
		}
		h.snap.Add(later)
	}
	return h.snap, nil
}

// cause is the error a check reports when the repository side failed with
// err: the host's own failure if it had one (the repository side then
// most likely stopped because that failure cancelled it), else err. It
// waits for the host side to stop; the caller has cancelled its context.
func (h *hostRead) cause(err error) error {
	<-h.done
	if h.err != nil && !errors.Is(h.err, context.Canceled) {
		return h.err
	}
	return err
}

// close waits for the host side to stop and closes the connection. The
// caller cancels the context first, or the read would run to its end.
func (h *hostRead) close() {
	<-h.done
	if h.conn != nil {
		h.conn.Close()
	}
}
