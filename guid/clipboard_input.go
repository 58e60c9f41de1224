package guid

import (
	"log"

	"github.com/qube-desktop/qube-desktop/compositor/wayland"
)

// hotkeys is the seat's part of secure copy and paste: the compositor's
// keymap, to find the keys the hotkeys name, and the keys whose press was
// a hotkey, whose release is swallowed too whatever the modifiers are by
// then (the qube never sees either half).
type hotkeys struct {
	keymap    keymap // nil until the compositor sent a usable keymap
	swallowed [32]byte
}

// setKeymap reads the compositor's keymap from a wl_keyboard.keymap event
// and closes its descriptor. Without a keymap no hotkey matches.
func (s *seat) setKeymap(ev wayland.WlKeyboardKeymapEvent) {
	if ev.Fd == nil {
		return
	}
	defer ev.Fd.Close()
	if ev.Format != wayland.WlKeyboardKeymapFormatXkbV1 {
		s.hk.keymap = nil
		log.Printf("the compositor sent no xkb keymap (format %d): secure copy and paste hotkeys are off", ev.Format)
		return
	}
	km, err := readKeymap(ev.Fd, ev.Size)
	if err != nil {
		s.hk.keymap = nil
		log.Printf("secure copy and paste hotkeys are off: %v", err)
		return
	}
	s.hk.keymap = km
}

// hotkey swallows a key event of the secure copy or paste sequence and
// starts the copy or paste for the focused window v. It reports whether
// the event was swallowed; X keycode = evdev + 8.
func (s *seat) hotkey(v *wlView, ev wayland.WlKeyboardKeyEvent, pressed bool) bool {
	kc := ev.Key + evdevOffset
	bit, mask := kc/8, byte(1)<<(kc%8)
	if !pressed {
		if s.hk.swallowed[bit]&mask == 0 {
			return false
		}
		s.hk.swallowed[bit] &^= mask
		return true
	}
	s.hk.swallowed[bit] &^= mask // a new press: its release was not seen here
	sc, ok := s.d.handler.(secureClipboard)
	if !ok || s.hk.keymap == nil {
		return false
	}
	copyKey, pasteKey := sc.Hotkeys()
	switch state := s.state(); {
	case copyKey.Match(state, kc, s.hk.keymap.keycodeOf):
		s.hk.swallowed[bit] |= mask
		sc.SecureCopy(v.id, ev.Time)
	case pasteKey.Match(state, kc, s.hk.keymap.keycodeOf):
		s.hk.swallowed[bit] |= mask
		sc.SecurePaste(v.id, ev.Time)
	default:
		return false
	}
	return true
}

// hideSwallowed clears swallowed keys from a KEYMAP_NOTIFY key vector: a
// hotkey key still held when focus comes back is not down for the qube.
func (h *hotkeys) hideSwallowed(keys *[32]byte) {
	for i := range keys {
		keys[i] &^= h.swallowed[i]
	}
}
