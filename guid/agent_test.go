package guid_test

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/qube-desktop/qube-desktop/guid"
	"github.com/qube-desktop/qube-desktop/internal/guiproto"
	"github.com/qube-desktop/qube-desktop/internal/qube"
	"github.com/qube-desktop/qube-desktop/internal/testenv"
	"github.com/qube-desktop/qube-desktop/internal/transport"
)

// pattern gives a window's pixel at (x, y).
type pattern func(x, y int) color.RGBA

// topPixel and popupPixel differ from each other, from the label colours
// and from their neighbours, so an exact match pins position and bytes.
func topPixel(x, y int) color.RGBA {
	return color.RGBA{uint8(x), uint8(y), uint8(0x40 + (x+y)%64), 0xff}
}

func popupPixel(x, y int) color.RGBA {
	return color.RGBA{uint8(3 * x), uint8(5 * y), 0xee, 0xff}
}

func solid(c color.RGBA) pattern { return func(int, int) color.RGBA { return c } }

var (
	blue  = qube.Labels[5].Color() // the "work" qube's label
	green = color.RGBA{0, 0xff, 0, 0xff}
)

// scriptAgent is an agent written for the tests: it listens on the unix
// socket, speaks the protocol with guiproto's encoders and paints into a
// region memfd. It follows the daemon's configures with a new dump.
type scriptAgent struct {
	t      testing.TB
	l      *transport.Listener
	path   string
	region *transport.Region
	alloc  *transport.PageAllocator

	mu     sync.Mutex // serialises writes, wins and the region's end
	closed bool
	conn   net.Conn
	wins   map[uint32]*agentWin
	in     chan received
}

type agentWin struct {
	x, y int32
	w, h uint32
	pat  pattern
}

type received struct {
	h guiproto.Header
	m guiproto.Message
}

const regionBytes = 64 << 20

func newAgent(t testing.TB) *scriptAgent {
	dir, err := os.MkdirTemp("", "guid-agent-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	a := &scriptAgent{t: t, path: filepath.Join(dir, "gui.sock"), wins: map[uint32]*agentWin{}}
	if a.l, err = transport.Listen(a.path); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.l.Close() })
	if a.region, err = transport.CreateRegion("qube-work", regionBytes); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a.mu.Lock()
		a.closed = true // the reader goroutine may still follow a configure
		a.mu.Unlock()
		a.region.Close()
	})
	a.alloc = transport.NewPageAllocator(a.region.Size())
	return a
}

// guidRegion opens the region as the daemon gets it: its own descriptor.
func (a *scriptAgent) guidRegion() *transport.Region {
	fd, err := unix.Dup(int(a.region.File().Fd()))
	if err != nil {
		a.t.Fatal(err)
	}
	r, err := transport.OpenRegion(os.NewFile(uintptr(fd), "region"))
	if err != nil {
		a.t.Fatal(err)
	}
	return r
}

// accept waits for the daemon and runs the handshake.
func (a *scriptAgent) accept() {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := a.l.Accept(ctx)
	if err != nil {
		a.t.Fatal(err)
	}
	v, _, err := guiproto.AgentHandshake(conn, guiproto.ProtocolVersion)
	if err != nil {
		a.t.Fatal(err)
	}
	a.mu.Lock()
	a.conn, a.wins = conn, map[uint32]*agentWin{}
	a.mu.Unlock()
	in := make(chan received, 4096)
	a.in = in
	a.t.Cleanup(func() { conn.Close() })
	go func() {
		defer close(in)
		for {
			m, h, err := guiproto.ReadFromDaemon(conn, v)
			if err != nil {
				return
			}
			if c, ok := m.(guiproto.Configure); ok {
				a.followConfigure(h.Window, c)
			}
			in <- received{h, m}
		}
	}()
}

// followConfigure acks the daemon's size and redraws at it, as an X
// application does.
func (a *scriptAgent) followConfigure(id uint32, c guiproto.Configure) {
	a.mu.Lock()
	defer a.mu.Unlock()
	w := a.wins[id]
	if w == nil {
		return
	}
	w.x, w.y, w.w, w.h = c.X, c.Y, c.Width, c.Height
	a.sendLocked(id, guiproto.Configure{X: c.X, Y: c.Y, Width: c.Width, Height: c.Height})
	a.dumpLocked(id, w.w, w.h, w.pat)
}

func (a *scriptAgent) send(id uint32, msgs ...guiproto.Message) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, m := range msgs {
		if _, ok := m.(guiproto.Destroy); ok {
			// Until the ack, the daemon's messages for it are ignored.
			delete(a.wins, id)
		}
		a.sendLocked(id, m)
	}
}

func (a *scriptAgent) sendLocked(id uint32, m guiproto.Message) {
	// Errors show up as a closed connection in the test's expectations.
	_ = guiproto.WriteMessage(a.conn, id, m)
}

// dumpLocked paints a new iw×ih buffer with pat and announces it.
func (a *scriptAgent) dumpLocked(id, iw, ih uint32, pat pattern) {
	if a.closed {
		return
	}
	off, err := a.alloc.Alloc(uint64(iw) * uint64(ih) * 4)
	if err != nil {
		a.t.Error(err)
		return
	}
	pix, _ := a.region.Slice(off, uint64(iw)*uint64(ih)*4)
	for y := range int(ih) {
		for x := range int(iw) {
			c := pat(x, y)
			i := 4 * (y*int(iw) + x)
			pix[i], pix[i+1], pix[i+2], pix[i+3] = c.B, c.G, c.R, 0xff
		}
	}
	a.sendLocked(id, guiproto.WindowDump{Kind: guiproto.DumpRegion, Width: iw, Height: ih, BPP: 24,
		Region: guiproto.RegionBuffer{Offset: off, Stride: 4 * iw}})
	a.sendLocked(id, guiproto.ShmImage{Width: iw, Height: ih})
}

// dump shows an image of any size in window id.
func (a *scriptAgent) dump(id, iw, ih uint32, pat pattern) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if w := a.wins[id]; w != nil {
		w.pat = pat
	}
	a.dumpLocked(id, iw, ih, pat)
}

type winSpec struct {
	x, y         int32
	w, h         uint32
	or           bool
	transientFor uint32
	title, class string
	pat          pattern
}

// create sends what the Linux agent sends for a new window (spec §1.4).
func (a *scriptAgent) create(id uint32, s winSpec) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.wins[id] = &agentWin{x: s.x, y: s.y, w: s.w, h: s.h, pat: s.pat}
	a.sendLocked(id, guiproto.Create{X: s.x, Y: s.y, Width: s.w, Height: s.h, OverrideRedirect: s.or})
	a.sendLocked(id, guiproto.Configure{X: s.x, Y: s.y, Width: s.w, Height: s.h})
	a.dumpLocked(id, s.w, s.h, s.pat)
	a.sendLocked(id, guiproto.WMClass{Class: s.class, Name: strings.ToLower(s.class)})
	a.sendLocked(id, guiproto.MapInfo{TransientFor: s.transientFor, OverrideRedirect: s.or})
	a.sendLocked(id, guiproto.WMName{Title: s.title})
	a.sendLocked(id, guiproto.ShmImage{Width: s.w, Height: s.h})
}

// expect waits for a message from the daemon that match accepts.
func (a *scriptAgent) expect(what string, match func(received) bool) received {
	a.t.Helper()
	timeout := time.After(10 * time.Second)
	var seen []string
	for {
		select {
		case r, ok := <-a.in:
			if !ok {
				a.t.Fatalf("daemon hung up while the agent waited for %s; got %v", what, seen)
			}
			if match(r) {
				return r
			}
			seen = append(seen, fmt.Sprintf("%s %#x %+v", r.h.Type, r.h.Window, r.m))
		case <-timeout:
			a.t.Fatalf("no %s from the daemon within 10 s; got %v", what, seen)
		}
	}
}

// expectHangup waits for the daemon to end the session.
func (a *scriptAgent) expectHangup() {
	a.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-a.in:
			if !ok {
				return
			}
		case <-timeout:
			a.t.Fatal("the daemon did not end the session")
		}
	}
}

// quiet asserts that nothing matching arrives for d.
func (a *scriptAgent) quiet(d time.Duration, what string, match func(received) bool) {
	a.t.Helper()
	timeout := time.After(d)
	for {
		select {
		case r, ok := <-a.in:
			if ok && match(r) {
				a.t.Fatalf("%s reached the agent: %s %+v", what, r.h.Type, r.m)
			}
		case <-timeout:
			return
		}
	}
}

// startGuid runs the daemon in-process for comp's display.
func startGuid(t testing.TB, comp *testenv.Compositor, a *scriptAgent, o guid.Options) *testenv.LogBuffer {
	lb := &testenv.LogBuffer{}
	o.Qube, o.Socket, o.Display = "work", a.path, comp.SocketPath()
	o.Region = a.guidRegion()
	o.Log = log.New(lb, "", 0)
	if o.Style.Label == (color.RGBA{}) {
		o.Style = guid.DisplayOptions{Label: blue, Border: 2, TitleBar: 20}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- guid.Run(ctx, o) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && ctx.Err() == nil {
			t.Errorf("guid.Run: %v", err)
		}
		o.Region.Close()
		t.Logf("guid log:\n%s", lb)
	})
	return lb
}

func rgb(c color.Color) color.RGBA {
	r, g, b, _ := c.RGBA()
	return color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 0xff}
}

// find waits until w×h pixels of pat show on screen and returns the
// screenshot and their top-left corner.
func find(t *testing.T, comp *testenv.Compositor, pat pattern, w, h int) (image.Image, image.Point) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		img := comp.Screenshot(t)
		if at, ok := locate(img, pat, w, h); ok {
			return img, at
		}
		time.Sleep(50 * time.Millisecond)
	}
	if f, err := os.Create(filepath.Join(os.TempDir(), "guid-fail.png")); err == nil {
		_ = png.Encode(f, comp.Screenshot(t))
		f.Close()
	}
	t.Fatalf("%dx%d content never appeared on screen (screenshot in %s)", w, h, filepath.Join(os.TempDir(), "guid-fail.png"))
	return nil, image.Point{}
}

func locate(img image.Image, pat pattern, w, h int) (image.Point, bool) {
	b := img.Bounds()
	for y := b.Min.Y; y <= b.Max.Y-h; y++ {
		for x := b.Min.X; x <= b.Max.X-w; x++ {
			if rgb(img.At(x, y)) == pat(0, 0) && rgb(img.At(x+1, y+1)) == pat(1, 1) && rgb(img.At(x+w-1, y+h-1)) == pat(w-1, h-1) {
				return image.Pt(x, y), true
			}
		}
	}
	return image.Point{}, false
}

// checkContent asserts every content pixel.
func checkContent(t *testing.T, img image.Image, at image.Point, pat pattern, w, h int) {
	t.Helper()
	for y := range h {
		for x := range w {
			if got, want := rgb(img.At(at.X+x, at.Y+y)), pat(x, y); got != want {
				t.Fatalf("content pixel (%d,%d) is %v, want %v", x, y, got, want)
			}
		}
	}
}

// checkFrame asserts the label colour on all four sides of the content:
// border pixels wide, plus top extra pixels above (a title bar).
func checkFrame(t *testing.T, img image.Image, at image.Point, w, h, border, top int, label color.RGBA) {
	t.Helper()
	sides := map[string]image.Rectangle{
		"left":   image.Rect(at.X-border, at.Y-top, at.X, at.Y+h+border),
		"right":  image.Rect(at.X+w, at.Y-top, at.X+w+border, at.Y+h+border),
		"top":    image.Rect(at.X-border, at.Y-top, at.X+w+border, at.Y-top+border),
		"bottom": image.Rect(at.X-border, at.Y+h, at.X+w+border, at.Y+h+border),
	}
	for name, r := range sides {
		r = r.Intersect(img.Bounds())
		if r.Empty() {
			t.Fatalf("%s border is off screen", name)
		}
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				if got := rgb(img.At(x, y)); got != label {
					t.Fatalf("%s border pixel (%d,%d) is %v, want the label colour %v", name, x, y, got, label)
				}
			}
		}
	}
}

// count returns how many pixels of img have colour c.
func count(img image.Image, c color.RGBA) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if rgb(img.At(x, y)) == c {
				n++
			}
		}
	}
	return n
}

func isType(t guiproto.Type, window uint32) func(received) bool {
	return func(r received) bool { return r.h.Type == t && r.h.Window == window }
}
