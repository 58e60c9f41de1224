package frame

import (
	"image"
	"image/color"
	"testing"
)

func TestPaintKeepsTextInTheBar(t *testing.T) {
	s := Style{Border: 3, TitleBar: 16, Label: color.RGBA{0xed, 0xd4, 0, 0xff}} // yellow
	fw, fh := s.Size(60, 20)
	if fw != 66 || fh != 42 {
		t.Fatalf("frame size %dx%d, want 66x42", fw, fh)
	}
	pix := make([]byte, 4*fw*fh)
	img, err := NewXRGB(pix, fw, fh, 4*fw)
	if err != nil {
		t.Fatal(err)
	}
	// A title far wider than the bar, to test clipping.
	Paint(img, s, Title("personal", "a very long title that cannot fit into sixty pixels"))
	text := TextColor(s.Label)
	if text != (color.RGBA{A: 0xff}) {
		t.Fatalf("text on yellow is %v, want black", text)
	}
	bar := image.Rect(s.Border, s.Border, fw-s.Border, s.Border+s.TitleBar)
	l, top, _, _ := s.Insets()
	content := image.Rect(l, top, l+60, top+20)
	var inBar int
	for y := range fh {
		for x := range fw {
			c := img.At(x, y).(color.RGBA)
			switch {
			case image.Pt(x, y).In(content):
				if pix[(y*fw+x)*4] != 0 {
					t.Fatalf("content area pixel (%d,%d) painted", x, y)
				}
				continue
			case c == text && image.Pt(x, y).In(bar):
				inBar++
			case c != s.Label:
				t.Fatalf("pixel (%d,%d) is %v outside the title text", x, y, c)
			}
			if pix[(y*fw+x)*4+3] != 0xff {
				t.Fatalf("pixel (%d,%d) X byte is %#x", x, y, pix[(y*fw+x)*4+3])
			}
		}
	}
	if inBar < 50 {
		t.Errorf("only %d text pixels in the bar", inBar)
	}
}

func TestTextColorContrasts(t *testing.T) {
	for _, c := range []struct {
		label color.RGBA
		white bool
	}{
		{color.RGBA{0xcc, 0, 0, 0xff}, true},        // red
		{color.RGBA{0x73, 0xd2, 0x16, 0xff}, false}, // green
		{color.RGBA{0, 0, 0, 0xff}, true},           // black
		{color.RGBA{0x34, 0x65, 0xa4, 0xff}, true},  // blue
	} {
		if got := TextColor(c.label) == (color.RGBA{0xff, 0xff, 0xff, 0xff}); got != c.white {
			t.Errorf("label %v: white text %v, want %v", c.label, got, c.white)
		}
	}
}

func TestNewXRGBRejectsShortBuffers(t *testing.T) {
	for _, c := range []struct{ n, w, h, stride int }{
		{100, 10, 10, 40}, {400, 10, 10, 36}, {400, -1, 10, 40}, {0, 1, 1, 4},
	} {
		if _, err := NewXRGB(make([]byte, c.n), c.w, c.h, c.stride); err == nil {
			t.Errorf("%d bytes for %dx%d stride %d accepted", c.n, c.w, c.h, c.stride)
		}
	}
	if _, err := NewXRGB(make([]byte, 48+40), 10, 2, 48); err != nil {
		t.Errorf("last row without padding refused: %v", err)
	}
}

func red() color.RGBA { return color.RGBA{0xcc, 0, 0, 0xff} }
