package gui

import (
	"image/color"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"

	"github.com/qube-desktop/qube-desktop/internal/qube"
)

func (h *harness) shortcut(mod fyne.KeyModifier, key fyne.KeyName) {
	h.w.Canvas().(fyne.Shortcutable).TypedShortcut(&desktop.CustomShortcut{KeyName: key, Modifier: mod})
}

func TestKeyboardOnly(t *testing.T) {
	h := newHarness(t, sampleQubes(3), winSize)
	c := h.w.Canvas()
	h.shortcut(fyne.KeyModifierShortcutDefault, fyne.KeyF)
	if c.Focused() != h.m.search {
		t.Fatalf("Ctrl+F focused %T, want the search box", c.Focused())
	}
	test.Type(h.m.search, "vault")
	// Tab moves on from the search box and reaches the table.
	for range 20 {
		if c.Focused() == h.m.table {
			break
		}
		test.FocusNext(c)
	}
	if c.Focused() != h.m.table {
		t.Fatal("Tab never reaches the table")
	}
	h.m.table.TypedKey(&fyne.KeyEvent{Name: fyne.KeyDown})
	if h.m.selected != "vault" {
		t.Fatalf("Down selected %q, want vault", h.m.selected)
	}
	h.m.table.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	h.ui.until(t, "settings from Return", func() bool {
		o := c.Overlays().Top()
		return o != nil && shows(o, "Settings: vault")
	})
	c.Overlays().Top().Hide()
	c.Overlays().Remove(c.Overlays().Top())

	// Shift+F10 with nothing focused: GLFW hands it to the canvas as a key.
	c.Unfocus()
	c.OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyF10})
	if o := c.Overlays().Top(); o == nil || !shows(o, "Remove…") {
		t.Fatal("Shift+F10 did not open the context menu")
	}
	c.Overlays().Remove(c.Overlays().Top())

	h.shortcut(fyne.KeyModifierShortcutDefault, fyne.KeyN)
	if o := c.Overlays().Top(); o == nil || !shows(o, "New qube") {
		t.Fatal("Ctrl+N did not open the create dialog")
	}
}

// TestHiDPI draws at scale 2: the label swatch covers four times the pixels.
func TestHiDPI(t *testing.T) {
	h := newHarness(t, sampleQubes(1), winSize)
	red, _ := qube.LabelByName("red")
	at1 := countColour(h.w.Canvas(), red.Color())
	h.w.Canvas().(interface{ SetScale(float32) }).SetScale(2)
	h.w.Resize(winSize)
	at2 := countColour(h.w.Canvas(), red.Color())
	t.Logf("red swatch pixels: %d at scale 1, %d at scale 2", at1, at2)
	if at1 == 0 || at2 < 3*at1 || at2 > 5*at1 {
		t.Errorf("red swatch pixels: %d at scale 1, %d at scale 2; want about 4 times as many", at1, at2)
	}
}

func countColour(c fyne.Canvas, want color.RGBA) int {
	img := c.Capture()
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if uint8(r>>8) == want.R && uint8(g>>8) == want.G && uint8(bl>>8) == want.B {
				n++
			}
		}
	}
	return n
}
