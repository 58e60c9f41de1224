package clipboard

import (
	"fmt"
	"strconv"
	"strings"
)

// namedKeysyms are the X keysym names (keysymdef.h) a hotkey is likely to
// use besides letters and digits, which name themselves.
var namedKeysyms = map[string]uint32{
	"space": 0x20, "exclam": 0x21, "quotedbl": 0x22, "numbersign": 0x23, "dollar": 0x24,
	"percent": 0x25, "ampersand": 0x26, "apostrophe": 0x27, "parenleft": 0x28, "parenright": 0x29,
	"asterisk": 0x2a, "plus": 0x2b, "comma": 0x2c, "minus": 0x2d, "period": 0x2e, "slash": 0x2f,
	"colon": 0x3a, "semicolon": 0x3b, "less": 0x3c, "equal": 0x3d, "greater": 0x3e, "question": 0x3f,
	"at": 0x40, "bracketleft": 0x5b, "backslash": 0x5c, "bracketright": 0x5d, "asciicircum": 0x5e,
	"underscore": 0x5f, "grave": 0x60, "braceleft": 0x7b, "bar": 0x7c, "braceright": 0x7d, "asciitilde": 0x7e,
	"BackSpace": 0xff08, "Tab": 0xff09, "Return": 0xff0d, "Pause": 0xff13, "Scroll_Lock": 0xff14,
	"Escape": 0xff1b, "Home": 0xff50, "Left": 0xff51, "Up": 0xff52, "Right": 0xff53, "Down": 0xff54,
	"Prior": 0xff55, "Page_Up": 0xff55, "Next": 0xff56, "Page_Down": 0xff56, "End": 0xff57,
	"Print": 0xff61, "Insert": 0xff63, "Menu": 0xff67, "Delete": 0xffff,
}

// stringToKeysym is the part of XStringToKeysym a hotkey needs: letters and
// digits, the names above, F1..F35, "0x<hex>" and "U<hex>" (Unicode).
func stringToKeysym(s string) (uint32, bool) {
	if len(s) == 1 && (s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z' || s[0] >= '0' && s[0] <= '9') {
		return uint32(s[0]), true
	}
	if ks, ok := namedKeysyms[s]; ok {
		return ks, true
	}
	if n, ok := strings.CutPrefix(s, "F"); ok {
		if f, err := strconv.ParseUint(n, 10, 8); err == nil && f >= 1 && f <= 35 && n[0] != '0' {
			return 0xffbe + uint32(f) - 1, true
		}
	}
	if h, ok := strings.CutPrefix(s, "0x"); ok && h != "" {
		if v, err := strconv.ParseUint(h, 16, 32); err == nil && v != 0 {
			return uint32(v), true
		}
	}
	if h, ok := strings.CutPrefix(s, "U"); ok && len(h) >= 2 && len(h) <= 8 {
		v, err := strconv.ParseUint(h, 16, 32)
		if err != nil || v > 0x10ffff || v < 0x20 || v >= 0xd800 && v <= 0xdfff {
			return 0, false
		}
		if v <= 0x7e || v >= 0xa0 && v <= 0xff { // Latin-1 keysyms are the code points
			return uint32(v), true
		}
		return 0x01000000 | uint32(v), true
	}
	return 0, false
}

// keysymName is the inverse for String.
func keysymName(ks uint32) string {
	if ks < 0x80 && (ks >= 'a' && ks <= 'z' || ks >= 'A' && ks <= 'Z' || ks >= '0' && ks <= '9') {
		return string(rune(ks))
	}
	if ks >= 0xffbe && ks < 0xffbe+35 {
		return fmt.Sprintf("F%d", ks-0xffbe+1)
	}
	best := ""
	for name, v := range namedKeysyms {
		// Prior/Page_Up share a keysym: pick one name deterministically.
		if v == ks && (best == "" || name < best) {
			best = name
		}
	}
	if best != "" {
		return best
	}
	return fmt.Sprintf("0x%x", ks)
}
