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

// TestWindowPathOnWeston drives a qube's X client through qube-agent and
// qube-guid onto weston and checks the screen pixel by pixel: the framed
// window, a damage-only update, a menu as a framed popup, a guid restart
// and an agent that dies.
func TestWindowPathOnWeston(t *testing.T) {
	comp := testenv.StartWeston(t, 1024, 768)
	s := newStack(t, comp, 1024, 768)
	s.startAgent()
	s.startGuid()
	c := s.startClient()

	const w, h = 300, 200
	c.do(fmt.Sprintf("window 1 100 80 %d %d", w, h), "mapped 1")
	var at image.Point
	img := waitFor(t, comp, "the client's window", func(img image.Image) bool {
		var ok bool
		at, ok = locate(img, pat(1), w, h)
		return ok
	})
	savePNG(t, img, "window")
	// weston draws no decorations: the guid's title bar is above the content.
	if err := frameIs(img, at, w, h, border, border+titleBar); err != nil {
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
	if err := frameIs(img, at, w, h, border, border+titleBar); err != nil {
		t.Fatal(err)
	}

	// A menu: an override-redirect window transient for the window opens as
	// a popup at its place, with a 2-px frame.
	const mx, my, mw, mh = 50, 30, 120, 80
	c.do(fmt.Sprintf("menu 2 1 %d %d %d %d", 100+mx, 80+my, mw, mh), "mapped 2")
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
		at2, ok1 = locate(img, damaged, w, h)
		mat2, ok2 = locate(img, pat(2), mw, mh)
		return ok1 && ok2
	})
	savePNG(t, img, "restarted")
	if err := frameIs(img, at2, w, h, border, border+titleBar); err != nil {
		t.Error(err)
	}
	if err := frameIs(img, mat2, mw, mh, popupBorder, popupBorder); err != nil {
		t.Error(err)
	}
	if want := at2.Add(image.Pt(mx, my)); mat2 != want {
		t.Errorf("after the restart the menu is at %v, want %v", mat2, want)
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
