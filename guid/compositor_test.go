package guid_test

import (
	"context"
	"image"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qube-desktop/qube-desktop/compositor/frame"
	"github.com/qube-desktop/qube-desktop/compositor/wayland"
	"github.com/qube-desktop/qube-desktop/guid"
	"github.com/qube-desktop/qube-desktop/internal/guiproto"
	"github.com/qube-desktop/qube-desktop/internal/testenv"
)

const (
	win = uint32(0x400001)
	cw  = 160
	ch  = 96
)

// TestBinaryOnWeston runs the built qube-guid with an inherited region fd
// against weston: the framed window, the agent drawing past its window,
// and fatal violations that end the session until the agent reconnects.
func TestBinaryOnWeston(t *testing.T) {
	testenv.NeedCommands(t, "go")
	comp := testenv.StartWeston(t, 800, 600)
	a := newAgent(t)

	bin := filepath.Join(t.TempDir(), "qube-guid")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/qube-desktop/qube-desktop/app/qube-guid").CombinedOutput(); err != nil {
		t.Fatalf("build qube-guid: %v\n%s", err, out)
	}
	region := a.guidRegion()
	defer region.Close()
	logs := runProc(t, "qube-guid", region, nil, bin, "-qube", "work", "-label", "blue", "-socket", a.path, "-region-fd", "3",
		"-display", comp.SocketPath(), "-border", "2", "-titlebar", "20")

	a.accept()
	a.create(win, winSpec{x: 40, y: 40, w: cw, h: ch, title: "bash", class: "XTerm", pat: topPixel})
	a.expect("WINDOW_DUMP_ACK", isType(guiproto.MsgWindowDumpAck, win))
	img, at := find(t, comp, topPixel, cw, ch)
	checkContent(t, img, at, topPixel, cw, ch)
	// weston draws no decorations: the guid's title bar is above the content.
	checkFrame(t, img, at, cw, ch, 2, 22, blue)

	// A menu: an xdg_popup with a 2-px frame at its place in the window.
	a.create(win+1, winSpec{x: 90, y: 70, w: 80, h: 60, or: true, transientFor: win, class: "XTerm", pat: popupPixel})
	img, pat := find(t, comp, popupPixel, 80, 60)
	if want := at.Add(image.Pt(50, 30)); pat != want {
		t.Errorf("menu content at %v, want %v (the window's content + 50,30)", pat, want)
	}
	checkContent(t, img, pat, popupPixel, 80, 60)
	checkFrame(t, img, pat, 80, 60, guid.PopupBorder, guid.PopupBorder, blue)
	a.send(win+1, guiproto.Destroy{})
	a.expect("DESTROY ack", isType(guiproto.MsgDestroy, win+1))

	// The agent paints a larger image, green everywhere: the window shows
	// only its own 160×96, the frame stays the label colour.
	a.dump(win, 400, 300, solid(green))
	deadline := time.Now().Add(10 * time.Second)
	for {
		img = comp.Screenshot(t)
		if n := count(img, green); n == cw*ch {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("%d green pixels on screen, want exactly the %d of the content", n, cw*ch)
		}
		time.Sleep(50 * time.Millisecond)
	}
	checkContent(t, img, at, solid(green), cw, ch)
	checkFrame(t, img, at, cw, ch, 2, 22, blue)

	// A message for an unknown window is fatal: the session ends, the window
	// goes, and the daemon waits for the agent again.
	a.send(0x999, guiproto.MapInfo{})
	a.expectHangup()
	waitGone(t, comp, green)
	a.accept()
	a.create(win, winSpec{x: 40, y: 40, w: cw, h: ch, title: "bash", class: "XTerm", pat: topPixel})
	find(t, comp, topPixel, cw, ch)
	// A dump outside the region is fatal too.
	a.send(win, guiproto.WindowDump{Kind: guiproto.DumpRegion, Width: 64, Height: 64, BPP: 24,
		Region: guiproto.RegionBuffer{Offset: regionBytes - 4096, Stride: 256}})
	a.expectHangup()
	// Misaligned and oversized dumps, and a second CREATE, end it as well.
	for _, m := range []guiproto.Message{
		guiproto.WindowDump{Kind: guiproto.DumpRegion, Width: 64, Height: 64, BPP: 24,
			Region: guiproto.RegionBuffer{Offset: 100, Stride: 256}},
		guiproto.WindowDump{Kind: guiproto.DumpRegion, Width: 20000, Height: 10, BPP: 24,
			Region: guiproto.RegionBuffer{Offset: 0, Stride: 80000}},
		guiproto.Create{Width: 10, Height: 10},
	} {
		a.accept()
		a.create(win, winSpec{x: 40, y: 40, w: cw, h: ch, title: "bash", class: "XTerm", pat: topPixel})
		a.send(win, m)
		a.expectHangup()
	}
	a.accept()
	for _, rule := range []string{"unknown window ID", "does not fit the 67108864-byte region", "is not a multiple of 4096",
		"exceeds 16384", "window ID already exists", "waiting for the agent to reconnect"} {
		if !strings.Contains(logs.String(), rule) {
			t.Errorf("qube-guid's log does not name %q", rule)
		}
	}
}

// waitGone waits until no pixel of colour c is on screen.
func waitGone(t *testing.T, comp *testenv.Compositor, c interface{ RGBA() (r, g, b, a uint32) }) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for count(comp.Screenshot(t), rgb(c)) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the window stayed on screen after the session ended")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestWindowsOnSway: a tiled window follows sway's size through the
// configure loop; titles are sanitized; a menu is a popup with a 2-px
// frame; a popup covering the output becomes a framed toplevel.
func TestWindowsOnSway(t *testing.T) {
	comp := testenv.StartSway(t, 800, 600)
	a := newAgent(t)
	startGuid(t, comp, a, guid.Options{})
	a.accept()
	a.create(win, winSpec{x: 0, y: 0, w: cw, h: ch, title: "evil\u202etxt\x1b.exe", class: "XTerm", pat: topPixel})

	// sway tiles the window over the whole output and decorates nothing
	// (default_border none): the content is the output less the 2-px frame.
	c := a.expect("CONFIGURE to sway's size", isType(guiproto.MsgConfigure, win)).m.(guiproto.Configure)
	if c.Width != 796 || c.Height != 596 {
		t.Fatalf("daemon configured %dx%d, want 796x596", c.Width, c.Height)
	}
	img, at := find(t, comp, topPixel, 796, 596)
	checkContent(t, img, at, topPixel, 796, 596)
	checkFrame(t, img, at, 796, 596, 2, 2, blue)

	views := comp.SwayTitles(t)
	if got := views["work:XTerm"]; got != "[work] evil___txt_.exe" {
		t.Errorf("sway shows title %q for app_id work:XTerm (all %q)", got, views)
	}

	// A menu of the window: an xdg_popup at its place with a 2-px frame.
	const menu = win + 1
	a.create(menu, winSpec{x: 50, y: 30, w: 80, h: 60, or: true, transientFor: win, class: "XTerm", pat: popupPixel})
	img, pat := find(t, comp, popupPixel, 80, 60)
	if want := at.Add(image.Pt(50, 30)); pat != want {
		t.Errorf("menu content at %v, want %v (the window's content + 50,30)", pat, want)
	}
	checkContent(t, img, pat, popupPixel, 80, 60)
	checkFrame(t, img, pat, 80, 60, guid.PopupBorder, guid.PopupBorder, blue)
	// Just outside the 2-px frame is the parent's content again.
	if got := rgb(img.At(pat.X-3, pat.Y-3)); got == blue {
		t.Errorf("popup frame wider than 2 px: %v at 3 px", got)
	}
	// The menu moves and grows.
	a.send(menu, guiproto.Configure{X: 70, Y: 40, Width: 100, Height: 70})
	a.dump(menu, 100, 70, popupPixel)
	deadline := time.Now().Add(10 * time.Second)
	for {
		img = comp.Screenshot(t)
		if got, ok := locate(img, popupPixel, 100, 70); ok && got == at.Add(image.Pt(70, 40)) {
			pat = got
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the menu did not move to 70,40 with 100x70 content")
		}
		time.Sleep(50 * time.Millisecond)
	}
	checkContent(t, img, pat, popupPixel, 100, 70)
	checkFrame(t, img, pat, 100, 70, guid.PopupBorder, guid.PopupBorder, blue)

	// An override-redirect window covering the output is a framed toplevel.
	a.create(win+2, winSpec{x: 0, y: 0, w: 800, h: 600, or: true, transientFor: win, title: "cover", class: "Cover", pat: solid(green)})
	deadline = time.Now().Add(10 * time.Second)
	for comp.SwayTitles(t)["work:Cover"] != "[work] cover" {
		if time.Now().After(deadline) {
			t.Fatalf("the covering window is not a sway view: %q", comp.SwayTitles(t))
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Size hints with the maximum below the minimum, and a window of the
	// protocol's maximum size, neither break the compositor connection.
	a.send(win, guiproto.WindowHints{Flags: guiproto.HintPMinSize | guiproto.HintPMaxSize,
		MinWidth: 1000, MinHeight: 1000, MaxWidth: 10, MaxHeight: 10})
	a.create(win+3, winSpec{w: guiproto.MaxWindowWidth, h: 100, title: "huge", class: "Huge", pat: solid(green)})
	a.send(win+3, guiproto.Destroy{})
	a.expect("DESTROY ack", isType(guiproto.MsgDestroy, win+3))

	// Closing the window in sway (xdg_toplevel.close) asks the qube to close it.
	comp.SwayMsg(t, `[app_id="work:XTerm"] kill`)
	a.expect("CLOSE", isType(guiproto.MsgClose, win))
}

// TestInputOnSway injects a key, a click and a wheel step through sway's
// virtual keyboard and pointer: they reach the agent as X events for the
// right window, in content coordinates; nothing reaches it while another
// client has the focus.
func TestInputOnSway(t *testing.T) {
	comp := testenv.StartSway(t, 800, 600)
	a := newAgent(t)
	startGuid(t, comp, a, guid.Options{})
	a.accept()
	a.create(win, winSpec{w: cw, h: ch, title: "input", class: "XTerm", pat: topPixel})
	a.expect("CONFIGURE", isType(guiproto.MsgConfigure, win))
	_, at := find(t, comp, topPixel, 796, 596)

	in := testenv.VirtualInput(t, comp)
	comp.SwayMsg(t, `[app_id="work:XTerm"] focus`)
	// KEYMAP_NOTIFY comes before FOCUS(In), with mode NotifyNormal.
	a.expect("KEYMAP_NOTIFY", func(r received) bool { return r.h.Type == guiproto.MsgKeymapNotify })
	f := a.expect("FOCUS", isType(guiproto.MsgFocus, win)).m.(guiproto.Focus)
	if f.Event != guiproto.FocusIn || f.Mode != 0 {
		t.Errorf("focus %+v, want FocusIn with mode 0", f)
	}

	const keyA = 30 // evdev KEY_A; X keycode 38
	in.Tap(keyA)
	for _, ev := range []uint32{guiproto.KeyPress, guiproto.KeyRelease} {
		k := a.expect("KEYPRESS", isType(guiproto.MsgKeypress, win)).m.(guiproto.Keypress)
		if k.Event != ev || k.Keycode != keyA+8 {
			t.Errorf("key event %+v, want type %d keycode %d", k, ev, keyA+8)
		}
	}

	// sway may have warped the pointer into the window when it got the
	// focus: the move is an EnterNotify or a motion, at content 10,20.
	in.MoveTo(at.X+10, at.Y+20)
	a.expect("CROSSING or MOTION at 10,20", func(r received) bool {
		switch m := r.m.(type) {
		case guiproto.Crossing:
			return r.h.Window == win && m.Event == guiproto.EnterNotify && m.X == 10 && m.Y == 20
		case guiproto.Motion:
			return r.h.Window == win && m.X == 10 && m.Y == 20
		}
		return false
	})
	in.Click(0x110) // BTN_LEFT
	for _, ev := range []uint32{guiproto.ButtonPress, guiproto.ButtonRelease} {
		b := a.expect("BUTTON", isType(guiproto.MsgButton, win)).m.(guiproto.Button)
		if b.Event != ev || b.Button != 1 || b.X != 10 || b.Y != 20 {
			t.Errorf("button event %+v, want type %d button 1 at 10,20 (content coordinates)", b, ev)
		}
	}
	in.Wheel(1)
	if b := a.expect("wheel BUTTON", isType(guiproto.MsgButton, win)).m.(guiproto.Button); b.Button != 5 || b.Event != guiproto.ButtonPress {
		t.Errorf("wheel down gave %+v, want button 5", b)
	}

	// Another client takes the focus: the qube hears FocusOut, then no keys.
	other, err := wayland.Connect(comp.SocketPath())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	g, err := frame.BindGlobals(other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := frame.NewWindow(g, frame.Options{Style: frame.Style{Border: 1, Label: green}, Title: "other",
		AppID: "other", ContentW: 50, ContentH: 50}); err != nil {
		t.Fatal(err)
	}
	go func() { _ = other.Run(context.Background()) }()
	deadline := time.Now().Add(10 * time.Second)
	for _, ok := comp.SwayTitles(t)["other"]; !ok; _, ok = comp.SwayTitles(t)["other"] {
		if time.Now().After(deadline) {
			t.Fatal("the other client's window never mapped")
		}
		time.Sleep(20 * time.Millisecond)
	}
	comp.SwayMsg(t, `[app_id="other"] focus`)
	if f := a.expect("FOCUS", isType(guiproto.MsgFocus, win)).m.(guiproto.Focus); f.Event != guiproto.FocusOut {
		t.Errorf("focus %+v, want FocusOut", f)
	}
	in.Tap(keyA)
	a.quiet(500*time.Millisecond, "a key typed into another client", func(r received) bool {
		return r.h.Type == guiproto.MsgKeypress
	})
}

// TestWindowOnKWin: a smoke test that a qube window appears on KWin with
// its border in the label colour.
func TestWindowOnKWin(t *testing.T) {
	comp := testenv.StartKWin(t, 800, 600)
	a := newAgent(t)
	startGuid(t, comp, a, guid.Options{})
	a.accept()
	a.create(win, winSpec{x: 40, y: 40, w: cw, h: ch, title: "bash", class: "XTerm", pat: topPixel})
	img, at := find(t, comp, topPixel, cw, ch)
	checkContent(t, img, at, topPixel, cw, ch)
	checkFrame(t, img, at, cw, ch, 2, 2, blue)
}

// TestFrameResizesOnSway: dragging the guid's own border resizes the
// window; the qube hears the new size through the configure loop.
func TestFrameResizesOnSway(t *testing.T) {
	comp := testenv.StartSway(t, 800, 600)
	a := newAgent(t)
	startGuid(t, comp, a, guid.Options{})
	a.accept()
	a.create(win, winSpec{w: cw, h: ch, title: "resize", class: "XTerm", pat: topPixel})
	a.expect("CONFIGURE", isType(guiproto.MsgConfigure, win))
	comp.SwayMsg(t, `[app_id="work:XTerm"] floating enable, resize set 300 200, move position 100 100`)
	a.expect("CONFIGURE to 296x196", func(r received) bool {
		c, ok := r.m.(guiproto.Configure)
		return ok && r.h.Window == win && c.Width == 296 && c.Height == 196
	})
	// The frame at 100,100, the content inside its 2-px border.
	at := image.Pt(102, 102)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if got, ok := locate(comp.Screenshot(t), topPixel, 296, 196); ok && got == at {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the floating window never showed at 100,100")
		}
		time.Sleep(20 * time.Millisecond)
	}

	in := testenv.VirtualInput(t, comp)
	// Once the qube hears the pointer enter, the guid has its wl_pointer.
	in.MoveTo(at.X+100, at.Y+98)
	a.expect("CROSSING", isType(guiproto.MsgCrossing, win))
	in.MoveTo(at.X+296, at.Y+98) // the right border, 1 px into it
	in.Button(0x110, true)
	// The guid asks for the resize after it saw the press: keep dragging
	// until the wider size reaches the qube.
	wider := func(r received) bool {
		c, ok := r.m.(guiproto.Configure)
		return ok && r.h.Window == win && c.Width > 296 && c.Height == 196
	}
	resized := false
	for i := 1; i <= 100 && !resized; i++ {
		in.MoveTo(at.X+296+2*i, at.Y+98)
		select {
		case r := <-a.in:
			resized = wider(r)
		case <-time.After(20 * time.Millisecond):
		}
	}
	in.Button(0x110, false)
	if !resized {
		a.expect("CONFIGURE wider", wider)
	}
	// The click on the frame never reached the qube.
	a.quiet(300*time.Millisecond, "a click on the frame", func(r received) bool { return r.h.Type == guiproto.MsgButton })
}

// A menu the agent maps together with its window (as it replays both
// after a guid restart) is placed once the window's first configure said
// which insets it has: on sway, with server-side decorations and no
// title bar of the guid's, right at the window's content + its offset.
func TestMenuWithItsWindowOnSway(t *testing.T) {
	comp := testenv.StartSway(t, 800, 600)
	a := newAgent(t)
	startGuid(t, comp, a, guid.Options{})
	a.accept()
	const menu = win + 1
	a.create(win, winSpec{w: cw, h: ch, title: "term", class: "XTerm", pat: topPixel})
	a.create(menu, winSpec{x: 50, y: 30, w: 80, h: 60, or: true, transientFor: win, class: "XTerm", pat: popupPixel})
	a.expect("CONFIGURE to sway's size", isType(guiproto.MsgConfigure, win))
	_, at := find(t, comp, topPixel, 796, 596)
	img, pat := find(t, comp, popupPixel, 80, 60)
	if want := at.Add(image.Pt(50, 30)); pat != want {
		t.Errorf("menu content at %v, want %v (the window's content + 50,30)", pat, want)
	}
	checkFrame(t, img, pat, 80, 60, guid.PopupBorder, guid.PopupBorder, blue)
}
