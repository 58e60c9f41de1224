package agent

import (
	"testing"
	"time"

	"github.com/qube-desktop/qube-desktop/internal/testenv"
	"github.com/qube-desktop/qube-desktop/internal/transport"
)

// BenchmarkCapture measures one capture of a 1920x1080 window, fully and
// for a 200x40 damage (typing), through MIT-SHM into the region and through
// GetImage plus a copy.
//
//	go test ./agent -run '^$' -bench Capture -count 5
func BenchmarkCapture(b *testing.B) {
	xv := testenv.StartXvfb(b, 1920, 1080)
	for _, mode := range []string{"shm", "getimage"} {
		x, err := OpenX(xv.Display)
		if err != nil {
			b.Fatal(err)
		}
		region, err := transport.CreateRegion("bench", 1920*1080*4)
		if err != nil {
			b.Fatal(err)
		}
		if mode == "shm" {
			if err := x.AttachRegion(region); err != nil {
				b.Fatal(err)
			}
		}
		win := benchWindow(b, x, xv.Display)
		mem, _ := region.Slice(0, 1920*1080*4)
		buf := &Buffer{Off: 0, W: 1920, H: 1080, Mem: mem}
		for _, c := range []struct {
			name string
			r    Rect
		}{{"full1920x1080", Rect{0, 0, 1920, 1080}}, {"damage200x40", Rect{300, 500, 200, 40}}} {
			b.Run(mode+"/"+c.name, func(b *testing.B) {
				b.SetBytes(int64(c.r.W * c.r.H * 4))
				for b.Loop() {
					if _, err := x.Capture(win, buf, c.r); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		x.Close()
		region.Close()
	}
}

// benchWindow maps a full-screen window from a second connection and
// returns the agent's view of it.
func benchWindow(b *testing.B, x *X, display string) *Window {
	tc := newTestClient(b, display, 0, 0, 1920, 1080, false)
	tc.mapAndDraw()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		ev, _ := x.NextEvent()
		for _, c := range x.Handle(ev) {
			if m, ok := c.(Mapped); ok && m.W.ID == tc.win {
				return m.W
			}
		}
	}
	b.Fatal("benchmark window never mapped")
	return nil
}
