package clipboard

import (
	"testing"
)

// FuzzParseMetadata: the parser never panics, and whatever it accepts
// survives a Marshal/Parse round trip unchanged.
func FuzzParseMetadata(f *testing.F) {
	f.Add([]byte(copyMetaBytes))
	f.Add([]byte("{\n\"vmname\":\"dom0\",\n\"sent_size\":5,\n}\n"))
	f.Add([]byte("{\n\"x\":" + "1\n}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMetadata(b)
		if err != nil {
			return
		}
		again, err := ParseMetadata(m.Marshal())
		if err != nil || again != m {
			t.Fatalf("round trip of %+v: %+v, %v", m, again, err)
		}
	})
}

// FuzzParseHotkey: configuration strings never panic the parser, and a
// parsed hotkey prints back to one that parses to the same thing.
func FuzzParseHotkey(f *testing.F) {
	for _, s := range []string{"Ctrl-Shift-c", "Mod4-v", "none", "alt-mod3-F12", "U20AC", "0xff63"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseHotkey(s)
		if err != nil {
			return
		}
		again, err := ParseHotkey(h.String())
		if err != nil || again != h {
			t.Fatalf("%q → %+v → %q → %+v, %v", s, h, h.String(), again, err)
		}
	})
}
