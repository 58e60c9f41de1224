package agent

import (
	"encoding/binary"
	"os/exec"
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xfixes"
	"github.com/jezek/xgb/xproto"

	"github.com/qube-desktop/qube-desktop/internal/testenv"
	"github.com/qube-desktop/qube-desktop/internal/transport"
)

// agentX is the agent's X side driven by a test: events are pumped from a
// goroutine and applied with Handle in the test goroutine.
type agentX struct {
	t  *testing.T
	x  *X
	ev chan xgb.Event
}

func openAgentX(t *testing.T, display string) *agentX {
	t.Helper()
	x, err := OpenX(display)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(x.Close)
	a := &agentX{t: t, x: x, ev: make(chan xgb.Event, 1024)}
	go func() {
		for {
			ev, err := x.NextEvent()
			if ev == nil && err == nil {
				close(a.ev)
				return
			}
			if ev != nil {
				a.ev <- ev
			}
		}
	}()
	return a
}

// until applies X events until a change matches, and returns it.
func (a *agentX) until(what string, match func(Change) bool) Change {
	a.t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev := <-a.ev:
			for _, c := range a.x.Handle(ev) {
				if match(c) {
					return c
				}
			}
		case <-timeout:
			a.t.Fatalf("agent did not see %s", what)
		}
	}
}

// drain applies all X events that arrive within d and returns the changes.
func (a *agentX) drain(d time.Duration) []Change {
	var out []Change
	timeout := time.After(d)
	for {
		select {
		case ev := <-a.ev:
			out = append(out, a.x.Handle(ev)...)
		case <-timeout:
			return out
		}
	}
}

func (a *agentX) mapped(id xproto.Window) *Window {
	return a.until("map of the test window", func(c Change) bool {
		m, ok := c.(Mapped)
		return ok && m.W.ID == id
	}).(Mapped).W
}

func newBuffer(t testing.TB, r *transport.Region, al *transport.PageAllocator, w, h int) *Buffer {
	t.Helper()
	off, err := al.Alloc(uint64(w * h * 4))
	if err != nil {
		t.Fatal(err)
	}
	mem, err := r.Slice(off, uint64(w*h*4))
	if err != nil {
		t.Fatal(err)
	}
	return &Buffer{Off: off, W: w, H: h, Mem: mem}
}

func pixel(b *Buffer, x, y int) uint32 {
	return binary.LittleEndian.Uint32(b.Mem[(y*b.W+x)*4:]) & 0xffffff
}

func checkPixels(t *testing.T, b *Buffer, r Rect, want func(x, y int) uint32) {
	t.Helper()
	bad := 0
	for y := r.Y; y < r.Y+r.H; y++ {
		for x := r.X; x < r.X+r.W; x++ {
			if got := pixel(b, x, y); got != want(x, y) {
				if bad++; bad <= 5 {
					t.Errorf("pixel (%d,%d) = %06x, want %06x", x, y, got, want(x, y))
				}
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%d pixels differ", bad)
	}
}

func TestCaptureAndDamage(t *testing.T) {
	xv := testenv.StartXvfb(t, 640, 480)
	for _, mode := range []string{"shm", "getimage"} {
		t.Run(mode, func(t *testing.T) {
			a := openAgentX(t, xv.Display)
			region, err := transport.CreateRegion("test", 4<<20)
			if err != nil {
				t.Fatal(err)
			}
			defer region.Close()
			if mode == "shm" {
				if err := a.x.AttachRegion(region); err != nil {
					t.Fatalf("Xvfb should accept the memfd with MIT-SHM AttachFd: %v", err)
				}
			}
			al := transport.NewPageAllocator(region.Size())
			tc := newTestClient(t, xv.Display, 30, 40, 120, 90, false)
			tc.mapAndDraw()
			win := a.mapped(tc.win)
			if win.X != 30 || win.Y != 40 || win.W != 120 || win.H != 90 {
				t.Fatalf("geometry %+v", win)
			}
			buf := newBuffer(t, region, al, win.W, win.H)
			if buf.Off%transport.PageSize != 0 {
				t.Fatal("buffer not page-aligned")
			}
			a.drain(100 * time.Millisecond)
			if _, err := a.x.TakeDamage(win); err != nil { // re-arm the report
				t.Fatal(err)
			}
			if _, err := a.x.Capture(win, buf, Rect{0, 0, win.W, win.H}); err != nil {
				t.Fatal(err)
			}
			checkPixels(t, buf, Rect{0, 0, 120, 90}, pattern)

			// Mark the buffer, repaint a small rectangle, and copy only what
			// Damage reports: the mark must survive outside the damage.
			for i := range buf.Mem {
				buf.Mem[i] = 0xee
			}
			red := func(int, int) uint32 { return 0xff0000 }
			tc.fill(20, 30, 10, 8, red)
			var dmg []Rect
			for _, c := range a.drain(200 * time.Millisecond) {
				if d, ok := c.(Damaged); ok && d.W == win {
					rects, err := a.x.TakeDamage(win)
					if err != nil {
						t.Fatal(err)
					}
					for _, r := range rects {
						got, err := a.x.Capture(win, buf, r)
						if err != nil {
							t.Fatal(err)
						}
						dmg = append(dmg, got)
					}
				}
			}
			if len(dmg) == 0 {
				t.Fatal("no damage reported for the repaint")
			}
			for _, d := range dmg {
				if d.Y < 30 || d.Y+d.H > 38 || d.X < 20 || d.X+d.W > 30 {
					t.Errorf("damage %+v exceeds the painted rectangle", d)
				}
			}
			checkPixels(t, buf, Rect{20, 30, 10, 8}, red)
			// Rows outside the damage were not copied (MIT-SHM copies whole
			// rows, GetImage only the rectangle).
			for _, p := range [][2]int{{0, 0}, {119, 89}, {20, 29}, {20, 38}} {
				if got := pixel(buf, p[0], p[1]); got != 0xeeeeee {
					t.Errorf("pixel %v outside the damage = %06x, want the mark", p, got)
				}
			}
			if mode == "getimage" {
				if got := pixel(buf, 19, 30); got != 0xeeeeee {
					t.Errorf("pixel left of the damage = %06x, want the mark", got)
				}
			}
		})
	}
}

func TestWindowProperties(t *testing.T) {
	xv := testenv.StartXvfb(t, 640, 480)
	a := openAgentX(t, xv.Display)
	tc := newTestClient(t, xv.Display, 0, 0, 50, 50, false)
	a.until("create", func(c Change) bool { cr, ok := c.(Created); return ok && cr.W.ID == tc.win })
	win := a.x.Window(tc.win)

	prop := func(p Prop) {
		a.until("property change", func(c Change) bool { pc, ok := c.(PropertyChanged); return ok && pc.W == win && pc.What == p })
	}
	tc.setProp("_NET_WM_NAME", "UTF8_STRING", 8, []byte("Grüße"))
	prop(PropName)
	if win.Name != "Grüße" {
		t.Errorf("name %q", win.Name)
	}
	tc.setProp("WM_CLASS", "STRING", 8, []byte("inst\x00Klass\x00"))
	prop(PropClass)
	if win.Instance != "inst" || win.Class != "Klass" {
		t.Errorf("class %q %q", win.Instance, win.Class)
	}
	hints := make([]byte, 18*4)
	for i, v := range map[int]uint32{0: 16 | 32 | 256, 5: 10, 6: 11, 7: 300, 8: 200, 15: 4, 16: 5} {
		binary.LittleEndian.PutUint32(hints[i*4:], v)
	}
	tc.setProp("WM_NORMAL_HINTS", "WM_SIZE_HINTS", 32, hints)
	prop(PropHints)
	if want := (SizeHints{Flags: 16 | 32 | 256, MinW: 10, MinH: 11, MaxW: 300, MaxH: 200, BaseW: 4, BaseH: 5}); win.Hints != want {
		t.Errorf("hints %+v", win.Hints)
	}
	wmh := make([]byte, 9*4)
	binary.LittleEndian.PutUint32(wmh, 1|1<<8) // InputHint | UrgencyHint
	tc.setProp("WM_HINTS", "WM_HINTS", 32, wmh)
	prop(PropFlags)
	if win.AcceptsFocus || !win.Urgent {
		t.Errorf("WM_HINTS: accepts focus %v urgent %v", win.AcceptsFocus, win.Urgent)
	}
	tc.setProp("_NET_WM_STATE", "ATOM", 32, binary.LittleEndian.AppendUint32(nil, uint32(tc.atom("_NET_WM_STATE_FULLSCREEN"))))
	prop(PropFlags)
	if !win.Fullscreen || win.Hidden {
		t.Errorf("state: fullscreen %v hidden %v", win.Fullscreen, win.Hidden)
	}
	tc.setProp("WM_TRANSIENT_FOR", "WINDOW", 32, binary.LittleEndian.AppendUint32(nil, 0x1234))
	prop(PropTransient)
	if win.TransientFor != 0x1234 {
		t.Errorf("transient for %#x", win.TransientFor)
	}

	// A client asking for a state with a client message to the root (EWMH)
	// gets it, as from a window manager.
	ev := xproto.ClientMessageEvent{Format: 32, Window: tc.win, Type: tc.atom("_NET_WM_STATE"),
		Data: xproto.ClientMessageDataUnionData32New([]uint32{1, uint32(tc.atom("_NET_WM_STATE_DEMANDS_ATTENTION")), 0, 1, 0})}
	root := xproto.Setup(tc.c).DefaultScreen(tc.c).Root
	xproto.SendEvent(tc.c, false, root, xproto.EventMaskSubstructureNotify|xproto.EventMaskSubstructureRedirect, string(ev.Bytes()))
	a.until("demands-attention state", func(c Change) bool {
		pc, ok := c.(PropertyChanged)
		return ok && pc.W == win && pc.What == PropFlags && win.DemandsAttention
	})
	if !win.Fullscreen {
		t.Error("adding a state dropped the existing fullscreen state")
	}

	// Override-redirect windows are tracked too, and destruction is seen.
	or := newTestClient(t, xv.Display, 5, 5, 20, 20, true)
	or.mapAndDraw()
	if w := a.mapped(or.win); !w.OverrideRedirect {
		t.Error("override-redirect window not marked so")
	}
	xproto.DestroyWindow(or.c, or.win)
	a.until("destroy", func(c Change) bool { d, ok := c.(Destroyed); return ok && d.ID == or.win })
	if a.x.Window(or.win) != nil {
		t.Error("destroyed window still tracked")
	}
}

func TestInputInjection(t *testing.T) {
	xv := testenv.StartXvfb(t, 640, 480)
	a := openAgentX(t, xv.Display)
	tc := newTestClient(t, xv.Display, 100, 50, 200, 150, false)
	tc.mapAndDraw()
	win := a.mapped(tc.win)

	if err := a.x.Focus(win); err != nil {
		t.Fatal(err)
	}
	tc.expect("FocusIn", func(ev xgb.Event) bool { _, ok := ev.(xproto.FocusInEvent); return ok })

	if err := a.x.Key(true, 38); err != nil { // 'a' on a PC keyboard
		t.Fatal(err)
	}
	tc.expect("KeyPress 38", func(ev xgb.Event) bool { k, ok := ev.(xproto.KeyPressEvent); return ok && k.Detail == 38 })
	// The daemon says no key is down: the agent releases the stuck one.
	if err := a.x.ReleaseStuckKeys([32]byte{}); err != nil {
		t.Fatal(err)
	}
	tc.expect("KeyRelease 38", func(ev xgb.Event) bool { k, ok := ev.(xproto.KeyReleaseEvent); return ok && k.Detail == 38 })

	for _, b := range []uint8{1, 3, 4, 7} {
		if err := a.x.Button(win, true, b, 17, 23); err != nil {
			t.Fatal(err)
		}
		ev := tc.expect("ButtonPress", func(ev xgb.Event) bool { _, ok := ev.(xproto.ButtonPressEvent); return ok }).(xproto.ButtonPressEvent)
		if ev.Detail != xproto.Button(b) || ev.EventX != 17 || ev.EventY != 23 {
			t.Errorf("button %d: got button %d at (%d,%d), want (17,23)", b, ev.Detail, ev.EventX, ev.EventY)
		}
		if err := a.x.Button(win, false, b, 17, 23); err != nil {
			t.Fatal(err)
		}
		tc.expect("ButtonRelease", func(ev xgb.Event) bool {
			r, ok := ev.(xproto.ButtonReleaseEvent)
			return ok && r.Detail == xproto.Button(b)
		})
	}
	if err := a.x.Motion(win, 150, 3); err != nil {
		t.Fatal(err)
	}
	tc.expect("motion to (150,3)", func(ev xgb.Event) bool {
		m, ok := ev.(xproto.MotionNotifyEvent)
		return ok && m.EventX == 150 && m.EventY == 3
	})

	// The host has Caps Lock on: the qube's lock follows before the key.
	if err := a.x.SyncLocks(lockMask); err != nil {
		t.Fatal(err)
	}
	if err := a.x.Key(true, 38); err != nil {
		t.Fatal(err)
	}
	k := tc.expect("KeyPress with Lock", func(ev xgb.Event) bool { k, ok := ev.(xproto.KeyPressEvent); return ok && k.Detail == 38 }).(xproto.KeyPressEvent)
	if k.State&lockMask == 0 {
		t.Errorf("key state %#x after syncing Caps Lock on, want Lock set", k.State)
	}
	a.x.Key(false, 38)
	if err := a.x.SyncLocks(0); err != nil {
		t.Fatal(err)
	}
	if err := a.x.Key(true, 38); err != nil {
		t.Fatal(err)
	}
	k = tc.expect("KeyPress without Lock", func(ev xgb.Event) bool { k, ok := ev.(xproto.KeyPressEvent); return ok && k.Detail == 38 }).(xproto.KeyPressEvent)
	if k.State&lockMask != 0 {
		t.Errorf("key state %#x after syncing Caps Lock off", k.State)
	}
	a.x.Key(false, 38)

	if err := a.x.MoveResize(win, 10, 20, 300, 100); err != nil {
		t.Fatal(err)
	}
	a.until("configure", func(c Change) bool {
		cf, ok := c.(Configured)
		return ok && cf.W == win && cf.Resized && win.X == 10 && win.Y == 20 && win.W == 300 && win.H == 100
	})
}

func TestCloseWindow(t *testing.T) {
	xv := testenv.StartXvfb(t, 640, 480)
	a := openAgentX(t, xv.Display)

	polite := newTestClient(t, xv.Display, 0, 0, 40, 40, false)
	polite.setProp("WM_PROTOCOLS", "ATOM", 32, binary.LittleEndian.AppendUint32(nil, uint32(polite.atom("WM_DELETE_WINDOW"))))
	polite.mapAndDraw()
	w := a.mapped(polite.win)
	a.drain(50 * time.Millisecond)
	if !w.DeleteWindow {
		t.Fatal("WM_PROTOCOLS not read")
	}
	if err := a.x.CloseWindow(w); err != nil {
		t.Fatal(err)
	}
	del := polite.atom("WM_DELETE_WINDOW")
	polite.expect("WM_DELETE_WINDOW", func(ev xgb.Event) bool {
		cm, ok := ev.(xproto.ClientMessageEvent)
		return ok && xproto.Atom(cm.Data.Data32[0]) == del
	})

	rude := newTestClient(t, xv.Display, 0, 0, 40, 40, false)
	rude.mapAndDraw()
	w = a.mapped(rude.win)
	if err := a.x.CloseWindow(w); err != nil {
		t.Fatal(err)
	}
	a.until("the killed client's window to go", func(c Change) bool { d, ok := c.(Destroyed); return ok && d.ID == rude.win })
}

func TestClipboard(t *testing.T) {
	xv := testenv.StartXvfb(t, 640, 480)
	a := openAgentX(t, xv.Display)
	tc := newTestClient(t, xv.Display, 0, 0, 10, 10, false)
	clipAtom, utf8Atom, targets := tc.atom("CLIPBOARD"), tc.atom("UTF8_STRING"), tc.atom("TARGETS")
	text := []byte("héllo, qube\n")

	// The client owns CLIPBOARD; the agent converts it.
	xproto.SetSelectionOwner(tc.c, tc.win, clipAtom, xproto.TimeCurrentTime)
	serve := func(data []byte) {
		ev := tc.expect("SelectionRequest", func(ev xgb.Event) bool { _, ok := ev.(xproto.SelectionRequestEvent); return ok }).(xproto.SelectionRequestEvent)
		prop := ev.Property
		switch ev.Target {
		case targets:
			b := binary.LittleEndian.AppendUint32(nil, uint32(targets))
			b = binary.LittleEndian.AppendUint32(b, uint32(utf8Atom))
			xproto.ChangeProperty(tc.c, xproto.PropModeReplace, ev.Requestor, prop, xproto.AtomAtom, 32, 2, b)
		case utf8Atom:
			xproto.ChangeProperty(tc.c, xproto.PropModeReplace, ev.Requestor, prop, utf8Atom, 8, uint32(len(data)), data)
		default:
			prop = 0
		}
		n := xproto.SelectionNotifyEvent{Time: ev.Time, Requestor: ev.Requestor, Selection: ev.Selection, Target: ev.Target, Property: prop}
		xproto.SendEvent(tc.c, false, ev.Requestor, 0, string(n.Bytes()))
	}
	xproto.GetInputFocus(tc.c).Reply() // the ownership is in place
	convert := func(limit int, data []byte) ClipboardConverted {
		if ch := a.x.RequestClipboard(limit); ch != nil {
			t.Fatalf("conversion ended at once: %+v", ch)
		}
		go func() { serve(nil); serve(data) }()
		return a.until("clipboard data", func(c Change) bool { _, ok := c.(ClipboardConverted); return ok }).(ClipboardConverted)
	}
	if got := convert(1000, text); string(got.Data) != string(text) || got.Truncated {
		t.Fatalf("converted %q (truncated %v)", got.Data, got.Truncated)
	}
	big := make([]byte, 3000)
	for i := range big {
		big[i] = 'x'
	}
	if got := convert(1000, big); len(got.Data) != 1001 || !got.Truncated {
		t.Fatalf("oversized clipboard: %d bytes, truncated %v; want 1001 (limit+1)", len(got.Data), got.Truncated)
	}

	// The agent owns the selections with pasted text; a client asks for it.
	get := func(sel xproto.Atom) string {
		t.Helper()
		prop := tc.atom("RESULT")
		xproto.ConvertSelection(tc.c, tc.win, sel, utf8Atom, prop, xproto.TimeCurrentTime)
		ev := tc.expect("SelectionNotify", func(ev xgb.Event) bool { _, ok := ev.(xproto.SelectionNotifyEvent); return ok }).(xproto.SelectionNotifyEvent)
		if ev.Property == 0 {
			t.Fatal("conversion refused")
		}
		r, err := xproto.GetProperty(tc.c, true, tc.win, prop, xproto.GetPropertyTypeAny, 0, 1<<16).Reply()
		if err != nil {
			t.Fatal(err)
		}
		return string(r.Value)
	}
	pump := func() { a.drain(100 * time.Millisecond) }
	a.x.OwnClipboard([]byte("pasted ✓\r\n"))
	tc.expect("SelectionClear", func(ev xgb.Event) bool { _, ok := ev.(xproto.SelectionClearEvent); return ok })
	done := make(chan string)
	go func() { done <- get(clipAtom) }()
	pump()
	if s := <-done; s != "pasted ✓\r\n" {
		t.Errorf("CLIPBOARD gave %q", s)
	}
	go func() { done <- get(xproto.AtomPrimary) }()
	pump()
	if s := <-done; s != "pasted ✓\r\n" {
		t.Errorf("PRIMARY gave %q", s)
	}
	a.x.OwnClipboard([]byte("bell\x07"))
	go func() { done <- get(clipAtom) }()
	pump()
	if s := <-done; s != "" {
		t.Errorf("invalid text served as %q, want empty", s)
	}
}

func TestValidText(t *testing.T) {
	for s, want := range map[string]bool{
		"plain text\tand\n": true, "crlf\r\n": true, "ünïcödé ✓": true, "": true,
		"lone\rcr": false, "bell\x07": false, "del\x7f": false, "bad\xff": false,
		"surrogate\xed\xa0\x80": false, "overlong\xc0\xaf": false, "cut\xe2\x9c": false,
	} {
		if got := ValidText([]byte(s)); got != want {
			t.Errorf("ValidText(%q) = %v", s, got)
		}
	}
}

// TestXterm drives a real xterm: its title and class are read, keys
// injected with XTest reach the shell inside (which echoes them into the
// title), and its pixels are captured.
func TestXterm(t *testing.T) {
	testenv.NeedCommands(t, "xterm")
	xv := testenv.StartXvfb(t, 800, 600)
	a := openAgentX(t, xv.Display)
	script := `read line; printf '\033]0;got %s\007' "$line"; sleep 30`
	cmd := exec.Command("xterm", "-T", "agent test", "-geometry", "40x10+5+5", "-e", "sh", "-c", script)
	cmd.Env = xv.Env()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	c := a.until("xterm's window", func(c Change) bool { m, ok := c.(Mapped); return ok && m.W.Class == "XTerm" })
	w := c.(Mapped).W
	if w.Name != "agent test" || w.Instance != "xterm" {
		t.Errorf("xterm window: name %q instance %q", w.Name, w.Instance)
	}
	a.drain(300 * time.Millisecond) // let xterm start the shell
	if err := a.x.Focus(w); err != nil {
		t.Fatal(err)
	}
	for _, k := range []uint8{43, 31, 36} { // h, i, Return on the pc105 keymap
		if err := a.x.Key(true, k); err != nil {
			t.Fatal(err)
		}
		if err := a.x.Key(false, k); err != nil {
			t.Fatal(err)
		}
	}
	a.until(`the title "got hi"`, func(c Change) bool {
		p, ok := c.(PropertyChanged)
		return ok && p.W == w && p.What == PropName && w.Name == "got hi"
	})

	region, err := transport.CreateRegion("xterm", 4<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer region.Close()
	buf := newBuffer(t, region, transport.NewPageAllocator(region.Size()), w.W, w.H)
	if _, err := a.x.Capture(w, buf, Rect{0, 0, w.W, w.H}); err != nil {
		t.Fatal(err)
	}
	colours := map[uint32]int{}
	for y := 0; y < w.H; y++ {
		for x := 0; x < w.W; x++ {
			colours[pixel(buf, x, y)]++
		}
	}
	if colours[0xffffff] == 0 || colours[0x000000] == 0 {
		t.Errorf("xterm capture has no black text on white: %d colours", len(colours))
	}
}

func TestCursor(t *testing.T) {
	for name, want := range map[string]uint32{"left_ptr": 0x100 | 68, "xterm": 0x100 | 152, "X_cursor": 0x100,
		"pointer": 0x100 | 60, "no such cursor": 0, "": 0} {
		if got := cursorID(name); got != want {
			t.Errorf("cursorID(%q) = %#x, want %#x", name, got, want)
		}
	}

	xv := testenv.StartXvfb(t, 640, 480)
	a := openAgentX(t, xv.Display)
	tc := newTestClient(t, xv.Display, 100, 100, 80, 80, false)
	// The client gives its window the cursor font's hand2, named as
	// libXcursor names the cursors it loads.
	font, _ := xproto.NewFontId(tc.c)
	xproto.OpenFont(tc.c, font, uint16(len("cursor")), "cursor")
	cur, _ := xproto.NewCursorId(tc.c)
	xproto.CreateGlyphCursor(tc.c, cur, font, font, 60, 61, 0, 0, 0, 0xffff, 0xffff, 0xffff)
	if err := xfixes.Init(tc.c); err != nil {
		t.Fatal(err)
	}
	xfixes.QueryVersion(tc.c, 5, 0).Reply()
	xfixes.SetCursorName(tc.c, cur, uint16(len("hand2")), "hand2")
	xproto.ChangeWindowAttributes(tc.c, tc.win, xproto.CwCursor, []uint32{uint32(cur)})
	tc.mapAndDraw()
	win := a.mapped(tc.win)
	if err := a.x.Motion(win, 40, 40); err != nil {
		t.Fatal(err)
	}
	a.until("the hand2 cursor", func(c Change) bool { cc, ok := c.(CursorChanged); return ok && cc.ID == 0x100|60 })
	if err := a.x.Motion(win, -50, -50); err != nil { // back over the root
		t.Fatal(err)
	}
	a.until("the default cursor", func(c Change) bool { cc, ok := c.(CursorChanged); return ok && cc.ID == 0 })
}
