package frame_test

import (
	"image"
	"testing"
	"time"

	"github.com/qube-desktop/qube-desktop/compositor/wayland"
	"github.com/qube-desktop/qube-desktop/internal/testenv"
)

const (
	btnLeft = 0x110 // linux/input-event-codes.h
	keyA    = 30
)

// TestSeatInputOnSway injects input with wlroots' virtual pointer and
// keyboard (testenv.VirtualInput) and checks the
// window's wl_pointer and wl_keyboard decode it: pointer coordinates are
// relative to the content subsurface, keyboard focus is the frame surface.
func TestSeatInputOnSway(t *testing.T) {
	comp := testenv.StartSway(t, 800, 600)
	c, w := showWindow(t, comp)
	_, at := findContent(t, comp, c)

	seat := new(wayland.WlSeat)
	if err := c.Bind(seat, 5); err != nil {
		t.Fatal(err)
	}
	var pointer *wayland.WlPointer
	var keyboard *wayland.WlKeyboard
	type ptrEnter struct {
		s    *wayland.WlSurface
		x, y float64
	}
	var enters []ptrEnter
	var buttons []wayland.WlPointerButtonEvent
	var keyFocus *wayland.WlSurface
	var keys []wayland.WlKeyboardKeyEvent
	var keymapSize uint32
	seat.OnCapabilities = func(ev wayland.WlSeatCapabilitiesEvent) {
		var err error
		if ev.Capabilities&wayland.WlSeatCapabilityPointer != 0 && pointer == nil {
			if pointer, err = seat.GetPointer(); err != nil {
				t.Error(err)
				return
			}
			pointer.OnEnter = func(ev wayland.WlPointerEnterEvent) {
				enters = append(enters, ptrEnter{ev.Surface, ev.SurfaceX.Float(), ev.SurfaceY.Float()})
			}
			pointer.OnButton = func(ev wayland.WlPointerButtonEvent) { buttons = append(buttons, ev) }
		}
		if ev.Capabilities&wayland.WlSeatCapabilityKeyboard != 0 && keyboard == nil {
			if keyboard, err = seat.GetKeyboard(); err != nil {
				t.Error(err)
				return
			}
			keyboard.OnKeymap = func(ev wayland.WlKeyboardKeymapEvent) {
				keymapSize = ev.Size
				ev.Fd.Close()
			}
			keyboard.OnEnter = func(ev wayland.WlKeyboardEnterEvent) { keyFocus = ev.Surface }
			keyboard.OnKey = func(ev wayland.WlKeyboardKeyEvent) { keys = append(keys, ev) }
		}
	}

	in := testenv.VirtualInput(t, comp)
	roundtripUntil(t, c, func() bool { return pointer != nil && keyboard != nil })

	target := at.Add(image.Pt(10, 7))
	in.MoveTo(target.X, target.Y)
	in.Click(btnLeft)
	in.Tap(keyA)
	roundtripUntil(t, c, func() bool { return len(buttons) >= 2 && len(keys) >= 2 })

	if len(enters) == 0 || enters[0].s != w.Content {
		t.Fatalf("pointer entered %+v, want the content subsurface", enters)
	}
	// Pixel centres: the cursor at integer layout coordinates is at x+0 or x+0.5.
	if x, y := enters[0].x, enters[0].y; x < 10 || x >= 11 || y < 7 || y >= 8 {
		t.Errorf("pointer entered content at %.2f,%.2f, want 10,7", x, y)
	}
	if buttons[0].Button != btnLeft || buttons[0].State != wayland.WlPointerButtonStatePressed ||
		buttons[1].State != wayland.WlPointerButtonStateReleased {
		t.Errorf("buttons %+v", buttons)
	}
	if keyFocus != w.Surface {
		t.Errorf("keyboard focus on %v, want the frame surface %v", keyFocus, w.Surface)
	}
	if keymapSize == 0 {
		t.Error("no keymap before keys")
	}
	if keys[0].Key != keyA || keys[0].State != wayland.WlKeyboardKeyStatePressed ||
		keys[1].Key != keyA || keys[1].State != wayland.WlKeyboardKeyStateReleased {
		t.Errorf("keys %+v", keys)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func roundtripUntil(t *testing.T, c *wayland.Client, done func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !done() {
		if time.Now().After(deadline) {
			t.Fatal("expected events did not arrive within 10 s")
		}
		must(t, c.Roundtrip())
		time.Sleep(10 * time.Millisecond)
	}
}
