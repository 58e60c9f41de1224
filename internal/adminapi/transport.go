package adminapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// Transport opens one connection per request: it sends the request, closes
// its sending side and returns the answer stream. Closing the stream ends
// the connection (and stops an event stream).
type Transport interface {
	Open(ctx context.Context, req Request) (io.ReadCloser, error)
}

// DefaultSocket is qubesd's Admin API socket in dom0.
const DefaultSocket = "/var/run/qubesd.sock"

// SocketEnv names the environment variable that overrides DefaultSocket.
const SocketEnv = "QUBESD_SOCKET"

// UnixTransport talks to qubesd (or qube-hostd) over its Unix socket, as
// dom0 tools do. The request carries the caller's Source token as is.
type UnixTransport struct {
	Path string
}

// Open implements Transport. The context bounds the whole exchange: when it
// ends, the connection is closed and reads fail.
func (t UnixTransport) Open(ctx context.Context, req Request) (io.ReadCloser, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", t.Path)
	if err != nil {
		return nil, fmt.Errorf("connect to qubesd at %s: %w (is qubesd or qube-hostd running, and are you in group qubes?)", t.Path, err)
	}
	uc := c.(*net.UnixConn)
	stop := context.AfterFunc(ctx, func() { uc.SetDeadline(time.Unix(1, 0)) })
	if _, err := uc.Write(req.Bytes()); err != nil {
		stop()
		uc.Close()
		return nil, fmt.Errorf("send %s to %s: %w", req.Call(), t.Path, err)
	}
	if err := uc.CloseWrite(); err != nil {
		stop()
		uc.Close()
		return nil, fmt.Errorf("send %s to %s: %w", req.Call(), t.Path, err)
	}
	return &ctxConn{Conn: uc, ctx: ctx, stop: stop}, nil
}

// ctxConn reports the context's error instead of a deadline error once the
// context has ended.
type ctxConn struct {
	net.Conn
	ctx  context.Context
	stop func() bool
}

func (c *ctxConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err != nil && c.ctx.Err() != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		err = c.ctx.Err()
	}
	return n, err
}

func (c *ctxConn) Close() error {
	c.stop()
	return c.Conn.Close()
}

// QrexecTransport calls the Admin API from inside a qube (a GUI qube) with
// qrexec-client-vm; dom0's qrexec policy decides, and qrexec fills in the
// source. The destination dom0 is addressed as @adminvm.
type QrexecTransport struct {
	Command string // "qrexec-client-vm" when empty
}

// Open implements Transport.
func (t QrexecTransport) Open(ctx context.Context, req Request) (io.ReadCloser, error) {
	name := t.Command
	if name == "" {
		name = "qrexec-client-vm"
	}
	target := req.Dest
	if req.DestType == "keyword" || target == "dom0" {
		target = "@adminvm"
	}
	cmd := exec.CommandContext(ctx, name, target, req.Method+"+"+req.Arg)
	cmd.Stdin = bytes.NewReader(req.Payload)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s for %s: %w", name, req.Call(), err)
	}
	return &procStream{ReadCloser: out, cmd: cmd}, nil
}

// noAnswerHint: through qrexec an empty answer is most often a refusal.
func (QrexecTransport) noAnswerHint() string {
	return "the dom0 qrexec policy may have refused the call, or qubesd failed; see 'journalctl -u qubesd -e' in dom0"
}

// procStream ends the qrexec-client-vm process on Close.
type procStream struct {
	io.ReadCloser
	cmd *exec.Cmd
}

func (p *procStream) Close() error {
	p.ReadCloser.Close()
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
	return nil
}

// TransportFromEnv picks the transport: socketFlag, else $QUBESD_SOCKET,
// else qubesd's DefaultSocket where it exists (Qubes, or a system
// qube-hostd). Without it, inside a qube (qrexec-client-vm on PATH, no
// /etc/qubes-release) qrexec, as qubesadmin does; on any other host the
// user's qube-hostd socket, $XDG_RUNTIME_DIR/qubes/qubesd.sock, which
// clients started with the session may have to wait for.
func TransportFromEnv(socketFlag string) Transport {
	if socketFlag != "" {
		return UnixTransport{Path: socketFlag}
	}
	if p := os.Getenv(SocketEnv); p != "" {
		return UnixTransport{Path: p}
	}
	if _, err := os.Stat(DefaultSocket); err == nil {
		return UnixTransport{Path: DefaultSocket}
	}
	if _, err := os.Stat("/etc/qubes-release"); err != nil {
		if p, err := exec.LookPath("qrexec-client-vm"); err == nil {
			return QrexecTransport{Command: p}
		}
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return UnixTransport{Path: filepath.Join(d, "qubes", "qubesd.sock")}
	}
	return UnixTransport{Path: DefaultSocket}
}
