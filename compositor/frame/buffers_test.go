package frame

import (
	"testing"

	"github.com/qube-desktop/qube-desktop/compositor/wayland"
	"github.com/qube-desktop/qube-desktop/internal/testenv"
)

// TestRedrawNeverReusesBusyBuffers runs on sway, whose pixman renderer
// keeps the last buffer past the frame callback: every redraw must pick a
// buffer the compositor released, or a new one.
func TestRedrawNeverReusesBusyBuffers(t *testing.T) {
	comp := testenv.StartSway(t, 640, 480)
	c, err := wayland.Connect(comp.SocketPath())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	g, err := BindGlobals(c)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWindow(g, Options{Style: Style{Border: 2, Label: red()}, Title: "[t] t", ContentW: 50, ContentH: 40})
	if err != nil {
		t.Fatal(err)
	}
	for !w.configured {
		if err := c.Roundtrip(); err != nil {
			t.Fatal(err)
		}
	}
	busy := func() int {
		n := 0
		for _, fb := range w.painter.buffers {
			if fb.buf.Busy() {
				n++
			}
		}
		return n
	}
	heldByCompositor := false
	for i := range 12 {
		before := busy()
		if before > 0 {
			heldByCompositor = true
		}
		if err := w.Redraw(); err != nil {
			t.Fatal(err)
		}
		if after := busy(); after != before+1 {
			t.Fatalf("redraw %d: %d busy buffers before, %d after: a busy buffer was reused", i, before, after)
		}
		if i%2 == 0 {
			if err := c.Roundtrip(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if !heldByCompositor {
		t.Error("sway released every buffer at once; this test no longer tests reuse")
	}
	if len(w.painter.buffers) > maxPainterBuffers {
		t.Errorf("%d frame buffers allocated", len(w.painter.buffers))
	}
}
