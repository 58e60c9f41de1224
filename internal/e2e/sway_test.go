package e2e

import (
	"fmt"
	"image"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/qube-desktop/qube-desktop/internal/testenv"
)

// TestTitlesAndInputOnSway: titles reach sway's tree as "[qube] title",
// and a click and a key made on the host (wlroots virtual pointer and
// keyboard) reach the X client at the right place.
func TestTitlesAndInputOnSway(t *testing.T) {
	const outW, outH = 800, 600
	comp := testenv.StartSway(t, outW, outH)
	s := newStack(t, comp, outW, outH)
	s.startAgent()
	s.startGuid()
	c := s.startClient()
	c.do("window 1 0 0 300 200", "mapped 1")

	// sway tiles the window over the output; the daemon configures the X
	// window to the content size (the output less the 2-px frame) and the
	// client redraws its pattern at that size.
	const w, h = outW - 2*border, outH - 2*border
	deadline := time.Now().Add(20 * time.Second)
	for g := c.do("geom 1", "geom 1"); !strings.HasSuffix(g, fmt.Sprintf(" %d %d", w, h)); g = c.do("geom 1", "geom 1") {
		if time.Now().After(deadline) {
			t.Fatalf("the X window was not resized to sway's tile: %s", g)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var at image.Point
	img := waitFor(t, comp, "the tiled window", func(img image.Image) bool {
		var ok bool
		at, ok = locate(img, pat(1), w, h)
		return ok
	})
	savePNG(t, img, "tiled")
	if err := frameIs(img, at, w, h, border, border); err != nil {
		t.Error(err)
	}

	c.do("title 1 Hello e2e", "ok")
	waitView(t, comp, "work:E2EClient", "[work] Hello e2e")

	v := testenv.VirtualInput(t, comp)
	c.pointAt(v, at.Add(image.Pt(10, 7)), "motion 1 10 7")
	v.Click(btnLeft)
	if got := c.expect("button", 10*time.Second); got != "button 1 1 10 7" {
		t.Errorf("X client got %q, want a button-1 press at 10,7", got)
	}
	v.Tap(keyA)
	// X keycodes are evdev codes + 8.
	if got := c.expect("key", 10*time.Second); !strings.HasPrefix(got, fmt.Sprintf("key 1 %d ", keyA+8)) {
		t.Errorf("X client got %q, want keycode %d", got, keyA+8)
	}

	// A real X application: xterm's title and class.
	testenv.NeedCommands(t, "xterm")
	xt := exec.Command("xterm", "-T", "e2e xterm", "-geometry", "40x10+0+0")
	xt.Env = s.x.Env()
	start(t, "xterm", xt)
	waitView(t, comp, "work:XTerm", "[work] e2e xterm")
}

// pointAt moves the pointer to p until the X client reports the motion
// want. The guid asks for its wl_pointer only when sway announces the
// virtual pointer's seat capability: a click sent before that is lost.
func (c *client) pointAt(v *testenv.VInput, p image.Point, want string) {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var seen []string
	for {
		// From one pixel off, so that every round is a motion.
		v.MoveTo(p.X+1, p.Y)
		v.MoveTo(p.X, p.Y)
		wait := time.After(500 * time.Millisecond)
	round:
		for {
			select {
			case l, ok := <-c.lines:
				if !ok {
					c.t.Fatalf("xclient exited while waiting for %q (saw %q)", want, seen)
				}
				if l == want {
					return
				}
				seen = append(seen, l)
			case <-wait:
				break round
			}
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("xclient: no %q within 20s (saw %q)", want, seen)
		}
	}
}

// waitView waits until sway shows a view with this app_id and title.
func waitView(t *testing.T, comp *testenv.Compositor, appID, title string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		views := comp.SwayTitles(t)
		if views[appID] == title {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("sway has no view %s titled %q: %q", appID, title, views)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

const (
	btnLeft = 0x110 // linux/input-event-codes.h
	keyA    = 30
)
