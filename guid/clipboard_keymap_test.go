package guid

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qube-desktop/qube-desktop/internal/clipboard"
)

// swayKeymap is what sway 1.7 sent the guid for a virtual keyboard with
// the pc+us layout (xkb_keymap_get_as_string output).
func swayKeymap(t testing.TB) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", "sway-pc-us.xkb"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestKeymapFromSway(t *testing.T) {
	km, err := parseKeymap(append(swayKeymap(t), 0)) // the file ends with a NUL
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		sym  string
		code uint32
	}{
		{"c", 54}, {"C", 54}, {"v", 55}, {"V", 55}, {"a", 38}, {"1", 10}, {"exclam", 10},
		{"Insert", 118}, {"F12", 96}, {"Escape", 9}, {"space", 65},
		{"slash", 61},      // <AB10>, not the keypad's KP_Divide
		{"backslash", 51},  // <BKSL>
		{"Print", 107},     // symbols[Group1]= form with a type=
		{"less", 94},       // level 1 of <LSGT> beats level 2 of the lower <AB08>
		{"Delete", 119},    // a one-level key
		{"underscore", 20}, // level 2
	} {
		ks, ok := keysymOf(c.sym)
		if !ok {
			t.Fatalf("keysymOf(%q) failed", c.sym)
		}
		if got, ok := km.keycodeOf(ks); !ok || got != c.code {
			t.Errorf("keycode of %s = %d, %v; want %d", c.sym, got, ok, c.code)
		}
	}
	// Only X keycodes: the keymap reaches 708.
	for ks, kc := range km {
		if kc < 8 || kc > 255 {
			t.Errorf("keysym %#x on keycode %d", ks, kc)
		}
	}
	if !clipboard.DefaultCopy.Match(clipboard.ControlMask|clipboard.ShiftMask, 54, km.keycodeOf) {
		t.Error("Ctrl+Shift on keycode 54 is not the default copy hotkey")
	}
}

// A French layout: the keysym a hotkey names decides the key, not the
// key's position on a US keyboard.
func TestKeymapLayoutDecides(t *testing.T) {
	src := `xkb_keymap {
xkb_keycodes "test" { minimum = 8; maximum = 255; <AD01> = 24; <AC01> = 38; <AB01> = 52; <AC10> = 47; <LVL3> = 92;
	indicator 1 = "Caps Lock"; alias <ALIA> = <AD01>; };
xkb_types "t" { type "TWO_LEVEL" { modifiers= Shift; map[Shift]= Level2; level_name[Level1]= "Base"; }; };
xkb_compat "c" { interpret Any+AnyOf(all) { action= SetMods(modifiers=modMapMods,clearLocks); }; };
xkb_symbols "fr" {
	name[Group1]="French";
	key <AD01> { [ a, A, ae, AE ] };
	key <AC01> { type= "TWO_LEVEL", [ q, Q ] };
	key <AB01> {
		type[Group1]= "FOUR_LEVEL",
		actions[Group1]= [ NoAction(), SetMods(modifiers=Shift,clearLocks) ],
		symbols[Group1]= [ w, W ],
		symbols[Group2]= [ z, Z ]
	};
	key <AC10> { [ m, M ], [ a, A ] };   // a second group: 'a' stays on AD01
	key <LVL3> { vmods= LevelThree, [ ISO_Level3_Shift ] };
	modifier_map Mod5 { <LVL3> };
};
};`
	km, err := parseKeymap([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := map[uint32]uint32{'a': 24, 'A': 24, 'q': 38, 'Q': 38, 'w': 52, 'W': 52, 'z': 52, 'Z': 52, 'm': 47, 'M': 47}
	for ks, code := range want {
		if got, ok := km[ks]; !ok || got != code {
			t.Errorf("keysym %q on %d, %v; want %d", rune(ks), got, ok, code)
		}
	}
	if len(km) != len(want) {
		t.Errorf("keymap %v has keysyms beyond %v", km, want)
	}
	h, _ := clipboard.ParseHotkey("Ctrl-Shift-a")
	if !h.Match(clipboard.ControlMask|clipboard.ShiftMask, 24, km.keycodeOf) || h.Match(clipboard.ControlMask|clipboard.ShiftMask, 38, km.keycodeOf) {
		t.Error("Ctrl-Shift-a does not follow the layout")
	}
}

func TestKeymapErrors(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"", "no xkb_keycodes"},
		{`xkb_keymap { xkb_keycodes { <A> = 9; }; };`, "no xkb_keycodes or no xkb_symbols"},
		{`xkb_keycodes { <A> = nine; }; xkb_symbols { };`, "keycode of <A>"},
		{`xkb_keycodes { <AAAA = 9; }; xkb_symbols { };`, "unterminated key name"},
		{`xkb_keycodes { <A> = 9; }; xkb_symbols { key <A> { [ a, "x" ] }; };`, "in a keysym list"},
		{`xkb_keycodes { <A> = 9; }; xkb_symbols { key <A> { symbols[Group9]= [ a ] }; };`, "not Group1..Group4"},
		{`xkb_keycodes { <A> = 9; }; xkb_symbols { key <A> { [ a ] };`, "unterminated"},
		{`xkb_keycodes { <A> = 9; }; xkb_symbols "x { };`, "unterminated string"},
	} {
		_, err := parseKeymap([]byte(c.src))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("parseKeymap(%q) = %v, want an error with %q", c.src, err, c.want)
		}
	}
}

func TestReadKeymapSharedFd(t *testing.T) {
	src := swayKeymap(t)
	f, err := os.CreateTemp(t.TempDir(), "keymap")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(src); err != nil { // the offset is now at the end, as another client left it
		t.Fatal(err)
	}
	km, err := readKeymap(f, uint32(len(src)))
	if err != nil || km['c'] != 54 {
		t.Fatalf("readKeymap: %v, c on %d", err, km['c'])
	}
	if _, err := readKeymap(f, uint32(len(src)+10)); err == nil {
		t.Error("a keymap shorter than announced was read")
	}
	if _, err := readKeymap(f, maxKeymap+1); err == nil {
		t.Error("a keymap over the limit was read")
	}
}

// FuzzKeymap: any text gives a keymap or an error, never a panic, and
// only X keycodes.
func FuzzKeymap(f *testing.F) {
	f.Add(swayKeymap(f))
	f.Add([]byte(`xkb_keycodes { <A> = 38; alias <B> = <A>; }; xkb_symbols { key <B> { [ a, A ], symbols[Group2]= [ b ] }; };`))
	f.Add([]byte(`xkb_symbols { key <A> { actions[Group1]= [ SetMods(modifiers=Shift) ], [ c ] }; }; xkb_keycodes { <A> = 300; };`))
	f.Fuzz(func(t *testing.T, src []byte) {
		km, err := parseKeymap(src)
		if err != nil {
			return
		}
		for ks, kc := range km {
			if kc < 8 || kc > 255 {
				t.Fatalf("keysym %#x on keycode %d", ks, kc)
			}
		}
	})
}
