package clipboard

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/qube-desktop/qube-desktop/internal/guiproto"
)

// X modifier bits of a key event's state.
const (
	ShiftMask   = 1 << 0
	LockMask    = 1 << 1 // CapsLock
	ControlMask = 1 << 2
	Mod1Mask    = 1 << 3 // Alt
	Mod2Mask    = 1 << 4 // NumLock
	Mod3Mask    = 1 << 5
	Mod4Mask    = 1 << 6 // Super
	Mod5Mask    = 1 << 7
	// SpecialKeysMask is the daemon's SPECIAL_KEYS_MASK: the modifiers a
	// hotkey compares. NumLock, CapsLock and Mod5 are ignored.
	SpecialKeysMask = Mod1Mask | Mod3Mask | Mod4Mask | ShiftMask | ControlMask
)

// Hotkey is a parsed secure copy or paste sequence.
type Hotkey struct {
	Mask     uint32 // X modifier bits that must be down, exactly
	Keysym   uint32
	Disabled bool
}

// Default sequences, as in qubes-guid.
var (
	DefaultCopy  = Hotkey{Mask: ControlMask | ShiftMask, Keysym: 'c'}
	DefaultPaste = Hotkey{Mask: ControlMask | ShiftMask, Keysym: 'v'}
)

// Match applies the daemon's rule to a key event: the event's modifiers,
// restricted to SpecialKeysMask, equal the hotkey's mask exactly, and its
// keycode is the one the keymap gives for the hotkey's keysym
// (XKeysymToKeycode; keycodeOf reports false when no key produces it). A
// hotkey naming Mod2 therefore never matches, as in Qubes. Match both the
// press and the release: both are swallowed.
func (h Hotkey) Match(state, keycode uint32, keycodeOf func(keysym uint32) (uint32, bool)) bool {
	if h.Disabled || state&SpecialKeysMask != h.Mask {
		return false
	}
	kc, ok := keycodeOf(h.Keysym)
	return ok && kc == keycode
}

// String formats h in the configuration syntax.
func (h Hotkey) String() string {
	if h.Disabled {
		return "none"
	}
	var b strings.Builder
	for _, m := range []struct {
		bit  uint32
		name string
	}{{ControlMask, "Ctrl-"}, {ShiftMask, "Shift-"}, {Mod1Mask, "Alt-"}, {Mod2Mask, "Mod2-"}, {Mod3Mask, "Mod3-"}, {Mod4Mask, "Mod4-"}} {
		if h.Mask&m.bit != 0 {
			b.WriteString(m.name)
		}
	}
	b.WriteString(keysymName(h.Keysym))
	return b.String()
}

// ParseHotkey reads Qubes' sequence syntax: modifiers "Ctrl-", "Shift-",
// "Alt-"/"Mod1-", "Mod2-", "Mod3-", "Mod4-" (case-insensitive, any order)
// then an X keysym name such as "c", "V", "Insert" or "F12" (case-sensitive,
// as XStringToKeysym). "none" or "disable" turns the hotkey off.
func ParseHotkey(s string) (Hotkey, error) {
	if strings.EqualFold(s, "none") || strings.EqualFold(s, "disable") {
		return Hotkey{Disabled: true}, nil
	}
	var h Hotkey
	rest := s
	for {
		found := false
		for _, m := range []struct {
			prefix string
			bit    uint32
		}{{"Ctrl-", ControlMask}, {"Shift-", ShiftMask}, {"Alt-", Mod1Mask}, {"Mod1-", Mod1Mask},
			{"Mod2-", Mod2Mask}, {"Mod3-", Mod3Mask}, {"Mod4-", Mod4Mask}} {
			if len(rest) > len(m.prefix) && strings.EqualFold(rest[:len(m.prefix)], m.prefix) {
				h.Mask |= m.bit
				rest = rest[len(m.prefix):]
				found = true
			}
		}
		if !found {
			break
		}
	}
	ks, ok := stringToKeysym(rest)
	if !ok {
		return Hotkey{}, fmt.Errorf("key sequence %q: %q is not a key name (write e.g. Ctrl-Shift-c, Mod4-v, or none)", s, rest)
	}
	h.Keysym = ks
	return h, nil
}

// Config is a qube's clipboard configuration.
type Config struct {
	Copy, Paste Hotkey
	MaxSize     int
}

// DefaultConfig is the configuration when no feature is set.
var DefaultConfig = Config{Copy: DefaultCopy, Paste: DefaultPaste, MaxSize: guiproto.DefaultClipboardBuffer}

// ConfigFromFeatures reads a qube's configuration as qvm-start-daemon
// does: the qube's feature gui-<option> first, else the GUI domain's
// gui-default-<option>, else the default.
func ConfigFromFeatures(qube, guivm map[string]string) (Config, error) {
	get := func(opt string) (string, bool) {
		if v, ok := qube["gui-"+opt]; ok {
			return v, true
		}
		v, ok := guivm["gui-default-"+opt]
		return v, ok
	}
	c := DefaultConfig
	var err error
	if v, ok := get("secure-copy-sequence"); ok {
		if c.Copy, err = ParseHotkey(v); err != nil {
			return Config{}, fmt.Errorf("secure_copy_sequence: %w", err)
		}
	}
	if v, ok := get("secure-paste-sequence"); ok {
		if c.Paste, err = ParseHotkey(v); err != nil {
			return Config{}, fmt.Errorf("secure_paste_sequence: %w", err)
		}
	}
	if v, ok := get("max-clipboard-size"); ok {
		if c.MaxSize, err = ParseMaxSize(v); err != nil {
			return Config{}, err
		}
	}
	return c, nil
}

// ParseMaxSize reads max_clipboard_size: a decimal 256..256000.
func ParseMaxSize(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || s[0] < '0' || s[0] > '9' || n < guiproto.MinClipboardBuffer || n > guiproto.MaxClipboardBuffer {
		return 0, fmt.Errorf("max_clipboard_size %q must be a number of bytes from %d to %d",
			s, guiproto.MinClipboardBuffer, guiproto.MaxClipboardBuffer)
	}
	return n, nil
}
