package agent

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	"github.com/qube-desktop/qube-desktop/internal/guiproto"
	"github.com/qube-desktop/qube-desktop/internal/testenv"
	"github.com/qube-desktop/qube-desktop/internal/transport"
)

// scriptedDaemon is the daemon side of one connection, as a test writes
// it: it validates everything the agent sends with guiproto, like guid.
type scriptedDaemon struct {
	t      testing.TB
	c      net.Conn
	v      guiproto.Version
	limits guiproto.Limits
	region *transport.Region
	msgs   chan agentMsg
	dumps  map[uint32]guiproto.WindowDump
	noAck  bool // hold back WINDOW_DUMP_ACKs (the test sends them)
}

type agentMsg struct {
	h   guiproto.Header
	m   guiproto.Message
	err error
}

func dialDaemon(t testing.TB, socket string, region *transport.Region) *scriptedDaemon {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := transport.Dial(ctx, socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(5 * time.Second))
	v, err := guiproto.DaemonHandshake(c, guiproto.ProtocolVersion, guiproto.NewXConf(640, 480, 24))
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Time{})
	d := &scriptedDaemon{t: t, c: c, v: v, region: region, msgs: make(chan agentMsg, 256),
		limits: guiproto.Limits{RegionSize: uint64(region.Size())}, dumps: map[uint32]guiproto.WindowDump{}}
	go func() {
		for {
			u, h, err := guiproto.ReadUntrusted(c, v)
			var m guiproto.Message
			if err == nil {
				m, err = validate(u, d.limits)
			}
			d.msgs <- agentMsg{h, m, err}
			if err != nil {
				close(d.msgs)
				return
			}
		}
	}()
	return d
}

// validate is guid's dispatch of an untrusted message to its Validate.
func validate(u guiproto.Untrusted, l guiproto.Limits) (guiproto.Message, error) {
	switch u := u.(type) {
	case guiproto.UntrustedCreate:
		return u.Validate(l)
	case guiproto.UntrustedDestroy:
		return u.Validate(l)
	case guiproto.UntrustedMap:
		return u.Validate(l)
	case guiproto.UntrustedUnmap:
		return u.Validate(l)
	case guiproto.UntrustedConfigure:
		return u.Validate(l)
	case guiproto.UntrustedShmImage:
		return u.Validate(l)
	case guiproto.UntrustedClipboardData:
		return u.Validate(l)
	case guiproto.UntrustedWMName:
		return u.Validate(l)
	case guiproto.UntrustedWMClass:
		return u.Validate(l)
	case guiproto.UntrustedWindowHints:
		return u.Validate(l)
	case guiproto.UntrustedWindowFlags:
		return u.Validate(l)
	case guiproto.UntrustedWindowDump:
		return u.Validate(l)
	case guiproto.UntrustedCursor:
		return u.Validate(l)
	case guiproto.UntrustedDock:
		return u.Validate(l)
	}
	return nil, fmt.Errorf("agent sent %s, which the test daemon does not accept", u.Type())
}

// next returns the next message for window id (0 = any), acking dumps as
// guid does and failing on any protocol error.
func (d *scriptedDaemon) next(id uint32) agentMsg {
	d.t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case m, ok := <-d.msgs:
			if !ok {
				d.t.Fatal("agent closed the connection")
			}
			if m.err != nil {
				d.t.Fatalf("agent sent an invalid message: %v", m.err)
			}
			if wd, ok := m.m.(guiproto.WindowDump); ok {
				if wd.Kind != guiproto.DumpRegion {
					d.t.Fatalf("dump of kind %#x, want the region kind", wd.Kind)
				}
				d.dumps[m.h.Window] = wd
				if !d.noAck {
					d.send(m.h.Window, guiproto.WindowDumpAck{})
				}
			}
			if id == 0 || m.h.Window == id {
				return m
			}
		case <-timeout:
			d.t.Fatalf("no message from the agent for window %#x", id)
		}
	}
}

// quiet handles messages (acking dumps) until none came for d, and
// returns them.
func (d *scriptedDaemon) quiet(wait time.Duration) []agentMsg {
	d.t.Helper()
	var out []agentMsg
	for {
		select {
		case m, ok := <-d.msgs:
			if !ok || m.err != nil {
				d.t.Fatalf("agent connection failed: %v", m.err)
			}
			if wd, ok := m.m.(guiproto.WindowDump); ok {
				d.dumps[m.h.Window] = wd
				d.send(m.h.Window, guiproto.WindowDumpAck{})
			}
			out = append(out, m)
		case <-time.After(wait):
			return out
		}
	}
}

// expect skips messages for id until one of type T arrives.
func expect[T guiproto.Message](d *scriptedDaemon, id uint32) T {
	d.t.Helper()
	for {
		m := d.next(id)
		if v, ok := m.m.(T); ok {
			return v
		}
	}
}

func (d *scriptedDaemon) send(id uint32, m guiproto.Message) {
	if err := guiproto.WriteMessage(d.c, id, m); err != nil {
		d.t.Errorf("send %s: %v", m.Type(), err)
	}
}

// pixels returns the window's pixel (x, y) from the region, as guid sees it.
func (d *scriptedDaemon) pixel(id uint32, x, y int) uint32 {
	wd, ok := d.dumps[id]
	if !ok {
		d.t.Fatalf("no dump for window %#x", id)
	}
	b, err := d.region.Slice(wd.Region.Offset, uint64(wd.Region.Stride)*uint64(wd.Height))
	if err != nil {
		d.t.Fatal(err)
	}
	return binary.LittleEndian.Uint32(b[y*int(wd.Region.Stride)+x*4:]) & 0xffffff
}

func (d *scriptedDaemon) checkPixels(id uint32, r Rect, want func(x, y int) uint32) {
	d.t.Helper()
	for y := r.Y; y < r.Y+r.H; y++ {
		for x := r.X; x < r.X+r.W; x++ {
			if got := d.pixel(id, x, y); got != want(x, y) {
				d.t.Fatalf("window %#x pixel (%d,%d) = %06x, want %06x", id, x, y, got, want(x, y))
			}
		}
	}
}

func startAgent(t testing.TB, display string) (socket string, region *transport.Region) {
	t.Helper()
	region, err := transport.CreateRegion("session", 8<<20)
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(display, region, log.New(testWriter{t}, "agent: ", 0))
	if err != nil {
		t.Fatal(err)
	}
	socket = filepath.Join(t.TempDir(), "gui.sock")
	l, err := transport.Listen(socket)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		a.Run(ctx, func(ctx context.Context) (io.ReadWriteCloser, error) { return l.Accept(ctx) })
		close(done)
	}()
	t.Cleanup(func() { cancel(); <-done; l.Close(); a.Close(); region.Close() })
	return socket, region
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) { w.t.Log(string(b)); return len(b), nil }

func TestSessionWithScriptedDaemon(t *testing.T) {
	xv := testenv.StartXvfb(t, 640, 480)
	// A window that exists before the agent starts is found by its scan.
	tc := newTestClient(t, xv.Display, 40, 30, 160, 100, false)
	tc.setProp("_NET_WM_NAME", "UTF8_STRING", 8, []byte("first title"))
	tc.setProp("WM_CLASS", "STRING", 8, []byte("demo\x00Demo\x00"))
	tc.mapAndDraw()
	xproto.GetInputFocus(tc.c).Reply()
	id := uint32(tc.win)

	socket, region := startAgent(t, xv.Display)
	d := dialDaemon(t, socket, region)

	cr := expect[guiproto.Create](d, id)
	if cr.X != 40 || cr.Y != 30 || cr.Width != 160 || cr.Height != 100 || cr.OverrideRedirect {
		t.Fatalf("CREATE %+v", cr)
	}
	if wc := expect[guiproto.WMClass](d, id); wc.Class != "Demo" || wc.Name != "demo" {
		t.Errorf("WMCLASS %+v", wc)
	}
	expect[guiproto.WindowDump](d, id)
	expect[guiproto.MapInfo](d, id)
	if n := expect[guiproto.WMName](d, id); n.Title != "first title" {
		t.Errorf("WMNAME %q", n.Title)
	}
	if s := expect[guiproto.ShmImage](d, id); s != (guiproto.ShmImage{X: 0, Y: 0, Width: 160, Height: 100}) {
		t.Errorf("first SHMIMAGE %+v, want the whole window", s)
	}
	d.checkPixels(id, Rect{0, 0, 160, 100}, pattern)

	// A damage-only update: a small repaint becomes SHMIMAGEs inside it.
	d.quiet(150 * time.Millisecond)
	green := func(int, int) uint32 { return 0x00ff00 }
	tc.fill(50, 60, 20, 10, green)
	n := 0
	for _, m := range d.quiet(200 * time.Millisecond) {
		if s, ok := m.m.(guiproto.ShmImage); ok && m.h.Window == id {
			n++
			if s.X < 50 || s.Y < 60 || int(s.X)+int(s.Width) > 70 || int(s.Y)+int(s.Height) > 70 {
				t.Errorf("SHMIMAGE %+v outside the repainted 20x10 at (50,60)", s)
			}
		}
	}
	if n == 0 {
		t.Fatal("no SHMIMAGE for the repaint")
	}
	d.checkPixels(id, Rect{50, 60, 20, 10}, green)
	d.checkPixels(id, Rect{0, 0, 160, 60}, pattern)

	// A title change in the qube.
	tc.setProp("_NET_WM_NAME", "UTF8_STRING", 8, []byte("second title"))
	if n := expect[guiproto.WMName](d, id); n.Title != "second title" {
		t.Errorf("WMNAME %q after the change", n.Title)
	}

	// Input from the daemon reaches the X client at the right place.
	d.send(id, guiproto.Focus{Event: guiproto.FocusIn})
	tc.expect("FocusIn", func(ev xgb.Event) bool { _, ok := ev.(xproto.FocusInEvent); return ok })
	d.send(id, guiproto.Keypress{Event: guiproto.KeyPress, X: 5, Y: 5, Keycode: 38})
	tc.expect("KeyPress 38", func(ev xgb.Event) bool { k, ok := ev.(xproto.KeyPressEvent); return ok && k.Detail == 38 })
	d.send(0, guiproto.KeymapNotify{}) // nothing is down on the host: release 38
	tc.expect("KeyRelease 38", func(ev xgb.Event) bool { k, ok := ev.(xproto.KeyReleaseEvent); return ok && k.Detail == 38 })
	d.send(id, guiproto.Button{Event: guiproto.ButtonPress, X: 33, Y: 44, Button: 1})
	b := tc.expect("ButtonPress", func(ev xgb.Event) bool { _, ok := ev.(xproto.ButtonPressEvent); return ok }).(xproto.ButtonPressEvent)
	if b.EventX != 33 || b.EventY != 44 || b.Detail != 1 {
		t.Errorf("click arrived as button %d at (%d,%d), want 1 at (33,44)", b.Detail, b.EventX, b.EventY)
	}
	d.send(id, guiproto.Button{Event: guiproto.ButtonRelease, X: 33, Y: 44, Button: 1})

	// Window state both ways: the client asks for fullscreen, the daemon's
	// window manager reports attention, which the client then sees.
	tc.setProp("_NET_WM_STATE", "ATOM", 32, binary.LittleEndian.AppendUint32(nil, uint32(tc.atom("_NET_WM_STATE_FULLSCREEN"))))
	if f := expect[guiproto.WindowFlags](d, id); f != (guiproto.WindowFlags{Set: guiproto.FlagFullscreen}) {
		t.Errorf("WINDOW_FLAGS %+v, want fullscreen set", f)
	}
	d.send(id, guiproto.WindowFlags{Set: guiproto.FlagDemandsAttention})
	attention := tc.atom("_NET_WM_STATE_DEMANDS_ATTENTION")
	for deadline := time.Now().Add(3 * time.Second); ; {
		r, err := xproto.GetProperty(tc.c, false, tc.win, tc.atom("_NET_WM_STATE"), xproto.AtomAtom, 0, 16).Reply()
		if err != nil {
			t.Fatal(err)
		}
		got := map[xproto.Atom]bool{}
		for i := 0; i+4 <= len(r.Value); i += 4 {
			got[xproto.Atom(binary.LittleEndian.Uint32(r.Value[i:]))] = true
		}
		if got[attention] && got[tc.atom("_NET_WM_STATE_FULLSCREEN")] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("_NET_WM_STATE of the client is %v, want fullscreen and attention", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, m := range d.quiet(150 * time.Millisecond) {
		if f, ok := m.m.(guiproto.WindowFlags); ok {
			t.Errorf("agent echoed the daemon's state as %+v", f)
		}
	}

	// The daemon moves and resizes the window: acked at once, then a new
	// buffer of the new size is dumped and filled.
	d.send(id, guiproto.Configure{X: 10, Y: 20, Width: 200, Height: 120})
	if c := expect[guiproto.Configure](d, id); c.X != 10 || c.Y != 20 || c.Width != 200 || c.Height != 120 {
		t.Errorf("CONFIGURE ack %+v", c)
	}
	if wd := expect[guiproto.WindowDump](d, id); wd.Width != 200 || wd.Height != 120 {
		t.Errorf("dump after resize %dx%d", wd.Width, wd.Height)
	}
	tc.fill(0, 0, 200, 120, pattern)
	d.quiet(150 * time.Millisecond)
	d.checkPixels(id, Rect{0, 0, 200, 120}, pattern)

	// Clipboard: the daemon pastes, then asks for the clipboard back.
	d.send(id, guiproto.ClipboardData{Data: []byte("from the host")})
	time.Sleep(50 * time.Millisecond)
	d.send(id, guiproto.ClipboardReq{})
	if cd := expect[guiproto.ClipboardData](d, 0); string(cd.Data) != "from the host" {
		t.Errorf("clipboard round trip gave %q", cd.Data)
	}

	// A restarted daemon gets every window again, pixels included.
	d.c.Close()
	d = dialDaemon(t, socket, region)
	if cr := expect[guiproto.Create](d, id); cr.Width != 200 || cr.Height != 120 {
		t.Errorf("replayed CREATE %+v", cr)
	}
	expect[guiproto.MapInfo](d, id)
	if n := expect[guiproto.WMName](d, id); n.Title != "second title" {
		t.Errorf("replayed WMNAME %q", n.Title)
	}
	expect[guiproto.ShmImage](d, id)
	d.checkPixels(id, Rect{0, 0, 200, 120}, pattern)

	// An override-redirect menu, then its destruction.
	menu := newTestClient(t, xv.Display, 60, 70, 50, 40, true)
	menu.mapAndDraw()
	mid := uint32(menu.win)
	if cr := expect[guiproto.Create](d, mid); !cr.OverrideRedirect {
		t.Errorf("menu CREATE %+v", cr)
	}
	if m := expect[guiproto.MapInfo](d, mid); !m.OverrideRedirect {
		t.Errorf("menu MAP %+v", m)
	}
	expect[guiproto.ShmImage](d, mid)
	xproto.DestroyWindow(menu.c, menu.win)
	expect[guiproto.Destroy](d, mid)
	d.send(mid, guiproto.Destroy{})

	// Close: the client does not speak WM_DELETE_WINDOW, so it is killed.
	d.send(id, guiproto.Close{})
	expect[guiproto.Destroy](d, id)
	d.send(id, guiproto.Destroy{})
}

// TestBufferAndIDReuse checks the two waits of the protocol: a replaced
// buffer is not reused before the daemon acks the dump that replaced it,
// and a window ID is not reused before the daemon acks its DESTROY.
func TestBufferAndIDReuse(t *testing.T) {
	xv := testenv.StartXvfb(t, 640, 480)
	socket, region := startAgent(t, xv.Display)
	d := dialDaemon(t, socket, region)
	d.noAck = true

	tc := newTestClient(t, xv.Display, 0, 0, 100, 100, false)
	tc.mapAndDraw()
	id := uint32(tc.win)
	first := expect[guiproto.WindowDump](d, id)
	xproto.ConfigureWindow(tc.c, tc.win, xproto.ConfigWindowWidth, []uint32{200})
	second := expect[guiproto.WindowDump](d, id)
	if second.Region.Offset == first.Region.Offset {
		t.Fatal("resized window reuses its buffer")
	}
	d.send(id, guiproto.WindowDumpAck{}) // the first dump only

	// A new window as big as the first buffer: first fit would give it the
	// old buffer, which the daemon may still read (second dump not acked).
	other := newTestClient(t, xv.Display, 0, 0, 100, 100, false)
	other.mapAndDraw()
	o := expect[guiproto.WindowDump](d, uint32(other.win))
	if o.Region.Offset == first.Region.Offset {
		t.Fatalf("buffer at %#x reused before the dump replacing it was acked", o.Region.Offset)
	}
	d.send(id, guiproto.WindowDumpAck{}) // second dump: the first buffer is free now
	d.send(uint32(other.win), guiproto.WindowDumpAck{})
	d.quiet(100 * time.Millisecond) // the agent has read the acks
	third := newTestClient(t, xv.Display, 0, 0, 100, 100, false)
	third.mapAndDraw()
	if o := expect[guiproto.WindowDump](d, uint32(third.win)); o.Region.Offset != first.Region.Offset {
		t.Errorf("after the ack the freed buffer at %#x was not reused (got %#x)", first.Region.Offset, o.Region.Offset)
	}

	// The client destroys its window and makes a new one with the same ID.
	xproto.DestroyWindow(tc.c, tc.win)
	expect[guiproto.Destroy](d, id)
	scr := xproto.Setup(tc.c).DefaultScreen(tc.c)
	if err := xproto.CreateWindowChecked(tc.c, scr.RootDepth, tc.win, scr.Root, 5, 5, 30, 30, 0,
		xproto.WindowClassInputOutput, scr.RootVisual, 0, nil).Check(); err != nil {
		t.Fatal(err)
	}
	for _, m := range d.quiet(200 * time.Millisecond) {
		if m.h.Window == id {
			t.Fatalf("agent sent %s for a reused ID before the DESTROY ack", m.m.Type())
		}
	}
	d.send(id, guiproto.Destroy{})
	if cr := expect[guiproto.Create](d, id); cr.Width != 30 || cr.Height != 30 {
		t.Errorf("CREATE after the ack %+v, want the new 30x30 window", cr)
	}
}

// TestTrayIcon docks an XEmbed tray icon with the agent, which forwards it
// as MSG_DOCK with its pixels and without MSG_MAP.
func TestTrayIcon(t *testing.T) {
	xv := testenv.StartXvfb(t, 640, 480)
	socket, region := startAgent(t, xv.Display)
	d := dialDaemon(t, socket, region)

	icon := newTestClient(t, xv.Display, 0, 0, 24, 24, false)
	id := uint32(icon.win)
	expect[guiproto.Create](d, id)
	owner, err := xproto.GetSelectionOwner(icon.c, icon.atom("_NET_SYSTEM_TRAY_S0")).Reply()
	if err != nil || owner.Owner == 0 {
		t.Fatalf("no system tray in the qube: %v", err)
	}
	req := xproto.ClientMessageEvent{Format: 32, Window: owner.Owner, Type: icon.atom("_NET_SYSTEM_TRAY_OPCODE"),
		Data: xproto.ClientMessageDataUnionData32New([]uint32{0, 0, id, 0, 0})}
	xproto.SendEvent(icon.c, false, owner.Owner, xproto.EventMaskNoEvent, string(req.Bytes()))

	xembed := icon.atom("_XEMBED")
	icon.expect("XEMBED_EMBEDDED_NOTIFY", func(ev xgb.Event) bool {
		cm, ok := ev.(xproto.ClientMessageEvent)
		return ok && cm.Type == xembed && cm.Data.Data32[1] == 0
	})
	icon.expect("MapNotify", func(ev xgb.Event) bool { _, ok := ev.(xproto.MapNotifyEvent); return ok })
	icon.fill(0, 0, 24, 24, pattern)
	var docked, dumped, shown bool
	for _, m := range d.quiet(300 * time.Millisecond) {
		if m.h.Window != id {
			continue
		}
		switch m.m.(type) {
		case guiproto.Dock:
			docked = true
		case guiproto.WindowDump:
			dumped = docked
		case guiproto.ShmImage:
			shown = dumped
		case guiproto.MapInfo:
			t.Error("a docked icon was sent MSG_MAP")
		}
	}
	if !docked || !dumped || !shown {
		t.Fatalf("DOCK %v, then WINDOW_DUMP %v, then SHMIMAGE %v", docked, dumped, shown)
	}
	d.checkPixels(id, Rect{0, 0, 24, 24}, pattern)

	// A restarted daemon gets the icon docked again.
	d.c.Close()
	d = dialDaemon(t, socket, region)
	expect[guiproto.Create](d, id)
	expect[guiproto.Dock](d, id)
	expect[guiproto.ShmImage](d, id)
	d.checkPixels(id, Rect{0, 0, 24, 24}, pattern)
}
