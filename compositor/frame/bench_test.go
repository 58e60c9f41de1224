package frame_test

import (
	"image"
	"testing"

	"github.com/qube-desktop/qube-desktop/compositor/frame"
	"github.com/qube-desktop/qube-desktop/compositor/wayland"
	"github.com/qube-desktop/qube-desktop/internal/testenv"
)

// BenchmarkPaint paints the frame of a 1920x1080 window with a title bar.
func BenchmarkPaint(b *testing.B) {
	s := frame.Style{Border: 4, TitleBar: 18, Label: red}
	fw, fh := s.Size(1920, 1080)
	img, err := frame.NewXRGB(make([]byte, 4*fw*fh), fw, fh, 4*fw)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		frame.Paint(img, s, frame.Title("work", "Firefox — a page title of a usual length"))
	}
}

// BenchmarkContentUpdate measures one content update of a 1920x1080
// window on weston headless: attach + damage + commit of a buffer in a
// memfd pool, then a roundtrip, so the compositor has taken the update.
// No pixel is copied on the client side.
func BenchmarkContentUpdate(b *testing.B) {
	comp := testenv.StartWeston(b, 1920, 1200)
	c, err := wayland.Connect(comp.SocketPath())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	g, err := frame.BindGlobals(c)
	if err != nil {
		b.Fatal(err)
	}
	const w, h = 1920, 1080
	win, err := frame.NewWindow(g, frame.Options{Style: frame.Style{Border: 4, Label: red}, Title: "[b] b", ContentW: w, ContentH: h})
	if err != nil {
		b.Fatal(err)
	}
	mem, err := wayland.NewMemfd("region", 4*w*h)
	if err != nil {
		b.Fatal(err)
	}
	defer mem.Close()
	pool, err := g.Shm.CreatePool(int(mem.File.Fd()), 4*w*h)
	if err != nil {
		b.Fatal(err)
	}
	buf, err := wayland.NewBuffer(pool, 0, w, h, 4*w, wayland.WlShmFormatXrgb8888)
	if err != nil {
		b.Fatal(err)
	}
	for !win.Configured() {
		if err := c.Roundtrip(); err != nil {
			b.Fatal(err)
		}
	}
	for _, bc := range []struct {
		name   string
		damage image.Rectangle
	}{{"full", image.Rect(0, 0, w, h)}, {"64x16", image.Rect(100, 100, 164, 116)}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := win.SetContent(buf, bc.damage); err != nil {
					b.Fatal(err)
				}
				if err := c.Roundtrip(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
