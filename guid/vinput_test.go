package guid_test

import (
	"os"
	"testing"

	"github.com/qube-desktop/qube-desktop/compositor/wayland"
	"github.com/qube-desktop/qube-desktop/compositor/wire"
)

// vinput injects input into sway through the wlroots virtual-keyboard and
// virtual-pointer protocols. The generated bindings lack those two
// protocols, so this minimal client speaks them on the wire directly.
type vinput struct {
	t       *testing.T
	conn    *wire.Conn
	b       wire.Builder
	next    wire.ObjectID
	globals map[string]uint32 // interface -> global name
	kbd     wire.ObjectID
	ptr     wire.ObjectID
	outW    int
	outH    int
	clock   uint32
}

const (
	displayID  = 1
	registryID = 2
)

// keymap is what the virtual keyboard types with: a US layout.
const keymap = `xkb_keymap {
	xkb_keycodes { include "evdev" };
	xkb_types { include "complete" };
	xkb_compat { include "complete" };
	xkb_symbols { include "pc+us" };
};
`

func newVInput(t *testing.T, socket string, outW, outH int) *vinput {
	conn, err := wire.Dial(socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	v := &vinput{t: t, conn: conn, next: 3, globals: map[string]uint32{}, outW: outW, outH: outH}
	v.start(displayID, 1) // wl_display.get_registry
	v.b.Object(registryID)
	v.send()
	v.roundtrip()
	seat := v.bind("wl_seat", 1)
	kman := v.bind("zwp_virtual_keyboard_manager_v1", 1)
	pman := v.bind("zwlr_virtual_pointer_manager_v1", 1)

	v.kbd = v.newID()
	v.start(kman, 0) // create_virtual_keyboard(seat, id)
	v.b.Object(seat)
	v.b.Object(v.kbd)
	v.send()
	f, err := os.CreateTemp(t.TempDir(), "keymap")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(keymap + "\x00"); err != nil {
		t.Fatal(err)
	}
	v.start(v.kbd, 0) // keymap(format xkb_v1, fd, size)
	v.b.Uint(1)
	v.b.FD(int(f.Fd()))
	v.b.Uint(uint32(len(keymap) + 1))
	v.send()

	v.ptr = v.newID()
	v.start(pman, 0) // create_virtual_pointer(seat, id)
	v.b.Object(seat)
	v.b.Object(v.ptr)
	v.send()
	v.roundtrip()
	return v
}

func (v *vinput) newID() wire.ObjectID { id := v.next; v.next++; return id }

func (v *vinput) start(obj wire.ObjectID, op uint16) { v.b.Start(obj, op) }

func (v *vinput) send() {
	msg, fds, err := v.b.Finish()
	if err == nil {
		err = v.conn.WriteMessage(msg, fds)
	}
	if err != nil {
		v.t.Fatal(err)
	}
}

// roundtrip waits for wl_display.sync, collecting globals meanwhile.
func (v *vinput) roundtrip() {
	cb := v.newID()
	v.start(displayID, 0)
	v.b.Object(cb)
	v.send()
	for {
		m, err := v.conn.ReadMessage()
		if err != nil {
			v.t.Fatal(err)
		}
		for _, fd := range m.FDs {
			os.NewFile(uintptr(fd), "").Close()
		}
		d := wire.NewDecoder(m.Body, nil)
		switch {
		case m.Sender == cb && m.Opcode == 0:
			return
		case m.Sender == registryID && m.Opcode == 0:
			name, iface := d.Uint(), d.String(false)
			if _, ok := v.globals[iface]; !ok {
				v.globals[iface] = name
			}
		case m.Sender == displayID && m.Opcode == 0:
			_, code, msg := d.Object(false), d.Uint(), d.String(false)
			v.t.Fatalf("virtual input: protocol error %d: %s", code, msg)
		}
	}
}

func (v *vinput) bind(iface string, version uint32) wire.ObjectID {
	name, ok := v.globals[iface]
	if !ok {
		v.t.Fatalf("sway offers no %s", iface)
	}
	id := v.newID()
	v.start(registryID, 0)
	v.b.Uint(name)
	v.b.UntypedNewID(iface, version, id)
	v.send()
	return id
}

func (v *vinput) time() uint32 { v.clock += 10; return v.clock }

// key presses and releases an evdev key.
func (v *vinput) key(evdev uint32) {
	for _, state := range []uint32{1, 0} {
		v.start(v.kbd, 1) // key(time, key, state)
		v.b.Uint(v.time())
		v.b.Uint(evdev)
		v.b.Uint(state)
		v.send()
	}
	v.roundtrip()
}

// moveTo puts the pointer at output coordinates x, y.
func (v *vinput) moveTo(x, y int) {
	v.start(v.ptr, 1) // motion_absolute(time, x, y, x_extent, y_extent)
	v.b.Uint(v.time())
	v.b.Uint(uint32(x))
	v.b.Uint(uint32(y))
	v.b.Uint(uint32(v.outW))
	v.b.Uint(uint32(v.outH))
	v.send()
	v.frame()
}

// click presses and releases an evdev button.
func (v *vinput) click(button uint32) {
	v.button(button, true)
	v.button(button, false)
}

func (v *vinput) button(button uint32, pressed bool) {
	var state uint32
	if pressed {
		state = 1
	}
	v.start(v.ptr, 2) // button(time, button, state)
	v.b.Uint(v.time())
	v.b.Uint(button)
	v.b.Uint(state)
	v.send()
	v.frame()
}

// wheel scrolls n detents on the vertical axis (positive: down).
func (v *vinput) wheel(n int) {
	v.start(v.ptr, 5) // axis_source(wheel)
	v.b.Uint(uint32(wayland.WlPointerAxisSourceWheel))
	v.send()
	v.start(v.ptr, 7) // axis_discrete(time, axis, value, discrete)
	v.b.Uint(v.time())
	v.b.Uint(0)
	v.b.Fixed(wire.FixedFromInt(15 * n))
	v.b.Int(int32(n))
	v.send()
	v.frame()
}

func (v *vinput) frame() {
	v.start(v.ptr, 4)
	v.send()
	v.roundtrip()
}
