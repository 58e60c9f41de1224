// Package wayland is a small pure-Go Wayland client: typed bindings
// generated from the protocol XML (protocols_gen.go), a connection with its
// object table, globals with version negotiation, and an event loop.
//
// A Client is not safe for concurrent use: create objects, send requests and
// run the loop (Run, Dispatch, Roundtrip) on one goroutine. Other goroutines
// hand work to that goroutine with Post. Event handlers are the On* fields of
// each proxy and run on the loop goroutine.
package wayland

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/qube-desktop/qube-desktop/compositor/wire"
)

//go:generate go run ../internal/wlgen -o protocols_gen.go

// Object is a generated protocol proxy such as *WlSurface.
type Object interface {
	ID() wire.ObjectID
	Version() uint32
	Interface() string
	MaxVersion() uint32
	base() *proxy
	dispatch(opcode uint16, d *wire.Decoder) error
}

// proxy is the state every generated proxy embeds.
type proxy struct {
	c         *Client
	id        wire.ObjectID
	version   uint32
	destroyed bool // a destructor was sent; events are decoded and dropped
}

// ID returns the object id, 0 before the object is created.
func (p *proxy) ID() wire.ObjectID { return p.id }

// Version returns the version the object was created with.
func (p *proxy) Version() uint32 { return p.version }

func (p *proxy) base() *proxy { return p }

// start begins a request after checking the object can take it.
func (p *proxy) start(opcode uint16, since uint32, name string) (*wire.Builder, error) {
	switch {
	case p.c == nil:
		return nil, fmt.Errorf("%s: object was never created", name)
	case p.c.err != nil:
		return nil, p.c.err
	case p.destroyed:
		return nil, fmt.Errorf("%s: object %d is already destroyed", name, p.id)
	case p.version < since:
		return nil, fmt.Errorf("%s needs version %d, object %d has version %d", name, since, p.id, p.version)
	}
	p.c.out.Start(p.id, opcode)
	return &p.c.out, nil
}

// send writes the request started by start.
func (p *proxy) send(b *wire.Builder, destructor bool) error {
	msg, fds, err := b.Finish()
	if err != nil {
		return err
	}
	if err := p.c.conn.WriteMessage(msg, fds); err != nil {
		return p.c.writeFailed(err)
	}
	if destructor {
		p.destroyed = true
	}
	return nil
}

// Global is a global object the compositor announced.
type Global struct {
	Name      uint32
	Interface string
	Version   uint32
}

// ProtocolError is the fatal wl_display.error event.
type ProtocolError struct {
	ObjectID  wire.ObjectID
	Interface string // "" if the object is unknown to us
	Code      uint32
	Message   string
}

func (e *ProtocolError) Error() string {
	return fmt.Sprintf("Wayland protocol error on %s@%d, code %d: %s", e.Interface, e.ObjectID, e.Code, e.Message)
}

// ErrClosed is returned once Close was called.
var ErrClosed = errors.New("wayland: client closed")

const maxClientID = 0xfeffffff // ids above belong to the compositor

type readResult struct {
	m   wire.Message
	err error
}

// Client is one connection to a compositor.
type Client struct {
	conn    *wire.Conn
	objects map[wire.ObjectID]Object
	free    []wire.ObjectID
	next    wire.ObjectID
	fds     wire.FDQueue
	out     wire.Builder
	err     error // first fatal error; the connection is unusable after it

	display  *WlDisplay
	registry *WlRegistry
	globals  map[uint32]Global

	in        chan readResult
	posted    chan func()
	done      chan struct{}
	closeOnce sync.Once

	// OnGlobal and OnGlobalRemove, if set, are called for globals announced
	// or withdrawn after Connect returned.
	OnGlobal       func(Global)
	OnGlobalRemove func(Global)
}

// SocketPath resolves a display name as libwayland does: "" means
// $WAYLAND_DISPLAY (default "wayland-0"); a relative name lives in
// $XDG_RUNTIME_DIR.
func SocketPath(name string) (string, error) {
	if name == "" {
		name = os.Getenv("WAYLAND_DISPLAY")
	}
	if name == "" {
		name = "wayland-0"
	}
	if filepath.IsAbs(name) {
		return name, nil
	}
	dir := os.Getenv("XDG_RUNTIME_DIR")
	if dir == "" {
		return "", fmt.Errorf("wayland: XDG_RUNTIME_DIR is not set, cannot find display %q", name)
	}
	return filepath.Join(dir, name), nil
}

// Connect connects to the display (see SocketPath) and performs a
// roundtrip, so Globals is filled when it returns.
func Connect(display string) (*Client, error) {
	path, err := SocketPath(display)
	if err != nil {
		return nil, err
	}
	conn, err := wire.Dial(path)
	if err != nil {
		return nil, err
	}
	c := newClient(conn)
	go c.readLoop()
	if err := c.init(); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func newClient(conn *wire.Conn) *Client {
	c := &Client{
		conn:    conn,
		objects: map[wire.ObjectID]Object{},
		next:    1,
		globals: map[uint32]Global{},
		in:      make(chan readResult, 64),
		posted:  make(chan func(), 256),
		done:    make(chan struct{}),
	}
	c.display = new(WlDisplay)
	if err := c.register(c.display, 1); err != nil {
		panic(err) // id 1 in an empty table cannot fail
	}
	c.display.OnError = func(ev WlDisplayErrorEvent) {
		e := &ProtocolError{ObjectID: ev.ObjectId, Code: ev.Code, Message: ev.Message}
		if o := c.objects[ev.ObjectId]; o != nil {
			e.Interface = o.Interface()
		}
		c.fail(e)
	}
	c.display.OnDeleteId = func(ev WlDisplayDeleteIdEvent) { c.deleteID(wire.ObjectID(ev.Id)) }
	return c
}

func (c *Client) init() error {
	if err := c.setupRegistry(); err != nil {
		return err
	}
	return c.Roundtrip()
}

// setupRegistry asks for the registry and records globals as they come.
func (c *Client) setupRegistry() error {
	reg, err := c.display.GetRegistry()
	if err != nil {
		return err
	}
	c.registry = reg
	reg.OnGlobal = func(ev WlRegistryGlobalEvent) {
		g := Global(ev)
		c.globals[g.Name] = g
		if c.OnGlobal != nil {
			c.OnGlobal(g)
		}
	}
	reg.OnGlobalRemove = func(ev WlRegistryGlobalRemoveEvent) {
		g, ok := c.globals[ev.Name]
		delete(c.globals, ev.Name)
		if ok && c.OnGlobalRemove != nil {
			c.OnGlobalRemove(g)
		}
	}
	return nil
}

// readLoop moves messages from the socket to the loop goroutine.
func (c *Client) readLoop() {
	for {
		m, err := c.conn.ReadMessage()
		select {
		case c.in <- readResult{m, err}:
		case <-c.done:
			return
		}
		if err != nil {
			return
		}
	}
}

// Close disconnects; it is safe from any goroutine. The loop then returns
// ErrClosed and objects become unusable.
func (c *Client) Close() error {
	var err error
	c.closeOnce.Do(func() {
		close(c.done)
		err = c.conn.Close()
	})
	return err
}

// closed records that Close was called, on the loop goroutine.
func (c *Client) closed() error {
	c.fail(ErrClosed)
	c.fds.Close()
	return ErrClosed
}

// Err returns the error that ended the connection, or nil.
func (c *Client) Err() error { return c.err }

func (c *Client) fail(err error) {
	if c.err == nil {
		c.err = err
	}
}

// Display returns the wl_display object.
func (c *Client) Display() *WlDisplay { return c.display }

// Globals returns the announced globals ordered by name.
func (c *Client) Globals() []Global {
	gs := make([]Global, 0, len(c.globals))
	for _, g := range c.globals {
		gs = append(gs, g)
	}
	sort.Slice(gs, func(i, j int) bool { return gs[i].Name < gs[j].Name })
	return gs
}

// Bind binds the first announced global of obj's interface, for example
// c.Bind(new(WlCompositor), 4). The version is the lowest of version, the
// compositor's and the bindings' own.
func (c *Client) Bind(obj Object, version uint32) error {
	for _, g := range c.Globals() {
		if g.Interface == obj.Interface() {
			return c.BindGlobal(g, obj, version)
		}
	}
	return fmt.Errorf("compositor does not offer %s", obj.Interface())
}

// BindGlobal binds a given global (one of several wl_output, say).
func (c *Client) BindGlobal(g Global, obj Object, version uint32) error {
	if g.Interface != obj.Interface() {
		return fmt.Errorf("global %d is %s, not %s", g.Name, g.Interface, obj.Interface())
	}
	v := min(version, g.Version, obj.MaxVersion())
	if v == 0 {
		return fmt.Errorf("%s: version 0 cannot be bound", g.Interface)
	}
	return c.registry.Bind(g.Name, obj, v)
}

// register gives obj a fresh id in this client.
func (c *Client) register(obj Object, version uint32) error {
	p := obj.base()
	if p.c != nil {
		return fmt.Errorf("%s object is already in use as id %d", obj.Interface(), p.id)
	}
	var id wire.ObjectID
	if n := len(c.free); n > 0 {
		id, c.free = c.free[n-1], c.free[:n-1]
	} else {
		if c.next > maxClientID {
			return fmt.Errorf("wayland: out of object ids")
		}
		id = c.next
		c.next++
	}
	p.c, p.id, p.version = c, id, version
	c.objects[id] = obj
	return nil
}

// deleteID handles wl_display.delete_id: the compositor forgot the id.
func (c *Client) deleteID(id wire.ObjectID) {
	o := c.objects[id]
	if o == nil || id == 1 {
		return
	}
	o.base().destroyed = true
	delete(c.objects, id)
	c.free = append(c.free, id)
}

// lookup returns the live object with id, or nil.
func (c *Client) lookup(id wire.ObjectID) Object {
	if id == 0 {
		return nil
	}
	return c.objects[id]
}

// handle dispatches one message from the compositor.
func (c *Client) handle(m wire.Message) error {
	if err := c.fds.Push(m.FDs...); err != nil {
		return err
	}
	o := c.objects[m.Sender]
	if o == nil {
		return fmt.Errorf("wayland: event for unknown object %d", m.Sender)
	}
	return o.dispatch(m.Opcode, wire.NewDecoder(m.Body, &c.fds))
}

// process handles one read result; any error is fatal.
func (c *Client) process(r readResult) error {
	if c.err != nil {
		return c.err
	}
	if r.err != nil {
		c.fail(fmt.Errorf("wayland: connection to the compositor lost: %w", r.err))
		return c.err
	}
	if err := c.handle(r.m); err != nil {
		c.fail(fmt.Errorf("wayland: malformed event from the compositor: %w", err))
	}
	return c.err
}

// writeFailed ends the connection after a failed write. A compositor
// closes the socket right after a protocol error, so the events still
// queued are handled first: the wl_display.error among them is the
// error worth reporting.
func (c *Client) writeFailed(err error) error {
	timeout := time.NewTimer(time.Second)
	defer timeout.Stop()
	for c.err == nil {
		select {
		case r := <-c.in:
			if r.err != nil || c.handle(r.m) != nil {
				c.fail(err)
			}
		case <-timeout.C:
			c.fail(err)
		case <-c.done:
			c.fail(err)
		}
	}
	return c.err
}

// Dispatch waits for one event message or posted function and handles it.
func (c *Client) Dispatch(ctx context.Context) error {
	if c.err != nil {
		return c.err
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-c.done:
		return c.closed()
	case r := <-c.in:
		return c.process(r)
	case f := <-c.posted:
		f()
		return c.err
	}
}

// Run dispatches until ctx ends or the connection fails.
func (c *Client) Run(ctx context.Context) error {
	for {
		if err := c.Dispatch(ctx); err != nil {
			return err
		}
	}
}

// Post queues f to run on the loop goroutine; it is safe from any
// goroutine. It returns false if the client is closed.
func (c *Client) Post(f func()) bool {
	select {
	case <-c.done:
		return false
	default:
	}
	select {
	case c.posted <- f:
		return true
	case <-c.done:
		return false
	}
}

// Roundtrip sends wl_display.sync and handles events until its reply, so
// every request sent before has been processed by the compositor. Posted
// functions wait until the loop runs again.
func (c *Client) Roundtrip() error {
	cb, err := c.display.Sync()
	if err != nil {
		return err
	}
	done := false
	cb.OnDone = func(WlCallbackDoneEvent) { done = true }
	for !done {
		select {
		case <-c.done:
			return c.closed()
		case r := <-c.in:
			if err := c.process(r); err != nil {
				return err
			}
		}
	}
	return nil
}

func closeFile(f *os.File) {
	if f != nil {
		f.Close()
	}
}
