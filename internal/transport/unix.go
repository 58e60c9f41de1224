package transport

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"syscall"
	"time"
)

// Listener is the agent's end of the unix transport: the agent is the
// server, as in Qubes' vchan, and accepts one daemon at a time.
type Listener struct {
	l    *net.UnixListener
	path string
}

// Listen creates the socket at path (mode 0600), replacing a stale socket
// left by a previous agent but never any other kind of file.
func Listen(path string) (*Listener, error) {
	if st, err := os.Lstat(path); err == nil {
		if st.Mode().Type() != fs.ModeSocket {
			return nil, fmt.Errorf("listen on %s: a non-socket file is in the way", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("remove stale socket: %w", err)
		}
	}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	l.SetUnlinkOnClose(true)
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("restrict socket %s: %w", path, err)
	}
	return &Listener{l: l, path: path}, nil
}

// Accept waits for the daemon to connect, or for ctx to end.
func (l *Listener) Accept(ctx context.Context) (net.Conn, error) {
	stop := context.AfterFunc(ctx, func() { l.l.SetDeadline(time.Now()) })
	defer stop()
	c, err := l.l.Accept()
	if err != nil {
		if ctx.Err() != nil {
			l.l.SetDeadline(time.Time{})
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("accept on %s: %w", l.path, err)
	}
	return c, nil
}

// Close stops listening and removes the socket file.
func (l *Listener) Close() error { return l.l.Close() }

// Dial connects the daemon to the agent's socket, retrying while the socket
// does not exist yet or nobody listens on it, until ctx ends.
func Dial(ctx context.Context, path string) (net.Conn, error) {
	var d net.Dialer
	for {
		c, err := d.DialContext(ctx, "unix", path)
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("connect to agent at %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("agent socket %s did not appear: %w (last error: %v)", path, ctx.Err(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
