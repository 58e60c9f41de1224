package agent

import (
	"fmt"
	"math"

	"github.com/jezek/xgb/xproto"
	"github.com/jezek/xgb/xtest"
)

// Key presses (press=true) or releases an X keycode with XTest.
func (x *X) Key(press bool, keycode uint8) error {
	typ := byte(xproto.KeyRelease)
	if press {
		typ = xproto.KeyPress
	}
	return xtest.FakeInputChecked(x.conn, typ, keycode, 0, x.root, 0, 0, 0).Check()
}

// Motion moves the pointer to (wx, wy) inside win.
func (x *X) Motion(win *Window, wx, wy int) error {
	rx, ry := clamp16(win.X+win.Border+wx), clamp16(win.Y+win.Border+wy)
	return xtest.FakeInputChecked(x.conn, xproto.MotionNotify, 0, 0, x.root, rx, ry, 0).Check()
}

// Button moves the pointer to (wx, wy) inside win, then presses or releases
// button (1-3, 4/5 vertical and 6/7 horizontal wheel).
func (x *X) Button(win *Window, press bool, button uint8, wx, wy int) error {
	if button == 0 {
		return fmt.Errorf("button 0 does not exist")
	}
	if err := x.Motion(win, wx, wy); err != nil {
		return err
	}
	typ := byte(xproto.ButtonRelease)
	if press {
		typ = xproto.ButtonPress
	}
	return xtest.FakeInputChecked(x.conn, typ, button, 0, x.root, 0, 0, 0).Check()
}

// ReleaseStuckKeys releases every key the X server holds down that the
// daemon's keymap bitmap (bit k = keycode k down) says is up. It never
// presses a key.
func (x *X) ReleaseStuckKeys(daemon [32]byte) error {
	km, err := xproto.QueryKeymap(x.conn).Reply()
	if err != nil {
		return fmt.Errorf("query keymap: %w", err)
	}
	for i := 0; i < 32; i++ {
		stuck := km.Keys[i] &^ daemon[i]
		for b := 0; b < 8; b++ {
			if stuck&(1<<b) != 0 && i*8+b >= 8 {
				if err := x.Key(false, uint8(i*8+b)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// Focus gives win the keyboard focus as a window manager would: raise it,
// set the input focus if its WM_HINTS allow, send WM_TAKE_FOCUS if it asks.
func (x *X) Focus(win *Window) error {
	if !win.Mapped {
		return errGone
	}
	c := x.conn
	if err := xproto.ConfigureWindowChecked(c, win.ID, xproto.ConfigWindowStackMode,
		[]uint32{xproto.StackModeAbove}).Check(); err != nil {
		return fmt.Errorf("raise window %#x: %w", win.ID, err)
	}
	if win.AcceptsFocus {
		if err := xproto.SetInputFocusChecked(c, xproto.InputFocusParent, win.ID, xproto.TimeCurrentTime).Check(); err != nil {
			return fmt.Errorf("focus window %#x: %w", win.ID, err)
		}
	}
	if win.TakeFocus {
		return x.sendProtocol(win, x.atoms.wmTakeFocus)
	}
	return nil
}

// CloseWindow asks win to close with WM_DELETE_WINDOW, or disconnects its
// client when it does not support that.
func (x *X) CloseWindow(win *Window) error {
	if win.DeleteWindow {
		return x.sendProtocol(win, x.atoms.wmDeleteWindow)
	}
	return xproto.KillClientChecked(x.conn, uint32(win.ID)).Check()
}

func (x *X) sendProtocol(win *Window, proto xproto.Atom) error {
	ev := xproto.ClientMessageEvent{
		Format: 32, Window: win.ID, Type: x.atoms.wmProtocols,
		Data: xproto.ClientMessageDataUnionData32New([]uint32{uint32(proto), uint32(xproto.TimeCurrentTime), 0, 0, 0}),
	}
	return xproto.SendEventChecked(x.conn, false, win.ID, xproto.EventMaskNoEvent, string(ev.Bytes())).Check()
}

// MoveResize applies a geometry the daemon chose (root coordinates of the
// outer corner, inside size).
func (x *X) MoveResize(win *Window, px, py, w, h int) error {
	if w <= 0 || h <= 0 || w > 65535 || h > 65535 {
		return fmt.Errorf("configure window %#x to %dx%d: size out of range", win.ID, w, h)
	}
	return xproto.ConfigureWindowChecked(x.conn, win.ID,
		xproto.ConfigWindowX|xproto.ConfigWindowY|xproto.ConfigWindowWidth|xproto.ConfigWindowHeight,
		[]uint32{uint32(int32(px)), uint32(int32(py)), uint32(w), uint32(h)}).Check()
}

// MapWindow maps win again when the daemon's window manager asks (e.g.
// after the user restores a minimized window).
func (x *X) MapWindow(win *Window) error {
	return xproto.MapWindowChecked(x.conn, win.ID).Check()
}

// clamp16 keeps a root coordinate inside X's 16 bits instead of wrapping.
func clamp16(v int) int16 { return int16(min(max(v, math.MinInt16), math.MaxInt16)) }

// Lock modifiers the daemon's key events carry in their state: the agent
// toggles the qube's Caps Lock and Num Lock to match before a key, as the
// Qubes agent does, so text typed on the host comes out the same case.
const (
	lockMask    = 1 << 1 // LockMask
	numLockMask = 1 << 4 // Mod2Mask
	keysymCaps  = 0xffe5 // XK_Caps_Lock
	keysymNum   = 0xff7f // XK_Num_Lock
)

// SyncLocks makes the qube's Caps Lock and Num Lock state equal the bits of
// state (an X modifier mask from the daemon).
func (x *X) SyncLocks(state uint32) error {
	p, err := xproto.QueryPointer(x.conn, x.root).Reply()
	if err != nil {
		return fmt.Errorf("query modifier state: %w", err)
	}
	for _, l := range []struct {
		mask   uint32
		keysym xproto.Keysym
	}{{lockMask, keysymCaps}, {numLockMask, keysymNum}} {
		if uint32(p.Mask)&l.mask == state&l.mask {
			continue
		}
		kc, err := x.keycodeOf(l.keysym)
		if err != nil || kc == 0 {
			continue // no such key in the qube's keymap
		}
		if err := x.Key(true, kc); err != nil {
			return err
		}
		if err := x.Key(false, kc); err != nil {
			return err
		}
	}
	return nil
}

// keycodeOf finds the first keycode producing sym, or 0.
func (x *X) keycodeOf(sym xproto.Keysym) (uint8, error) {
	setup := xproto.Setup(x.conn)
	first, n := setup.MinKeycode, int(setup.MaxKeycode)-int(setup.MinKeycode)+1
	m, err := xproto.GetKeyboardMapping(x.conn, first, byte(n)).Reply()
	if err != nil {
		return 0, fmt.Errorf("read the keymap: %w", err)
	}
	per := int(m.KeysymsPerKeycode)
	for i := 0; i < n && per > 0; i++ {
		for j := 0; j < per && i*per+j < len(m.Keysyms); j++ {
			if m.Keysyms[i*per+j] == sym {
				return uint8(int(first) + i), nil
			}
		}
	}
	return 0, nil
}
