// Package agent is the in-qube half of the GUI bridge: it watches the
// qube's X server (Composite, Damage, MIT-SHM, XTest via xgb), keeps every
// top-level window's pixels in the shared region, injects the daemon's
// input and serves the clipboard, and speaks the GUI protocol as the agent.
package agent

import (
	"fmt"
	"io"
	"log"
	"net"
	"strings"
	"sync"

	"github.com/jezek/xgb"
	"golang.org/x/sys/unix"
)

func init() {
	// xgb logs "Could not get authority info" for every local connection
	// that needs none; our errors are returned, not logged.
	xgb.Logger = log.New(io.Discard, "", 0)
}

// fdConn is an X connection that can pass a file descriptor along with the
// next request bytes, which xgb cannot do; MIT-SHM AttachFd needs it.
type fdConn struct {
	*net.UnixConn
	mu      sync.Mutex
	pending int // fd to send with the next write, or -1
}

func (c *fdConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	fd := c.pending
	c.pending = -1
	c.mu.Unlock()
	if fd < 0 {
		return c.UnixConn.Write(b)
	}
	n, _, err := c.UnixConn.WriteMsgUnix(b, unix.UnixRights(fd), nil)
	if err == nil && n < len(b) {
		var m int
		m, err = c.UnixConn.Write(b[n:])
		n += m
	}
	return n, err
}

// sendFd arranges for fd to travel with the next request written.
func (c *fdConn) sendFd(fd int) {
	c.mu.Lock()
	c.pending = fd
	c.mu.Unlock()
}

// dialX connects to a local display (":N" or ":N.S") over its Unix socket
// so that fds can be passed; other display names, or a server that refuses
// the unauthenticated local connection, use xgb's own dialing without fd
// passing.
func dialX(display string) (*xgb.Conn, *fdConn, error) {
	if strings.HasPrefix(display, ":") {
		num := strings.TrimPrefix(display, ":")
		if i := strings.IndexByte(num, '.'); i >= 0 {
			num = num[:i]
		}
		uc, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: "/tmp/.X11-unix/X" + num, Net: "unix"})
		if err == nil {
			fc := &fdConn{UnixConn: uc, pending: -1}
			if c, err := xgb.NewConnNet(fc); err == nil {
				return c, fc, nil
			}
			uc.Close()
		}
	}
	c, err := xgb.NewConnDisplay(display)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to X display %q: %w", display, err)
	}
	return c, nil, nil
}
