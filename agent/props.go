package agent

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"unicode/utf8"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	"github.com/qube-desktop/qube-desktop/internal/guiproto"
)

type atoms struct {
	wmName, netWMName, utf8String, wmClass, wmNormalHints, wmHints  xproto.Atom
	netWMState, stateFullscreen, stateDemandsAttention, stateHidden xproto.Atom
	wmTransientFor, wmProtocols, wmDeleteWindow, wmTakeFocus        xproto.Atom
	clipboard, targets, incr, text, selProp, str                    xproto.Atom
	traySelection, trayOpcode, manager, xembed                      xproto.Atom
}

func (a *atoms) intern(c *xgb.Conn, screen int) error {
	names := []struct {
		p    *xproto.Atom
		name string
	}{
		{&a.wmName, "WM_NAME"}, {&a.netWMName, "_NET_WM_NAME"}, {&a.utf8String, "UTF8_STRING"},
		{&a.wmClass, "WM_CLASS"}, {&a.wmNormalHints, "WM_NORMAL_HINTS"}, {&a.wmHints, "WM_HINTS"},
		{&a.netWMState, "_NET_WM_STATE"}, {&a.stateFullscreen, "_NET_WM_STATE_FULLSCREEN"},
		{&a.stateDemandsAttention, "_NET_WM_STATE_DEMANDS_ATTENTION"}, {&a.stateHidden, "_NET_WM_STATE_HIDDEN"},
		{&a.wmTransientFor, "WM_TRANSIENT_FOR"}, {&a.wmProtocols, "WM_PROTOCOLS"},
		{&a.wmDeleteWindow, "WM_DELETE_WINDOW"}, {&a.wmTakeFocus, "WM_TAKE_FOCUS"},
		{&a.clipboard, "CLIPBOARD"}, {&a.targets, "TARGETS"}, {&a.incr, "INCR"}, {&a.text, "TEXT"},
		{&a.selProp, "_QUBE_AGENT_SELECTION"},
		{&a.str, "STRING"},
		{&a.traySelection, fmt.Sprintf("_NET_SYSTEM_TRAY_S%d", screen)}, {&a.trayOpcode, "_NET_SYSTEM_TRAY_OPCODE"},
		{&a.manager, "MANAGER"}, {&a.xembed, "_XEMBED"},
	}
	cookies := make([]xproto.InternAtomCookie, len(names))
	for i, n := range names {
		cookies[i] = xproto.InternAtom(c, false, uint16(len(n.name)), n.name)
	}
	for i, ck := range cookies {
		r, err := ck.Reply()
		if err != nil {
			return fmt.Errorf("intern atom %s: %w", names[i].name, err)
		}
		*names[i].p = r.Atom
	}
	return nil
}

func (a *atoms) propOf(at xproto.Atom) (Prop, bool) {
	switch at {
	case a.wmName, a.netWMName:
		return PropName, true
	case a.wmClass:
		return PropClass, true
	case a.wmNormalHints:
		return PropHints, true
	case a.netWMState, a.wmHints:
		return PropFlags, true
	case a.wmTransientFor:
		return PropTransient, true
	case a.wmProtocols:
		return PropProtocols, true
	}
	return 0, false
}

// maxPropLongs bounds every property read (in 32-bit units): titles and
// hints are tiny, and a client must not make the agent read megabytes.
const maxPropLongs = 1024

func (x *X) getProp(w xproto.Window, prop, typ xproto.Atom) *xproto.GetPropertyReply {
	r, err := xproto.GetProperty(x.conn, false, w, prop, typ, 0, maxPropLongs).Reply()
	if err != nil || r.Format == 0 {
		return nil
	}
	return r
}

func u32s(r *xproto.GetPropertyReply) []uint32 {
	if r == nil || r.Format != 32 {
		return nil
	}
	v := make([]uint32, len(r.Value)/4)
	for i := range v {
		v[i] = binary.LittleEndian.Uint32(r.Value[i*4:])
	}
	return v
}

// readProp re-reads one group of properties of win.
func (x *X) readProp(win *Window, p Prop) {
	a := &x.atoms
	switch p {
	case PropName:
		if r := x.getProp(win.ID, a.netWMName, a.utf8String); r != nil && r.Format == 8 && utf8.Valid(r.Value) {
			win.Name = string(r.Value)
		} else if r := x.getProp(win.ID, a.wmName, xproto.GetPropertyTypeAny); r != nil && r.Format == 8 {
			win.Name = textToUTF8(r.Value, r.Type == a.utf8String)
		} else {
			win.Name = ""
		}
	case PropClass:
		win.Instance, win.Class = "", ""
		if r := x.getProp(win.ID, a.wmClass, a.str); r != nil && r.Format == 8 {
			parts := bytes.SplitN(r.Value, []byte{0}, 3)
			win.Instance = textToUTF8(parts[0], false)
			if len(parts) > 1 {
				win.Class = textToUTF8(parts[1], false)
			}
		}
	case PropHints:
		win.Hints = SizeHints{}
		if v := u32s(x.getProp(win.ID, a.wmNormalHints, xproto.GetPropertyTypeAny)); len(v) >= 17 {
			win.Hints = SizeHints{Flags: v[0], MinW: v[5], MinH: v[6], MaxW: v[7], MaxH: v[8],
				IncW: v[9], IncH: v[10], BaseW: v[15], BaseH: v[16]}
		}
	case PropFlags:
		win.AcceptsFocus, win.Urgent = true, false
		if v := u32s(x.getProp(win.ID, a.wmHints, xproto.GetPropertyTypeAny)); len(v) >= 2 {
			if v[0]&1 != 0 { // InputHint
				win.AcceptsFocus = v[1] != 0
			}
			win.Urgent = v[0]&(1<<8) != 0
		}
		win.Fullscreen, win.DemandsAttention, win.Hidden = false, false, false
		for _, s := range u32s(x.getProp(win.ID, a.netWMState, xproto.AtomAtom)) {
			switch xproto.Atom(s) {
			case a.stateFullscreen:
				win.Fullscreen = true
			case a.stateDemandsAttention:
				win.DemandsAttention = true
			case a.stateHidden:
				win.Hidden = true
			}
		}
	case PropTransient:
		win.TransientFor = 0
		if v := u32s(x.getProp(win.ID, a.wmTransientFor, xproto.AtomWindow)); len(v) >= 1 {
			win.TransientFor = xproto.Window(v[0])
		}
	case PropProtocols:
		win.TakeFocus, win.DeleteWindow = false, false
		for _, s := range u32s(x.getProp(win.ID, a.wmProtocols, xproto.AtomAtom)) {
			switch xproto.Atom(s) {
			case a.wmTakeFocus:
				win.TakeFocus = true
			case a.wmDeleteWindow:
				win.DeleteWindow = true
			}
		}
	}
}

// textToUTF8 reads an X text property: UTF-8 when it is valid UTF-8 and
// typed so, otherwise Latin-1 (STRING, and the ASCII subset of
// COMPOUND_TEXT).
func textToUTF8(b []byte, isUTF8 bool) string {
	if isUTF8 && utf8.Valid(b) {
		return string(b)
	}
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

// netWMStateRequest acts as the window manager for _NET_WM_STATE client
// messages (there is none inside a qube): it updates the property, and the
// PropertyNotify that follows reports the flags to the daemon.
func (x *X) netWMStateRequest(e xproto.ClientMessageEvent) {
	w := x.windows[e.Window]
	if w == nil {
		return
	}
	d := e.Data.Data32
	action := d[0] // 0 remove, 1 add, 2 toggle
	have := x.netWMState(w)
	for _, s := range d[1:3] {
		at := xproto.Atom(s)
		if at == 0 {
			continue
		}
		switch action {
		case 0:
			delete(have, at)
		case 1:
			have[at] = true
		case 2:
			if have[at] {
				delete(have, at)
			} else {
				have[at] = true
			}
		}
	}
	x.setNetWMState(w, have)
}

func (x *X) netWMState(w *Window) map[xproto.Atom]bool {
	have := map[xproto.Atom]bool{}
	for _, s := range u32s(x.getProp(w.ID, x.atoms.netWMState, xproto.AtomAtom)) {
		have[xproto.Atom(s)] = true
	}
	return have
}

func (x *X) setNetWMState(w *Window, have map[xproto.Atom]bool) error {
	buf := make([]byte, 0, 4*len(have))
	for at := range have {
		buf = binary.LittleEndian.AppendUint32(buf, uint32(at))
	}
	return xproto.ChangePropertyChecked(x.conn, xproto.PropModeReplace, w.ID, x.atoms.netWMState, xproto.AtomAtom,
		32, uint32(len(have)), buf).Check()
}

// SetWMState records the daemon's window-manager state (WINDOW_FLAGS bits
// set and unset) in the window's _NET_WM_STATE, as a window manager would,
// so that applications see their fullscreen request granted.
func (x *X) SetWMState(w *Window, set, unset uint32) error {
	have := x.netWMState(w)
	for _, f := range []struct {
		bit  uint32
		atom xproto.Atom
	}{{guiproto.FlagFullscreen, x.atoms.stateFullscreen}, {guiproto.FlagDemandsAttention, x.atoms.stateDemandsAttention},
		{guiproto.FlagMinimize, x.atoms.stateHidden}} {
		if unset&f.bit != 0 {
			delete(have, f.atom)
		}
		if set&f.bit != 0 {
			have[f.atom] = true
		}
	}
	return x.setNetWMState(w, have)
}
