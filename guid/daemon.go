package guid

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"sync"
	"time"

	"github.com/qube-desktop/qube-desktop/compositor/wayland"
	"github.com/qube-desktop/qube-desktop/internal/guiproto"
	"github.com/qube-desktop/qube-desktop/internal/transport"
)

// Options configure a running daemon.
type Options struct {
	Config
	Style   DisplayOptions
	Socket  string            // the agent's unix socket
	Region  *transport.Region // the qube's shared region
	Display string            // Wayland display, "" for $WAYLAND_DISPLAY
	Log     *log.Logger

	// handled, if set, runs on the Wayland goroutine after each message
	// (benchmarks measure latency with it).
	handled func(guiproto.Type)
	// handshakeTimeout replaces HandshakeTimeout (tests shorten it).
	handshakeTimeout time.Duration
}

// HandshakeTimeout bounds the handshake once the agent's socket accepted
// the connection: an agent that connects and stays silent is dropped and
// dialled again, and the daemon stays responsive to SIGTERM meanwhile.
// (Waiting for the agent to appear at all is not bounded: qube-guid
// retries the socket until the qube starts.)
const HandshakeTimeout = 10 * time.Second

// maxOutbox bounds what waits for an agent that does not read: input and
// acks never make the daemon block on the agent, nor grow without limit.
const maxOutbox = 16 << 20

// Run shows the qube's windows until ctx ends or the compositor goes away.
// Agent sessions come and go: after a disconnect or a fatal protocol
// violation the daemon destroys the qube's windows and waits for the agent
// to connect again, as the reference daemon re-executes itself.
func Run(ctx context.Context, o Options) error {
	if o.Log == nil {
		o.Log = log.Default()
	}
	c, err := wayland.Connect(o.Display)
	if err != nil {
		return err
	}
	defer c.Close()
	d, err := NewWaylandDisplay(c, int(o.Region.File().Fd()), o.Region.Size(), o.Style)
	if err != nil {
		return err
	}
	ow, oh := d.OutputSize()
	xc := guiproto.NewXConf(uint32(ow), uint32(oh), 24)

	sctx, cancel := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- serve(sctx, o, d, xc) }()
	err = c.Run(sctx)
	close(d.stopped)
	cancel()
	c.Close()
	if serr := <-served; serr != nil && !errors.Is(serr, context.Canceled) {
		return serr
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("compositor connection ended: %w", err)
}

// serve connects to the agent again and again.
func serve(ctx context.Context, o Options, d *WaylandDisplay, xc guiproto.XConf) error {
	for {
		conn, err := transport.Dial(ctx, o.Socket)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		pause := 100 * time.Millisecond
		v, err := handshake(ctx, conn, xc, o.handshakeTimeout)
		if err != nil {
			conn.Close()
			if ctx.Err() != nil {
				return ctx.Err()
			}
			o.Log.Printf("handshake with the agent failed: %v", err)
			pause = 2 * time.Second // an incompatible agent retries slowly
		} else {
			o.Log.Printf("agent connected, protocol %s", v)
			reason := session(ctx, o, d, conn, v)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			o.Log.Printf("session ended: %v; windows destroyed, waiting for the agent to reconnect", reason)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
	}
}

// handshake runs the daemon side of the handshake within timeout
// (HandshakeTimeout if 0); ctx ending closes conn.
func handshake(ctx context.Context, conn net.Conn, xc guiproto.XConf, timeout time.Duration) (guiproto.Version, error) {
	if timeout <= 0 {
		timeout = HandshakeTimeout
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		return 0, err
	}
	v, err := guiproto.DaemonHandshake(conn, guiproto.ProtocolVersion, xc)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return 0, fmt.Errorf("the agent sent no handshake within %v", timeout)
	}
	if err != nil {
		return 0, err
	}
	return v, conn.SetDeadline(time.Time{})
}

// session runs one agent connection: messages are read here and handled
// on the Wayland goroutine. It returns why the session ended.
func session(ctx context.Context, o Options, d *WaylandDisplay, conn net.Conn, v guiproto.Version) error {
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	out := newOutbox(conn)
	defer out.close()
	defer conn.Close() // first: unblocks a write to an agent that stopped reading
	var (
		mu    sync.Mutex
		fatal error
	)
	setFatal := func(err error) {
		mu.Lock()
		if fatal == nil {
			fatal = err
		}
		mu.Unlock()
		conn.Close()
	}
	var s *Session
	if !call(d, func() {
		s = NewSession(o.Config, v, uint64(o.Region.Size()), d, out.send, o.Log)
		out.onOverflow = func() { setFatal(errors.New("the agent stopped reading its messages")) }
		d.SetHandler(s)
	}) {
		return errors.New("compositor connection closed")
	}
	// One read per burst of messages instead of two per message; the
	// decoder bounds every body by its type, not by what is buffered.
	in := bufio.NewReaderSize(conn, 64<<10)
	var readErr error
	for {
		u, h, err := guiproto.ReadUntrusted(in, v)
		if err != nil {
			readErr = err
			break
		}
		if !d.c.Post(func() {
			if err := s.Handle(u, h); err != nil {
				setFatal(err)
			}
			if o.handled != nil {
				o.handled(h.Type)
			}
		}) {
			readErr = errors.New("compositor connection closed")
			break
		}
	}
	call(d, s.End)
	mu.Lock()
	defer mu.Unlock()
	switch {
	case fatal != nil:
		return fatal
	case errors.Is(readErr, io.EOF):
		return errors.New("the agent disconnected")
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return readErr
}

// call runs f on the Wayland goroutine and waits for it.
func call(d *WaylandDisplay, f func()) bool {
	done := make(chan struct{})
	if !d.c.Post(func() { f(); close(done) }) {
		return false
	}
	select {
	case <-done:
		return true
	case <-d.stopped:
		return false
	}
}

// outbox writes to the agent from its own goroutine, so the daemon never
// blocks on a slow or hostile agent.
type outbox struct {
	mu         sync.Mutex
	q          [][]byte
	size       int
	wake       chan struct{}
	done       chan struct{}
	w          io.Writer
	closed     bool
	onOverflow func()
}

func newOutbox(w io.Writer) *outbox {
	o := &outbox{w: w, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go o.loop()
	return o
}

func (o *outbox) send(window uint32, m guiproto.Message) {
	var b bytes.Buffer
	if err := guiproto.WriteMessage(&b, window, m); err != nil {
		return // the daemon builds only encodable messages
	}
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return
	}
	if o.size+b.Len() > maxOutbox {
		o.closed = true
		o.mu.Unlock()
		if o.onOverflow != nil {
			o.onOverflow()
		}
		return
	}
	o.q = append(o.q, b.Bytes())
	o.size += b.Len()
	o.mu.Unlock()
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

func (o *outbox) loop() {
	defer close(o.done)
	for range o.wake {
		o.mu.Lock()
		q := o.q
		o.q, o.size = nil, 0
		closed := o.closed
		o.mu.Unlock()
		for _, b := range q {
			if _, err := o.w.Write(b); err != nil {
				return // the reader sees the broken connection
			}
		}
		if closed {
			return
		}
	}
}

func (o *outbox) close() {
	o.mu.Lock()
	o.closed = true
	o.mu.Unlock()
	select {
	case o.wake <- struct{}{}:
	default:
	}
	<-o.done
}
