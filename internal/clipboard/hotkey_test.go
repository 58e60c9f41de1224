package clipboard

import (
	"testing"
)

func TestParseHotkey(t *testing.T) {
	for in, want := range map[string]Hotkey{
		"Ctrl-Shift-c":     DefaultCopy,
		"ctrl-SHIFT-v":     DefaultPaste,
		"Shift-Ctrl-c":     DefaultCopy,
		"Mod4-v":           {Mask: Mod4Mask, Keysym: 'v'},
		"Alt-Insert":       {Mask: Mod1Mask, Keysym: 0xff63},
		"Mod1-Mod3-F12":    {Mask: Mod1Mask | Mod3Mask, Keysym: 0xffc9},
		"Mod2-c":           {Mask: Mod2Mask, Keysym: 'c'},
		"Ctrl-C":           {Mask: ControlMask, Keysym: 'C'},
		"Ctrl-comma":       {Mask: ControlMask, Keysym: ','},
		"Ctrl-Page_Up":     {Mask: ControlMask, Keysym: 0xff55},
		"Ctrl-U20AC":       {Mask: ControlMask, Keysym: 0x10020ac},
		"Ctrl-U00e9":       {Mask: ControlMask, Keysym: 0xe9},
		"Ctrl-0xff63":      {Mask: ControlMask, Keysym: 0xff63},
		"c":                {Keysym: 'c'},
		"none":             {Disabled: true},
		"NONE":             {Disabled: true},
		"disable":          {Disabled: true},
		"Ctrl-Shift-Alt-x": {Mask: ControlMask | ShiftMask | Mod1Mask, Keysym: 'x'},
	} {
		got, err := ParseHotkey(in)
		if err != nil || got != want {
			t.Errorf("ParseHotkey(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "Ctrl-", "Ctrl-Shift-", "Hyper-c", "Ctrl+Shift+c", "Ctrl-Shift-cc",
		"Ctrl-,", "Ctrl-insert", "Ctrl-F0", "Ctrl-F36", "Ctrl-F01", "Ctrl-0x", "Ctrl-UD800", "Ctrl-U110000", "Ctrl-c "} {
		if h, err := ParseHotkey(in); err == nil {
			t.Errorf("ParseHotkey(%q) accepted as %+v", in, h)
		}
	}
}

func TestHotkeyString(t *testing.T) {
	for _, s := range []string{"Ctrl-Shift-c", "Alt-Mod4-F1", "Ctrl-Page_Up", "Shift-0xfe03", "none"} {
		h, err := ParseHotkey(s)
		if err != nil || h.String() != s {
			t.Errorf("%q: String() = %q, %v", s, h.String(), err)
		}
	}
}

// keymap is a tiny keymap: c and C on keycode 54, v/V on 55.
func keymap(ks uint32) (uint32, bool) {
	switch ks {
	case 'c', 'C':
		return 54, true
	case 'v', 'V':
		return 55, true
	}
	return 0, false
}

func TestHotkeyMatchRule(t *testing.T) {
	c := DefaultCopy
	for _, m := range []struct {
		state, keycode uint32
		want           bool
	}{
		{ControlMask | ShiftMask, 54, true},
		{ControlMask | ShiftMask | Mod2Mask, 54, true},  // NumLock ignored
		{ControlMask | ShiftMask | LockMask, 54, true},  // CapsLock ignored
		{ControlMask | ShiftMask | Mod5Mask, 54, true},  // Mod5 ignored
		{ControlMask | ShiftMask | 1<<8, 54, true},      // a held button is no modifier
		{ControlMask | ShiftMask | Mod1Mask, 54, false}, // extra Alt
		{ControlMask | ShiftMask | Mod4Mask, 54, false}, // extra Super
		{ControlMask | ShiftMask | Mod3Mask, 54, false}, // extra Mod3
		{ControlMask, 54, false},                        // Shift missing
		{ControlMask | ShiftMask, 55, false},            // other key
	} {
		if got := c.Match(m.state, m.keycode, keymap); got != m.want {
			t.Errorf("state %#x keycode %d: %v, want %v", m.state, m.keycode, got, m.want)
		}
	}
	// "Ctrl-Shift-C" names the same key as "Ctrl-Shift-c" (keycode match).
	upper, _ := ParseHotkey("Ctrl-Shift-C")
	if !upper.Match(ControlMask|ShiftMask, 54, keymap) {
		t.Error("Ctrl-Shift-C does not match the c key")
	}
	// A keysym no key produces never matches.
	f12, _ := ParseHotkey("Ctrl-F12")
	if f12.Match(ControlMask, 0, keymap) {
		t.Error("unmapped keysym matched keycode 0")
	}
	// As in Qubes, a mask naming Mod2 can never match: Mod2 is masked out.
	mod2, _ := ParseHotkey("Mod2-c")
	if mod2.Match(Mod2Mask, 54, keymap) {
		t.Error("Mod2-c matched")
	}
	if (Hotkey{Disabled: true}).Match(0, 54, keymap) {
		t.Error("disabled hotkey matched")
	}
}

func TestConfigFromFeatures(t *testing.T) {
	c, err := ConfigFromFeatures(nil, nil)
	if err != nil || c != DefaultConfig || c.MaxSize != 64000 {
		t.Fatalf("defaults: %+v, %v", c, err)
	}
	c, err = ConfigFromFeatures(
		map[string]string{"gui-secure-copy-sequence": "Mod4-c", "gui-max-clipboard-size": "256"},
		map[string]string{"gui-default-secure-copy-sequence": "Alt-c", "gui-default-secure-paste-sequence": "none",
			"gui-default-max-clipboard-size": "1000"})
	want := Config{Copy: Hotkey{Mask: Mod4Mask, Keysym: 'c'}, Paste: Hotkey{Disabled: true}, MaxSize: 256}
	if err != nil || c != want {
		t.Fatalf("got %+v, %v; want %+v", c, err, want)
	}
	for _, bad := range []map[string]string{
		{"gui-secure-copy-sequence": "Ctrl-"},
		{"gui-secure-paste-sequence": "Hyper-v"},
		{"gui-max-clipboard-size": "255"},
	} {
		if _, err := ConfigFromFeatures(bad, nil); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestParseMaxSize(t *testing.T) {
	for in, want := range map[string]int{"256": 256, "64000": 64000, "256000": 256000} {
		if got, err := ParseMaxSize(in); err != nil || got != want {
			t.Errorf("%q: %d, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "255", "256001", "+300", "-1", "1e4", "64000 ", "0x100"} {
		if got, err := ParseMaxSize(in); err == nil {
			t.Errorf("%q accepted as %d", in, got)
		}
	}
}
