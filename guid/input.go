package guid

import (
	"encoding/binary"

	"github.com/qube-desktop/qube-desktop/compositor/wayland"
	"github.com/qube-desktop/qube-desktop/internal/guiproto"
)

// X11 values the input messages carry.
const (
	notifyNonlinear = 3
	buttonMaskShift = 8 // Button1Mask = 1<<8
	maxX11Keycode   = 255
	evdevOffset     = 8 // X keycode = evdev code + 8
)

// evdev button codes and their X11 buttons.
var x11Buttons = map[uint32]uint32{
	0x110: 1, // BTN_LEFT
	0x112: 2, // BTN_MIDDLE
	0x111: 3, // BTN_RIGHT
	0x113: 8, // BTN_SIDE
	0x114: 9, // BTN_EXTRA
}

// seat turns wl_seat events into the qube's input messages. Pointer events
// reach a qube only over the content of one of its windows; keyboard events
// only while one of its windows has keyboard focus.
type seat struct {
	d   *WaylandDisplay
	wl  *wayland.WlSeat
	ptr *wayland.WlPointer
	kbd *wayland.WlKeyboard

	ptrView    *wlView            // pointer over this view's content, or nil
	frameHover *wayland.WlSurface // pointer over this trusted frame, or nil
	fx, fy     int                // pointer position on frameHover
	px, py     int32
	buttons    uint32 // X button mask bits
	discrete   [2]bool
	kbdView    *wlView
	mods       uint32
	keys       [32]byte // X keycodes held down
	hk         hotkeys  // secure copy and paste (clipboard_input.go)
}

func (d *WaylandDisplay) bindSeat() error {
	s := &seat{d: d}
	d.seat = s
	wl := new(wayland.WlSeat)
	if err := d.c.Bind(wl, 5); err != nil {
		return nil // no seat (weston headless): windows without input
	}
	s.wl = wl
	wl.OnCapabilities = func(ev wayland.WlSeatCapabilitiesEvent) {
		if ev.Capabilities&wayland.WlSeatCapabilityPointer != 0 && s.ptr == nil {
			if p, err := wl.GetPointer(); err == nil {
				s.ptr = p
				s.pointerHandlers()
			}
		}
		if ev.Capabilities&wayland.WlSeatCapabilityKeyboard != 0 && s.kbd == nil {
			if k, err := wl.GetKeyboard(); err == nil {
				s.kbd = k
				s.keyboardHandlers()
			}
		}
	}
	return nil
}

func (s *seat) forget(v *wlView) {
	if s.ptrView == v {
		s.ptrView = nil
	}
	if ref, ok := s.d.surfaces[s.frameHover]; ok && ref.v == v {
		s.frameHover = nil
	}
	if s.kbdView == v {
		s.kbdView = nil
		s.keys = [32]byte{}
	}
}

func (s *seat) input(v *wlView, m guiproto.Message) { s.d.handler.Input(v.id, m) }

func (s *seat) state() uint32 { return s.mods | s.buttons }

func (s *seat) pointerHandlers() {
	p := s.ptr
	p.OnEnter = func(ev wayland.WlPointerEnterEvent) {
		ref, ok := s.d.surfaces[ev.Surface]
		s.ptrView, s.frameHover = nil, nil
		if !ok {
			return
		}
		if !ref.content {
			s.frameHover = ev.Surface
			s.fx, s.fy = ev.SurfaceX.Int(), ev.SurfaceY.Int()
			return
		}
		s.ptrView = ref.v
		s.px, s.py = int32(ev.SurfaceX.Int()), int32(ev.SurfaceY.Int())
		var focus uint32
		if s.kbdView == ref.v {
			focus = 1
		}
		s.input(ref.v, guiproto.KeymapNotify{Keys: s.keys})
		s.input(ref.v, guiproto.Crossing{Event: guiproto.EnterNotify, X: s.px, Y: s.py, State: s.state(),
			Detail: notifyNonlinear, Focus: focus})
	}
	p.OnLeave = func(ev wayland.WlPointerLeaveEvent) {
		if v := s.ptrView; v != nil {
			s.input(v, guiproto.Crossing{Event: guiproto.LeaveNotify, X: s.px, Y: s.py, State: s.state(), Detail: notifyNonlinear})
		}
		s.ptrView, s.frameHover = nil, nil
	}
	p.OnMotion = func(ev wayland.WlPointerMotionEvent) {
		s.fx, s.fy = ev.SurfaceX.Int(), ev.SurfaceY.Int()
		if v := s.ptrView; v != nil {
			s.px, s.py = int32(ev.SurfaceX.Int()), int32(ev.SurfaceY.Int())
			s.input(v, guiproto.Motion{X: s.px, Y: s.py, State: s.state()})
		}
	}
	p.OnButton = func(ev wayland.WlPointerButtonEvent) {
		b, known := x11Buttons[ev.Button]
		if v := s.ptrView; v != nil && known {
			event := uint32(guiproto.ButtonPress)
			if ev.State == wayland.WlPointerButtonStateReleased {
				event = guiproto.ButtonRelease
			}
			s.input(v, guiproto.Button{Event: event, X: s.px, Y: s.py, State: s.state(), Button: b})
		} else if s.ptrView == nil && ev.State == wayland.WlPointerButtonStatePressed && ev.Button == 0x110 {
			s.moveFramed(ev.Serial)
		}
		if known && b <= 5 {
			if ev.State == wayland.WlPointerButtonStatePressed {
				s.buttons |= 1 << (buttonMaskShift + b - 1)
			} else {
				s.buttons &^= 1 << (buttonMaskShift + b - 1)
			}
		}
	}
	p.OnAxisDiscrete = func(ev wayland.WlPointerAxisDiscreteEvent) {
		if int(ev.Axis) < len(s.discrete) {
			s.discrete[ev.Axis] = true
			s.scroll(ev.Axis, int(ev.Discrete))
		}
	}
	p.OnAxis = func(ev wayland.WlPointerAxisEvent) {
		// Without a discrete step in this frame (touchpads), one click per event.
		if int(ev.Axis) < len(s.discrete) && !s.discrete[ev.Axis] && ev.Value != 0 {
			n := 1
			if ev.Value < 0 {
				n = -1
			}
			s.scroll(ev.Axis, n)
		}
	}
	p.OnFrame = func(wayland.WlPointerFrameEvent) { s.discrete = [2]bool{} }
}

// moveFramed lets a click on a toplevel's self-drawn frame move the window
// (title bar) or resize it (border): the frame is the guid's, so the click
// never reaches the qube.
func (s *seat) moveFramed(serial uint32) {
	ref, ok := s.d.surfaces[s.frameHover]
	if !ok || ref.v.top == nil {
		return
	}
	st := ref.v.top.Style()
	fw, fh := st.Size(ref.v.cw, ref.v.ch)
	const corner = 16 // how far along an edge a corner reaches
	var edge wayland.XdgToplevelResizeEdge
	switch {
	case s.fy < st.Border:
		edge |= wayland.XdgToplevelResizeEdgeTop
	case s.fy >= fh-st.Border:
		edge |= wayland.XdgToplevelResizeEdgeBottom
	}
	switch {
	case s.fx < st.Border || (edge != 0 && s.fx < corner):
		edge |= wayland.XdgToplevelResizeEdgeLeft
	case s.fx >= fw-st.Border || (edge != 0 && s.fx >= fw-corner):
		edge |= wayland.XdgToplevelResizeEdgeRight
	}
	if edge == 0 {
		_ = ref.v.top.Toplevel.Move(s.wl, serial)
		return
	}
	_ = ref.v.top.Toplevel.Resize(s.wl, serial, edge)
}

// scroll sends n wheel clicks: buttons 4/5 vertically, 6/7 horizontally.
func (s *seat) scroll(axis wayland.WlPointerAxis, n int) {
	v := s.ptrView
	if v == nil || n == 0 {
		return
	}
	b := uint32(5)
	if n < 0 {
		b, n = 4, -n
	}
	if axis == wayland.WlPointerAxisHorizontalScroll {
		b += 2
	}
	for range min(n, 10) {
		s.input(v, guiproto.Button{Event: guiproto.ButtonPress, X: s.px, Y: s.py, State: s.state(), Button: b})
		s.input(v, guiproto.Button{Event: guiproto.ButtonRelease, X: s.px, Y: s.py, State: s.state(), Button: b})
	}
}

func (s *seat) keyboardHandlers() {
	k := s.kbd
	// The qube has its own keymap; only evdev codes cross. The guid reads
	// the compositor's to find the keys of its hotkeys.
	k.OnKeymap = s.setKeymap
	k.OnEnter = func(ev wayland.WlKeyboardEnterEvent) {
		ref, ok := s.d.surfaces[ev.Surface]
		if !ok {
			return
		}
		s.kbdView = ref.v
		s.keys = [32]byte{}
		for i := 0; i+4 <= len(ev.Keys); i += 4 {
			s.setKey(binary.LittleEndian.Uint32(ev.Keys[i:]), true)
		}
		s.hk.hideSwallowed(&s.keys)
		// KEYMAP_NOTIFY first: the qube releases keys it believes are down.
		s.input(ref.v, guiproto.KeymapNotify{Keys: s.keys})
		s.input(ref.v, guiproto.Focus{Event: guiproto.FocusIn, Detail: notifyNonlinear})
	}
	k.OnLeave = func(wayland.WlKeyboardLeaveEvent) {
		if v := s.kbdView; v != nil {
			s.input(v, guiproto.Focus{Event: guiproto.FocusOut, Detail: notifyNonlinear})
		}
		s.kbdView = nil
		s.keys = [32]byte{}
	}
	k.OnModifiers = func(ev wayland.WlKeyboardModifiersEvent) {
		// xkb's real modifiers are Shift, Lock, Control, Mod1..Mod5: the
		// X11 state bits.
		s.mods = (ev.ModsDepressed | ev.ModsLatched | ev.ModsLocked) & 0xff
	}
	k.OnKey = func(ev wayland.WlKeyboardKeyEvent) {
		v := s.kbdView
		if v == nil || ev.Key > maxX11Keycode-evdevOffset {
			return
		}
		pressed := ev.State == wayland.WlKeyboardKeyStatePressed
		if s.hotkey(v, ev, pressed) {
			return // neither half of a hotkey reaches the qube
		}
		event := uint32(guiproto.KeyRelease)
		if pressed {
			event = guiproto.KeyPress
		}
		var x, y int32
		if s.ptrView == v {
			x, y = s.px, s.py
		}
		s.input(v, guiproto.Keypress{Event: event, X: x, Y: y, State: s.state(), Keycode: ev.Key + evdevOffset})
		s.setKey(ev.Key, pressed)
	}
}

func (s *seat) setKey(evdev uint32, down bool) {
	if evdev > maxX11Keycode-evdevOffset {
		return
	}
	k := evdev + evdevOffset
	if down {
		s.keys[k/8] |= 1 << (k % 8)
	} else {
		s.keys[k/8] &^= 1 << (k % 8)
	}
}
