package agent

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

// testClient is a small X application for the tests: one window filled
// with a known pattern, and a log of the input events it receives.
type testClient struct {
	t      testing.TB
	c      *xgb.Conn
	win    xproto.Window
	gc     xproto.Gcontext
	w, h   int
	events chan xgb.Event
}

// pattern is the colour the test client draws at (x, y), as 0x00RRGGBB.
func pattern(x, y int) uint32 {
	return uint32(x*7%256)<<16 | uint32(y*5%256)<<8 | uint32((x+y)%256)
}

func newTestClient(t testing.TB, display string, x, y, w, h int, overrideRedirect bool) *testClient {
	t.Helper()
	c, err := xgb.NewConnDisplay(display)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	scr := xproto.Setup(c).DefaultScreen(c)
	win, _ := xproto.NewWindowId(c)
	or := uint32(0)
	if overrideRedirect {
		or = 1
	}
	mask := uint32(xproto.EventMaskKeyPress | xproto.EventMaskKeyRelease | xproto.EventMaskButtonPress |
		xproto.EventMaskButtonRelease | xproto.EventMaskPointerMotion | xproto.EventMaskFocusChange |
		xproto.EventMaskStructureNotify)
	if err := xproto.CreateWindowChecked(c, scr.RootDepth, win, scr.Root, int16(x), int16(y), uint16(w), uint16(h), 0,
		xproto.WindowClassInputOutput, scr.RootVisual, xproto.CwBackPixel|xproto.CwOverrideRedirect|xproto.CwEventMask,
		[]uint32{0, or, mask}).Check(); err != nil {
		t.Fatal(err)
	}
	gc, _ := xproto.NewGcontextId(c)
	xproto.CreateGC(c, gc, xproto.Drawable(win), 0, nil)
	tc := &testClient{t: t, c: c, win: win, gc: gc, w: w, h: h, events: make(chan xgb.Event, 256)}
	go func() {
		for {
			ev, err := c.WaitForEvent()
			if ev == nil && err == nil {
				close(tc.events)
				return
			}
			if ev != nil {
				tc.events <- ev
			}
		}
	}()
	return tc
}

func (tc *testClient) mapAndDraw() {
	xproto.MapWindow(tc.c, tc.win)
	tc.fill(0, 0, tc.w, tc.h, pattern)
}

// fill paints a rectangle of the window with colour(x, y) and waits until
// the server has done it.
func (tc *testClient) fill(x0, y0, w, h int, colour func(x, y int) uint32) {
	tc.t.Helper()
	// Stay well under the core protocol's 256 KiB request limit.
	rows := max(1, 60000/(w*4))
	for y := y0; y < y0+h; y += rows {
		n := min(rows, y0+h-y)
		data := make([]byte, 0, w*n*4)
		for yy := y; yy < y+n; yy++ {
			for xx := x0; xx < x0+w; xx++ {
				data = binary.LittleEndian.AppendUint32(data, colour(xx, yy))
			}
		}
		if err := xproto.PutImageChecked(tc.c, xproto.ImageFormatZPixmap, xproto.Drawable(tc.win), tc.gc,
			uint16(w), uint16(n), int16(x0), int16(y), 0, 24, data).Check(); err != nil {
			tc.t.Fatal(err)
		}
	}
}

func (tc *testClient) setProp(name, typ string, format byte, data []byte) {
	tc.t.Helper()
	p, t := tc.atom(name), tc.atom(typ)
	n := uint32(len(data)) / uint32(format/8)
	if err := xproto.ChangePropertyChecked(tc.c, xproto.PropModeReplace, tc.win, p, t, format, n, data).Check(); err != nil {
		tc.t.Fatal(err)
	}
}

func (tc *testClient) atom(name string) xproto.Atom {
	r, err := xproto.InternAtom(tc.c, false, uint16(len(name)), name).Reply()
	if err != nil {
		tc.t.Fatal(err)
	}
	return r.Atom
}

// expect waits for an event the client receives that matches.
func (tc *testClient) expect(what string, match func(xgb.Event) bool) xgb.Event {
	tc.t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev, ok := <-tc.events:
			if !ok {
				tc.t.Fatalf("client connection closed while waiting for %s", what)
			}
			if match(ev) {
				return ev
			}
		case <-timeout:
			tc.t.Fatalf("client did not receive %s", what)
		}
	}
}
