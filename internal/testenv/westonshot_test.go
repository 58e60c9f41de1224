package testenv_test

import (
	"encoding/binary"
	"image"
	"image/color"
	"testing"

	"github.com/qube-desktop/qube-desktop/compositor/wayland"
	"github.com/qube-desktop/qube-desktop/internal/testenv"
)

// An XRGB8888 surface whose padding bytes are 0 (as Xvfb's are) must show
// its exact colours in a weston screenshot, and the shot must be opaque.
func TestWestonScreenshotXRGBZeroPadding(t *testing.T) {
	comp := testenv.StartWeston(t, 320, 240)
	c, err := wayland.Connect(comp.SocketPath())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	wc, shm, wm := new(wayland.WlCompositor), new(wayland.WlShm), new(wayland.XdgWmBase)
	must(t, c.Bind(wc, 4))
	must(t, c.Bind(shm, 1))
	must(t, c.Bind(wm, 1))
	wm.OnPing = func(ev wayland.XdgWmBasePingEvent) { _ = wm.Pong(ev.Serial) }

	// Four quadrants, each with padding byte 0.
	const w, h = 64, 48
	quad := [4]uint32{0x00c01020, 0x0030d040, 0x005060e0, 0x00f0a000}
	mem, err := wayland.NewMemfd("xrgb", 4*w*h)
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	for y := range h {
		for x := range w {
			q := 2*(y/(h/2)) + x/(w/2)
			binary.LittleEndian.PutUint32(mem.Data[4*(y*w+x):], quad[q])
		}
	}
	pool, err := shm.CreatePool(int(mem.File.Fd()), 4*w*h)
	must(t, err)
	buf, err := wayland.NewBuffer(pool, 0, w, h, 4*w, wayland.WlShmFormatXrgb8888)
	must(t, err)
	surf, err := wc.CreateSurface()
	must(t, err)
	xs, err := wm.GetXdgSurface(surf)
	must(t, err)
	_, err = xs.GetToplevel()
	must(t, err)
	configured := false
	xs.OnConfigure = func(ev wayland.XdgSurfaceConfigureEvent) { _ = xs.AckConfigure(ev.Serial); configured = true }
	must(t, surf.Commit())
	for !configured {
		must(t, c.Roundtrip())
	}
	drawn := false
	cb, err := surf.Frame()
	must(t, err)
	cb.OnDone = func(wayland.WlCallbackDoneEvent) { drawn = true }
	must(t, buf.Attach(surf))
	must(t, surf.DamageBuffer(0, 0, w, h))
	must(t, surf.Commit())
	for !drawn {
		must(t, c.Roundtrip())
	}

	img := comp.Screenshot(t)
	if got := img.Bounds(); got != image.Rect(0, 0, 320, 240) {
		t.Fatalf("screenshot is %v, want 320x240", got)
	}
	rgba := func(p uint32) color.RGBA { return color.RGBA{uint8(p >> 16), uint8(p >> 8), uint8(p), 0xff} }
	at := func(x, y int) color.RGBA { return color.RGBAModel.Convert(img.At(x, y)).(color.RGBA) }
	// weston places windows at random: find the top-left quadrant's corner.
	origin := image.Pt(-1, -1)
	for y := 0; y < 240 && origin.X < 0; y++ {
		for x := range 320 {
			if at(x, y) == rgba(quad[0]) {
				origin = image.Pt(x, y)
				break
			}
		}
	}
	if origin.X < 0 {
		t.Fatalf("no pixel of the surface's colour %v in the screenshot; (0,0) is %v", rgba(quad[0]), at(0, 0))
	}
	bad := 0
	for y := range h {
		for x := range w {
			want := rgba(quad[2*(y/(h/2))+x/(w/2)])
			if got := at(origin.X+x, origin.Y+y); got != want && bad < 5 {
				t.Errorf("surface pixel (%d,%d) at %v: got %v, want %v", x, y, origin, got, want)
				bad++
			}
		}
	}
	// Outside the surface: weston's background #204060, opaque.
	if got, want := at(0, 0), (color.RGBA{0x20, 0x40, 0x60, 0xff}); !origin.Eq(image.Pt(0, 0)) && got != want {
		t.Errorf("background pixel (0,0): got %v, want %v", got, want)
	}
	for y := range 240 {
		for x := range 320 {
			if a := at(x, y).A; a != 0xff {
				t.Fatalf("pixel (%d,%d) has alpha %d, want an opaque screenshot", x, y, a)
			}
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
