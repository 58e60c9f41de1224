package wayland

import (
	"context"
	"errors"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/qube-desktop/qube-desktop/compositor/wire"
)

// fakeServer is the compositor end of a socketpair, driven byte by byte.
type fakeServer struct {
	t    testing.TB
	conn *wire.Conn
	uc   *net.UnixConn
}

func newPair(t testing.TB) (*Client, *fakeServer) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ucs [2]*net.UnixConn
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "socketpair")
		c, err := net.FileConn(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		ucs[i] = c.(*net.UnixConn)
	}
	c := newClient(wire.NewConn(ucs[0]))
	go c.readLoop()
	s := &fakeServer{t: t, conn: wire.NewConn(ucs[1]), uc: ucs[1]}
	t.Cleanup(func() { c.Close(); s.conn.Close() })
	return c, s
}

// event sends one event built by fill.
func (s *fakeServer) event(sender wire.ObjectID, opcode uint16, fill func(*wire.Builder)) {
	s.t.Helper()
	var b wire.Builder
	b.Start(sender, opcode)
	if fill != nil {
		fill(&b)
	}
	msg, fds, err := b.Finish()
	if err != nil {
		s.t.Fatal(err)
	}
	if err := s.conn.WriteMessage(msg, fds); err != nil {
		s.t.Fatal(err)
	}
}

// request reads the next request from the client.
func (s *fakeServer) request() wire.Message {
	s.t.Helper()
	m, err := s.conn.ReadMessage()
	if err != nil {
		s.t.Fatal(err)
	}
	return m
}

func dispatchOne(t *testing.T, c *Client) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.Dispatch(ctx)
}

func TestRequestsOnTheWire(t *testing.T) {
	c, s := newPair(t)
	comp := new(WlCompositor)
	if err := c.setupRegistry(); err != nil {
		t.Fatal(err)
	}
	s.request() // get_registry
	c.globals[7] = Global{Name: 7, Interface: "wl_compositor", Version: 6}
	if err := c.Bind(comp, 4); err != nil {
		t.Fatal(err)
	}
	m := s.request()
	d := wire.NewDecoder(m.Body, nil)
	name := d.Uint()
	iface, version, id := d.UntypedNewID()
	if err := d.Finish(); err != nil || m.Sender != c.registry.id || m.Opcode != 0 ||
		name != 7 || iface != "wl_compositor" || version != 4 || id != comp.ID() {
		t.Fatalf("bind on the wire: %+v name %d %q v%d id %d: %v", m.Header, name, iface, version, id, err)
	}
	if comp.Version() != 4 {
		t.Errorf("negotiated version %d, want 4", comp.Version())
	}
	surf, err := comp.CreateSurface()
	if err != nil {
		t.Fatal(err)
	}
	m = s.request()
	if m.Sender != comp.ID() || m.Opcode != 0 || len(m.Body) != 4 || wire.ObjectID(m.Body[0]) != surf.ID() {
		t.Fatalf("create_surface on the wire: %+v %v", m.Header, m.Body)
	}
	// wl_surface.offset is version 5: refused locally, nothing sent.
	if err := surf.Offset(1, 2); err == nil {
		t.Error("version-5 request on a version-4 object was sent")
	}
	if err := surf.Attach(nil, 0, 0); err != nil {
		t.Errorf("attach with null buffer: %v", err)
	}
	s.request()
	if err := surf.Destroy(); err != nil {
		t.Fatal(err)
	}
	s.request()
	if err := surf.Commit(); err == nil {
		t.Error("request on a destroyed object was sent")
	}
	// The id is reused only after the compositor's delete_id.
	s.event(1, 1, func(b *wire.Builder) { b.Uint(uint32(surf.ID())) })
	if err := dispatchOne(t, c); err != nil {
		t.Fatal(err)
	}
	again, err := comp.CreateSurface()
	if err != nil {
		t.Fatal(err)
	}
	if again.ID() != surf.ID() {
		t.Errorf("freed id %d not reused (got %d)", surf.ID(), again.ID())
	}
}

func TestKeymapDescriptor(t *testing.T) {
	c, s := newPair(t)
	kb := new(WlKeyboard)
	if err := c.register(kb, 7); err != nil {
		t.Fatal(err)
	}
	var got keymapEvent
	kb.OnKeymap = func(ev WlKeyboardKeymapEvent) { got = keymapEvent{ev.Format, ev.Fd, ev.Size} }
	f, err := os.CreateTemp(t.TempDir(), "keymap")
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("xkb_keymap {}")
	s.event(kb.ID(), 0, func(b *wire.Builder) {
		b.Uint(uint32(WlKeyboardKeymapFormatXkbV1))
		b.FD(int(f.Fd()))
		b.Uint(13)
	})
	f.Close()
	if err := dispatchOne(t, c); err != nil {
		t.Fatal(err)
	}
	if got.fd == nil || got.format != WlKeyboardKeymapFormatXkbV1 || got.size != 13 {
		t.Fatalf("keymap event %+v", got)
	}
	defer got.fd.Close()
	buf := make([]byte, 13)
	if _, err := got.fd.ReadAt(buf, 0); err != nil || string(buf) != "xkb_keymap {}" {
		t.Fatalf("keymap descriptor reads %q, %v", buf, err)
	}
}

type keymapEvent struct {
	format WlKeyboardKeymapFormat
	fd     *os.File
	size   uint32
}

func TestProtocolErrorIsFatal(t *testing.T) {
	c, s := newPair(t)
	s.event(1, 0, func(b *wire.Builder) { b.Object(1); b.Uint(3); b.String("bad things", false) })
	err := dispatchOne(t, c)
	var pe *ProtocolError
	if !errors.As(err, &pe) || pe.Interface != "wl_display" || pe.Code != 3 || pe.Message != "bad things" {
		t.Fatalf("got %v", err)
	}
	if _, err := c.display.Sync(); err == nil {
		t.Error("requests still sent after a protocol error")
	}
}

func TestMalformedEventsAreErrors(t *testing.T) {
	for name, send := range map[string]func(s *fakeServer){
		"unknown object": func(s *fakeServer) { s.event(99, 0, nil) },
		"unknown opcode": func(s *fakeServer) { s.event(1, 9, nil) },
		"short body":     func(s *fakeServer) { s.event(1, 1, nil) },
		"missing fd": func(s *fakeServer) {
			s.event(2, 0, func(b *wire.Builder) { b.Uint(1); b.Uint(5) })
		},
	} {
		t.Run(name, func(t *testing.T) {
			c, s := newPair(t)
			kb := new(WlKeyboard)
			c.register(kb, 1)
			send(s)
			if err := dispatchOne(t, c); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestPostRunsOnLoop(t *testing.T) {
	c, _ := newPair(t)
	ran := make(chan bool, 1)
	go c.Post(func() { ran <- true })
	if err := dispatchOne(t, c); err != nil {
		t.Fatal(err)
	}
	if !<-ran {
		t.Fatal("posted function did not run")
	}
	c.Close()
	if c.Post(func() {}) {
		t.Error("Post accepted work after Close")
	}
}

func TestSocketPath(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", "/run/user/5")
	t.Setenv("WAYLAND_DISPLAY", "wl-x")
	for in, want := range map[string]string{"": "/run/user/5/wl-x", "wayland-3": "/run/user/5/wayland-3", "/tmp/s": "/tmp/s"} {
		if got, err := SocketPath(in); err != nil || got != want {
			t.Errorf("SocketPath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	t.Setenv("XDG_RUNTIME_DIR", "")
	if _, err := SocketPath("wl-x"); err == nil {
		t.Error("relative display without XDG_RUNTIME_DIR accepted")
	}
}

func TestRawRequests(t *testing.T) {
	c, s := newPair(t)
	m := &Raw{Name: "zwp_virtual_keyboard_manager_v1", Max: 1}
	if err := c.register(m, 1); err != nil {
		t.Fatal(err)
	}
	child := &Raw{Name: "zwp_virtual_keyboard_v1", Max: 1}
	id, err := m.NewChild(child)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Request(0, 1, false, func(b *wire.Builder) { b.Object(1); b.Object(id) }); err != nil {
		t.Fatal(err)
	}
	got := s.request()
	if got.Sender != m.ID() || got.Opcode != 0 || len(got.Body) != 8 || wire.ObjectID(got.Body[4]) != id {
		t.Fatalf("raw request %+v %v", got.Header, got.Body)
	}
	if err := child.Request(3, 2, true, func(*wire.Builder) {}); err == nil {
		t.Error("version-2 request sent on a version-1 object")
	}
	if err := child.Request(3, 1, true, func(*wire.Builder) {}); err != nil {
		t.Fatal(err)
	}
	s.request()
	if err := child.Request(1, 1, false, func(*wire.Builder) {}); err == nil {
		t.Error("request sent after the destructor")
	}
	// Events on a raw object without a decoder end the connection.
	s.event(child.ID(), 0, nil)
	if err := dispatchOne(t, c); err == nil {
		t.Error("event without decoder accepted")
	}
}

func TestUint32s(t *testing.T) {
	got := Uint32s([]byte{1, 0, 0, 0, 4, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 9})
	if len(got) != 3 || got[0] != uint32(XdgToplevelStateMaximized) || got[1] != uint32(XdgToplevelStateActivated) || got[2] != 0xffffffff {
		t.Fatalf("got %v", got)
	}
}
