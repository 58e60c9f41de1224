package e2e

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"syscall"
	"testing"

	"github.com/qube-desktop/qube-desktop/internal/testenv"
)

func writePNG(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
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

const (
	border      = 2
	titleBar    = 20
	popupBorder = 2
)

// TestWindowPath drives a qube's X client through qube-agent and
// qube-guid onto weston and onto sway and checks the screen pixel by
// pixel: the framed window, a damage-only update, a menu as a framed
// popup, a guid restart and an agent that dies. weston places windows
// anywhere and the guid draws a title bar there; sway tiles the window
// over the output and decorates nothing.
func TestWindowPath(t *testing.T) {
	for _, k := range []struct {
		name  string
		start func(testing.TB, int, int) *testenv.Compositor
		top   int // frame height above the content
	}{
		{"weston", testenv.StartWeston, border + titleBar},
		{"sway", testenv.StartSway, border},
	} {
		t.Run(k.name, func(t *testing.T) {
			comp := k.start(t, 800, 600)
			windowPath(t, comp, k.top)
		})
	}
}

// geom returns the X window's root position and size.
func geom(t *testing.T, c *client, id int) (x, y, w, h int) {
	t.Helper()
	var n int
	if _, err := fmt.Sscanf(c.do(fmt.Sprintf("geom %d", id), "geom"), "geom %d %d %d %d %d", &n, &x, &y, &w, &h); err != nil {
		t.Fatal(err)
	}
	return
}

func windowPath(t *testing.T, comp *testenv.Compositor, top int) {
	s := newStack(t, comp, 800, 600)
	s.startAgent()
	s.startGuid()
	c := s.startClient()

	c.do("window 1 100 80 300 200", "mapped 1")
	// The daemon may resize the window (sway tiles it); the client redraws
	// its pattern at the new size.
	var at image.Point
	var wx, wy, w, h int
	img := waitFor(t, comp, "the client's window", func(img image.Image) bool {
		wx, wy, w, h = geom(t, c, 1)
		var ok bool
		at, ok = locate(img, pat(1), w, h)
		return ok
	})
	savePNG(t, img, "window")
	if err := frameIs(img, at, w, h, border, top); err != nil {
		t.Fatal(err)
	}

	// A damage-only update: the agent copies only the filled rectangle and
	// the rest of the window keeps its pixels.
	const fx, fy, fw, fh = 40, 30, 200, 40
	orange := color.RGBA{0xff, 0x80, 0x00, 0xff}
	c.do(fmt.Sprintf("fill 1 %d %d %d %d ff8000", fx, fy, fw, fh), "ok")
	damaged := func(x, y int) color.RGBA {
		if x >= fx && x < fx+fw && y >= fy && y < fy+fh {
			return orange
		}
		return pat(1)(x, y)
	}
	img = waitFor(t, comp, "the damaged rectangle", func(img image.Image) bool {
		return contentIs(img, at, damaged, w, h) == nil
	})
	if err := frameIs(img, at, w, h, border, top); err != nil {
		t.Fatal(err)
	}

	// A menu: an override-redirect window transient for the window opens as
	// a popup at its place, with a 2-px frame.
	const mx, my, mw, mh = 50, 60, 120, 80
	c.do(fmt.Sprintf("menu 2 1 %d %d %d %d", wx+mx, wy+my, mw, mh), "mapped 2")
	var mat image.Point
	img = waitFor(t, comp, "the menu", func(img image.Image) bool {
		var ok bool
		mat, ok = locate(img, pat(2), mw, mh)
		return ok
	})
	savePNG(t, img, "menu")
	if want := at.Add(image.Pt(mx, my)); mat != want {
		t.Errorf("menu content at %v, want %v (the window's content + %d,%d)", mat, want, mx, my)
	}
	if err := frameIs(img, mat, mw, mh, popupBorder, popupBorder); err != nil {
		t.Error(err)
	}
	if got := rgb(img.At(mat.X-popupBorder-1, mat.Y-popupBorder-1)); got == label {
		t.Errorf("the menu's frame is wider than %d px", popupBorder)
	}

	// A killed daemon takes the windows with it; a new one gets every
	// window back from the agent's replay, pixels and all.
	s.guid.stop(syscall.SIGKILL)
	waitFor(t, comp, "the windows gone after the guid died", func(img image.Image) bool {
		return count(img, label) == 0
	})
	s.startGuid()
	var at2, mat2 image.Point
	img = waitFor(t, comp, "both windows after the guid restarted", func(img image.Image) bool {
		var ok1, ok2 bool
		mat2, ok2 = locate(img, pat(2), mw, mh)
		at2, ok1 = locate(img, func(x, y int) color.RGBA {
			if x >= mx-popupBorder && x < mx+mw+popupBorder && y >= my-popupBorder {
				return anyColour // under the menu, wherever below its place it is
			}
			return damaged(x, y)
		}, w, h)
		return ok1 && ok2
	})
	savePNG(t, img, "restarted")
	if err := frameIs(img, at2, w, h, border, top); err != nil {
		t.Error(err)
	}
	if err := frameIs(img, mat2, mw, mh, popupBorder, popupBorder); err != nil {
		t.Error(err)
	}
	if want := at2.Add(image.Pt(mx, my)); mat2 != want {
		x1, y1, _, _ := geom(t, c, 1)
		x2, y2, _, _ := geom(t, c, 2)
		t.Errorf("after the restart the menu's content is at %v, want %v (the window's content + %d,%d); "+
			"in X the window is at %d,%d and the menu at %d,%d", mat2, want, mx, my, x1, y1, x2, y2)
	}

	// A dead agent: the daemon ends the session and destroys the windows.
	s.agent.stop(syscall.SIGKILL)
	img = waitFor(t, comp, "the windows gone after the agent died", func(img image.Image) bool {
		return count(img, label) == 0
	})
	if _, ok := locate(img, pat(1), 8, 8); ok {
		t.Error("the window's pixels stayed on screen after the agent died")
	}
}
