package testenv

import (
	"testing"
	"time"

	"github.com/qube-desktop/qube-desktop/compositor/wayland"
	"github.com/qube-desktop/qube-desktop/compositor/wire"
)

// usKeymap is what the virtual keyboard types with, as setxkbmap -print
// gives it; libxkbcommon resolves the includes. Sway's headless seat has
// no keymap until a virtual keyboard uploads one.
const usKeymap = `xkb_keymap {
	xkb_keycodes  { include "evdev+aliases(qwerty)" };
	xkb_types     { include "complete" };
	xkb_compat    { include "complete" };
	xkb_symbols   { include "pc+us+inet(evdev)" };
};
`

// VInput is a host-side input device on a wlroots compositor: its virtual
// keyboard (zwp_virtual_keyboard_v1) and virtual pointer
// (zwlr_virtual_pointer_v1). Debian ships no XML for either, so they are
// encoded with wayland.Raw; the opcodes are those of the protocols' v1.
// Keys and buttons are evdev codes (linux/input-event-codes.h).
type VInput struct {
	t          testing.TB
	c          *wayland.Client
	ptr, kbd   *wayland.Raw
	outW, outH uint32
}

// VirtualInput connects to c (sway) as a client of its own, creates a
// virtual keyboard with a US keymap and a virtual pointer on its seat, and
// learns the output's size for absolute motion. A compositor without the
// protocols is Missing.
func VirtualInput(t testing.TB, c *Compositor) *VInput {
	t.Helper()
	cl, err := wayland.Connect(c.SocketPath())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	v := &VInput{t: t, c: cl}
	seat, output := new(wayland.WlSeat), new(wayland.WlOutput)
	v.must(cl.Bind(seat, 1))
	v.must(cl.Bind(output, 1))
	output.OnMode = func(ev wayland.WlOutputModeEvent) {
		if ev.Flags&wayland.WlOutputModeCurrent != 0 {
			v.outW, v.outH = uint32(ev.Width), uint32(ev.Height)
		}
	}

	vpm := &wayland.Raw{Name: "zwlr_virtual_pointer_manager_v1", Max: 1}
	if err := cl.Bind(vpm, 1); err != nil {
		Missing(t, "%s without virtual pointer: %v", c.Name, err)
	}
	v.ptr = &wayland.Raw{Name: "zwlr_virtual_pointer_v1", Max: 1}
	id, err := vpm.NewChild(v.ptr)
	v.must(err)
	// create_virtual_pointer(seat, id)
	v.must(vpm.Request(0, 1, false, func(b *wire.Builder) { b.Object(seat.ID()); b.Object(id) }))

	vkm := &wayland.Raw{Name: "zwp_virtual_keyboard_manager_v1", Max: 1}
	if err := cl.Bind(vkm, 1); err != nil {
		Missing(t, "%s without virtual keyboard: %v", c.Name, err)
	}
	v.kbd = &wayland.Raw{Name: "zwp_virtual_keyboard_v1", Max: 1}
	id, err = vkm.NewChild(v.kbd)
	v.must(err)
	// create_virtual_keyboard(seat, id)
	v.must(vkm.Request(0, 1, false, func(b *wire.Builder) { b.Object(seat.ID()); b.Object(id) }))
	km, err := wayland.NewMemfd("keymap", len(usKeymap)+1)
	v.must(err)
	defer km.Close()
	copy(km.Data, usKeymap)
	// keymap(format, fd, size): the size counts the terminating NUL.
	v.must(v.kbd.Request(0, 1, false, func(b *wire.Builder) {
		b.Uint(uint32(wayland.WlKeyboardKeymapFormatXkbV1))
		b.FD(int(km.File.Fd()))
		b.Uint(uint32(len(usKeymap) + 1))
	}))
	v.Sync()
	if v.outW == 0 || v.outH == 0 {
		t.Fatalf("%s's output has no current mode", c.Name)
	}
	return v
}

func (v *VInput) must(err error) {
	v.t.Helper()
	if err != nil {
		v.t.Fatal(err)
	}
}

func ms() uint32 { return uint32(time.Now().UnixMilli()) }

// Sync waits until the compositor has handled everything sent so far.
func (v *VInput) Sync() { v.must(v.c.Roundtrip()) }

// Key presses or releases an evdev key, without waiting. The compositor
// tracks no modifiers for a virtual keyboard: send them with Modifiers.
func (v *VInput) Key(evdev uint32, pressed bool) {
	v.must(v.kbd.Request(1, 1, false, func(b *wire.Builder) { // key(time, key, state)
		b.Uint(ms())
		b.Uint(evdev)
		b.Uint(state(pressed))
	}))
}

// Modifiers sets the depressed modifier mask (xkb: 1 Shift, 4 Control,
// 8 Mod1, 64 Mod4), without waiting.
func (v *VInput) Modifiers(depressed uint32) {
	v.must(v.kbd.Request(2, 1, false, func(b *wire.Builder) { // modifiers(depressed, latched, locked, group)
		b.Uint(depressed)
		b.Uint(0)
		b.Uint(0)
		b.Uint(0)
	}))
}

// Tap presses and releases an evdev key and waits for the compositor.
func (v *VInput) Tap(evdev uint32) {
	v.Key(evdev, true)
	v.Key(evdev, false)
	v.Sync()
}

// MoveTo puts the pointer at output coordinates x, y.
func (v *VInput) MoveTo(x, y int) {
	v.must(v.ptr.Request(1, 1, false, func(b *wire.Builder) { // motion_absolute(time, x, y, x_extent, y_extent)
		b.Uint(ms())
		b.Uint(uint32(x))
		b.Uint(uint32(y))
		b.Uint(v.outW)
		b.Uint(v.outH)
	}))
	v.frame()
}

// Button presses or releases an evdev button (0x110 BTN_LEFT).
func (v *VInput) Button(button uint32, pressed bool) {
	v.must(v.ptr.Request(2, 1, false, func(b *wire.Builder) { // button(time, button, state)
		b.Uint(ms())
		b.Uint(button)
		b.Uint(state(pressed))
	}))
	v.frame()
}

// Click presses and releases an evdev button.
func (v *VInput) Click(button uint32) {
	v.Button(button, true)
	v.Button(button, false)
}

// Wheel scrolls n detents of a mouse wheel on the vertical axis
// (positive: down), 15 units a detent as libinput reports them.
func (v *VInput) Wheel(n int) {
	v.must(v.ptr.Request(5, 1, false, func(b *wire.Builder) { // axis_source(source)
		b.Uint(uint32(wayland.WlPointerAxisSourceWheel))
	}))
	v.must(v.ptr.Request(7, 1, false, func(b *wire.Builder) { // axis_discrete(time, axis, value, discrete)
		b.Uint(ms())
		b.Uint(uint32(wayland.WlPointerAxisVerticalScroll))
		b.Fixed(wire.FixedFromInt(15 * n))
		b.Int(int32(n))
	}))
	v.frame()
}

// frame ends a pointer event group and waits for the compositor.
func (v *VInput) frame() {
	v.must(v.ptr.Request(4, 1, false, func(*wire.Builder) {}))
	v.Sync()
}

func state(pressed bool) uint32 {
	if pressed {
		return 1
	}
	return 0
}
