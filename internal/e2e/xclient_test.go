package e2e

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

// The X client is this test binary run again with xclientEnv set (see
// TestMain). It reads commands on stdin, one a line, and writes what it
// did and the input it receives on stdout:
//
//	window N X Y W H       create top-level window N filled with pattern, map it  -> "mapped N"
//	menu N P X Y W H       an override-redirect window transient for window P     -> "mapped N"
//	title N TEXT           set WM_NAME and _NET_WM_NAME                           -> "ok"
//	fill N X Y W H RRGGBB  server-side fill                                       -> "ok"
//	geom N                 -> "geom N X Y W H" (root coordinates)
//	repaint N COUNT X Y W H INTERVAL_US  COUNT fills of alternating colour, one per interval -> "ok"
//
// Input events: "key N KEYCODE X Y", "button N BUTTON X Y" (window coordinates, presses only).
const xclientEnv = "QUBE_E2E_XCLIENT"

// pattern is the colour the client draws at (x, y) of its window number
// id (1 or 2), as 0xRRGGBB: different in neighbouring pixels and between
// windows, never the blue label colour 0x3465a4.
func pattern(id, x, y int) uint32 {
	return uint32(x%256)<<16 | uint32(y%256)<<8 | uint32(0x40*id+(x+y)%64)&0xff
}

type xclient struct {
	c    *xgb.Conn
	scr  *xproto.ScreenInfo
	out  *bufio.Writer
	mu   sync.Mutex // out
	wins map[int]xproto.Window
	ids  map[xproto.Window]int
	size map[xproto.Window][2]int
	gc   xproto.Gcontext
}

func (x *xclient) say(format string, args ...any) {
	x.mu.Lock()
	defer x.mu.Unlock()
	fmt.Fprintf(x.out, format+"\n", args...)
	x.out.Flush()
}

// xclientMain is the X client's main; it returns the exit code.
func xclientMain() int {
	c, err := xgb.NewConn()
	if err != nil {
		fmt.Fprintln(os.Stderr, "xclient:", err)
		return 1
	}
	x := &xclient{c: c, scr: xproto.Setup(c).DefaultScreen(c), out: bufio.NewWriter(os.Stdout),
		wins: map[int]xproto.Window{}, ids: map[xproto.Window]int{}, size: map[xproto.Window][2]int{}}
	x.gc, _ = xproto.NewGcontextId(c)
	xproto.CreateGC(c, x.gc, xproto.Drawable(x.scr.Root), 0, nil)
	go x.events()
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if err := x.command(strings.Fields(in.Text()), in.Text()); err != nil {
			fmt.Fprintf(os.Stderr, "xclient: %q: %v\n", in.Text(), err)
			return 1
		}
	}
	return 0
}

func (x *xclient) events() {
	for {
		ev, err := x.c.WaitForEvent()
		if ev == nil && err == nil {
			os.Exit(0) // the X server went away
		}
		switch e := ev.(type) {
		case xproto.KeyPressEvent:
			x.say("key %d %d %d %d", x.ids[e.Event], e.Detail, e.EventX, e.EventY)
		case xproto.ButtonPressEvent:
			x.say("button %d %d %d %d", x.ids[e.Event], e.Detail, e.EventX, e.EventY)
		case xproto.MotionNotifyEvent:
			x.say("motion %d %d %d", x.ids[e.Event], e.EventX, e.EventY)
		case xproto.ConfigureNotifyEvent:
			x.mu.Lock()
			x.size[e.Window] = [2]int{int(e.Width), int(e.Height)}
			x.mu.Unlock()
		case xproto.ExposeEvent:
			// Redraw exposed parts, as after the daemon resized us.
			x.drawPattern(e.Window, int(e.X), int(e.Y), int(e.Width), int(e.Height))
		}
	}
}

func (x *xclient) command(f []string, line string) error {
	if len(f) == 0 {
		return nil
	}
	arg := func(i int) int {
		if i >= len(f) {
			return 0
		}
		n, _ := strconv.ParseInt(f[i], 0, 64)
		return int(n)
	}
	win := x.wins[arg(1)]
	switch f[0] {
	case "window", "menu":
		i, parent := 2, xproto.Window(0)
		if f[0] == "menu" {
			i, parent = 3, x.wins[arg(2)]
		}
		w, err := x.create(arg(1), arg(i), arg(i+1), arg(i+2), arg(i+3), f[0] == "menu", parent)
		if err != nil {
			return err
		}
		x.drawPattern(w, 0, 0, arg(i+2), arg(i+3))
		x.say("mapped %d", arg(1))
	case "title":
		t := strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(line, "title"), " "+f[1]))
		x.prop(win, "WM_NAME", "STRING", []byte(t))
		x.prop(win, "_NET_WM_NAME", "UTF8_STRING", []byte(t))
		x.sync()
		x.say("ok")
	case "fill":
		rgb, _ := strconv.ParseUint(f[6], 16, 32)
		x.fill(win, uint32(rgb), arg(2), arg(3), arg(4), arg(5))
		x.sync()
		x.say("ok")
	case "geom":
		g, err := xproto.GetGeometry(x.c, xproto.Drawable(win)).Reply()
		if err != nil {
			return err
		}
		tr, err := xproto.TranslateCoordinates(x.c, win, x.scr.Root, 0, 0).Reply()
		if err != nil {
			return err
		}
		x.say("geom %d %d %d %d %d", arg(1), tr.DstX, tr.DstY, g.Width, g.Height)
	case "repaint":
		n, interval := arg(2), time.Duration(arg(7))*time.Microsecond
		next := time.Now()
		for i := range n {
			x.fill(win, uint32(i*0x030507)&0xffffff|0x101010, arg(3), arg(4), arg(5), arg(6))
			x.sync()
			next = next.Add(interval)
			time.Sleep(time.Until(next))
		}
		x.say("ok")
	default:
		return fmt.Errorf("unknown command")
	}
	return nil
}

func (x *xclient) create(id, px, py, w, h int, or bool, parent xproto.Window) (xproto.Window, error) {
	win, err := xproto.NewWindowId(x.c)
	if err != nil {
		return 0, err
	}
	orv := uint32(0)
	if or {
		orv = 1
	}
	mask := uint32(xproto.EventMaskKeyPress | xproto.EventMaskButtonPress | xproto.EventMaskPointerMotion |
		xproto.EventMaskExposure | xproto.EventMaskStructureNotify)
	if err := xproto.CreateWindowChecked(x.c, x.scr.RootDepth, win, x.scr.Root, int16(px), int16(py), uint16(w), uint16(h), 0,
		xproto.WindowClassInputOutput, x.scr.RootVisual, xproto.CwBackPixel|xproto.CwOverrideRedirect|xproto.CwEventMask,
		[]uint32{0, orv, mask}).Check(); err != nil {
		return 0, err
	}
	x.mu.Lock()
	x.wins[id], x.ids[win], x.size[win] = win, id, [2]int{w, h}
	x.mu.Unlock()
	x.prop(win, "WM_CLASS", "STRING", []byte("e2eclient\x00E2EClient\x00"))
	x.prop(win, "WM_NAME", "STRING", []byte(fmt.Sprintf("client %d", id)))
	if parent != 0 {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(parent))
		if err := xproto.ChangePropertyChecked(x.c, xproto.PropModeReplace, win, xproto.AtomWmTransientFor,
			xproto.AtomWindow, 32, 1, b[:]).Check(); err != nil {
			return 0, err
		}
	}
	return win, xproto.MapWindowChecked(x.c, win).Check()
}

func (x *xclient) prop(win xproto.Window, name, typ string, data []byte) {
	xproto.ChangeProperty(x.c, xproto.PropModeReplace, win, x.atom(name), x.atom(typ), 8, uint32(len(data)), data)
}

func (x *xclient) atom(name string) xproto.Atom {
	r, err := xproto.InternAtom(x.c, false, uint16(len(name)), name).Reply()
	if err != nil {
		return xproto.AtomNone
	}
	return r.Atom
}

// sync waits until the server has done every request sent so far.
func (x *xclient) sync() { _, _ = xproto.GetInputFocus(x.c).Reply() }

func (x *xclient) fill(win xproto.Window, rgb uint32, px, py, w, h int) {
	xproto.ChangeGC(x.c, x.gc, xproto.GcForeground, []uint32{rgb})
	xproto.PolyFillRectangle(x.c, xproto.Drawable(win), x.gc,
		[]xproto.Rectangle{{X: int16(px), Y: int16(py), Width: uint16(w), Height: uint16(h)}})
}

// drawPattern puts the pattern into a rectangle of win, clipped to its size.
func (x *xclient) drawPattern(win xproto.Window, x0, y0, w, h int) {
	x.mu.Lock()
	sz, id := x.size[win], x.ids[win]
	x.mu.Unlock()
	w, h = min(w, sz[0]-x0), min(h, sz[1]-y0)
	if w <= 0 || h <= 0 {
		return
	}
	// Stay well under the core protocol's 256 KiB request limit.
	rows := max(1, 60000/(w*4))
	for y := y0; y < y0+h; y += rows {
		n := min(rows, y0+h-y)
		data := make([]byte, 0, w*n*4)
		for yy := y; yy < y+n; yy++ {
			for xx := x0; xx < x0+w; xx++ {
				data = binary.LittleEndian.AppendUint32(data, pattern(id, xx, yy))
			}
		}
		xproto.PutImage(x.c, xproto.ImageFormatZPixmap, xproto.Drawable(win), x.gc,
			uint16(w), uint16(n), int16(x0), int16(y), 0, 24, data)
	}
	x.sync()
}
