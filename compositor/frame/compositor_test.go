package frame_test

import (
	"image"
	"image/color"
	"strings"
	"testing"
	"time"

	"github.com/qube-desktop/qube-desktop/assets/colorschemes"
	"github.com/qube-desktop/qube-desktop/compositor/frame"
	"github.com/qube-desktop/qube-desktop/compositor/wayland"
	"github.com/qube-desktop/qube-desktop/internal/testenv"
)

const contentW, contentH = 160, 96

var red = color.RGBA{0xcc, 0, 0, 0xff} // Qubes' red label

// contentPixel is the test pattern: every content pixel differs from its
// neighbours, so an exact match pins the position and the bytes.
func contentPixel(x, y int) color.RGBA {
	return color.RGBA{uint8(x), uint8(y), uint8(0x40 + (x+y)%64), 0xff}
}

// showWindow opens a framed toplevel whose content comes from a memfd
// wl_shm pool, as the guid does with a qube's shared region.
func showWindow(t *testing.T, comp *testenv.Compositor) (*wayland.Client, *frame.Window) {
	return showWindowPalette(t, comp, "")
}

// showWindowPalette is showWindow with a KDE colour scheme for KWin.
func showWindowPalette(t *testing.T, comp *testenv.Compositor, palette string) (*wayland.Client, *frame.Window) {
	c, err := wayland.Connect(comp.SocketPath())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	g, err := frame.BindGlobals(c)
	if err != nil {
		t.Fatal(err)
	}
	style := frame.Style{Border: 4, TitleBar: 18, Label: red}
	w, err := frame.NewWindow(g, frame.Options{
		Style: style, Title: frame.Title("work", "test window"), AppID: "qube-work.test",
		Palette: palette, ContentW: contentW, ContentH: contentH,
	})
	if err != nil {
		t.Fatal(err)
	}

	// A "region" with the content buffer at a page-aligned offset.
	const offset = 4096
	size := offset + 4*contentW*contentH
	region, err := wayland.NewMemfd("region", size)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { region.Close() })
	img, err := frame.NewXRGB(region.Data[offset:], contentW, contentH, 4*contentW)
	if err != nil {
		t.Fatal(err)
	}
	for y := range contentH {
		for x := range contentW {
			img.Set(x, y, contentPixel(x, y))
		}
	}
	pool, err := g.Shm.CreatePool(int(region.File.Fd()), int32(size))
	if err != nil {
		t.Fatal(err)
	}
	buf, err := wayland.NewBuffer(pool, offset, contentW, contentH, 4*contentW, wayland.WlShmFormatXrgb8888)
	if err != nil {
		t.Fatal(err)
	}
	// A buffer larger than the content would spill over the frame.
	big, err := wayland.NewBuffer(pool, 0, contentW+1, contentH, 4*(contentW+1), wayland.WlShmFormatXrgb8888)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.SetContent(big); err == nil {
		t.Fatal("content buffer larger than the content accepted")
	}
	if err := w.SetContent(buf); err != nil {
		t.Fatal(err)
	}
	if err := c.Roundtrip(); err != nil {
		t.Fatal(err)
	}
	if !buf.Busy() {
		t.Error("content buffer not marked busy after attach")
	}
	return c, w
}

// findContent waits until the content pattern shows up and returns the
// screenshot and the content's top-left corner.
func findContent(t *testing.T, comp *testenv.Compositor, c *wayland.Client) (image.Image, image.Point) {
	return findPattern(t, comp, c, contentPixel)
}

// findPattern waits until a screenshot shows pattern's top-left pixels.
func findPattern(t *testing.T, comp *testenv.Compositor, c *wayland.Client, pattern func(x, y int) color.RGBA) (image.Image, image.Point) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if err := c.Roundtrip(); err != nil {
			t.Fatal(err)
		}
		img := comp.Screenshot(t)
		b := img.Bounds()
		for y := b.Min.Y; y < b.Max.Y-1; y++ {
			for x := b.Min.X; x < b.Max.X-1; x++ {
				if rgb(img.At(x, y)) == pattern(0, 0) && rgb(img.At(x+1, y+1)) == pattern(1, 1) {
					return img, image.Pt(x, y)
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("content never appeared on screen")
	return nil, image.Point{}
}

func rgb(c color.Color) color.RGBA {
	r, g, b, _ := c.RGBA()
	return color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 0xff}
}

// checkWindow asserts exact content and the label colour all round it.
func checkWindow(t *testing.T, img image.Image, at image.Point, style frame.Style) {
	t.Helper()
	checkFramed(t, img, at, style, contentPixel, contentW, contentH)
}

func checkFramed(t *testing.T, img image.Image, at image.Point, style frame.Style, pattern func(x, y int) color.RGBA, contentW, contentH int) {
	t.Helper()
	for y := range contentH {
		for x := range contentW {
			if got, want := rgb(img.At(at.X+x, at.Y+y)), pattern(x, y); got != want {
				t.Fatalf("content pixel (%d,%d) is %v, want %v", x, y, got, want)
			}
		}
	}
	l, top, r, b := style.Insets()
	frameRect := image.Rect(at.X-l, at.Y-top, at.X+contentW+r, at.Y+contentH+b)
	sides := map[string]image.Rectangle{
		"left":   image.Rect(frameRect.Min.X, frameRect.Min.Y, at.X, frameRect.Max.Y),
		"right":  image.Rect(at.X+contentW, frameRect.Min.Y, frameRect.Max.X, frameRect.Max.Y),
		"top":    image.Rect(frameRect.Min.X, frameRect.Min.Y, frameRect.Max.X, frameRect.Min.Y+style.Border),
		"bottom": image.Rect(frameRect.Min.X, at.Y+contentH, frameRect.Max.X, frameRect.Max.Y),
	}
	for name, side := range sides {
		for y := side.Min.Y; y < side.Max.Y; y++ {
			for x := side.Min.X; x < side.Max.X; x++ {
				if got := rgb(img.At(x, y)); got != red {
					t.Fatalf("%s border pixel (%d,%d) is %v, want label colour %v", name, x, y, got, red)
				}
			}
		}
	}
	// Just outside the frame is the compositor's background, not the label.
	if got := rgb(img.At(frameRect.Min.X-1, frameRect.Min.Y-1)); got == red {
		t.Errorf("frame is larger than its style: pixel outside is %v", got)
	}
}

func TestFramedWindowOnWeston(t *testing.T) {
	comp := testenv.StartWeston(t, 800, 600)
	c, w := showWindow(t, comp)
	if w.ServerSideDecorations() {
		t.Fatal("weston offers no xdg-decoration, yet the window uses server-side decorations")
	}
	img, at := findContent(t, comp, c)
	checkWindow(t, img, at, w.Style())

	// The title bar: label colour with some contrasting text pixels.
	l, top, _, _ := w.Style().Insets()
	bar := image.Rect(at.X-l+4, at.Y-top+4, at.X+contentW, at.Y)
	text := frame.TextColor(red)
	var textPixels int
	for y := bar.Min.Y; y < bar.Max.Y; y++ {
		for x := bar.Min.X; x < bar.Max.X; x++ {
			switch rgb(img.At(x, y)) {
			case text:
				textPixels++
			case red:
			default:
				// Anti-aliasing is absent from the bitmap font.
				t.Fatalf("title bar pixel (%d,%d) is %v", x, y, rgb(img.At(x, y)))
			}
		}
	}
	if textPixels < 50 {
		t.Errorf("title bar shows %d text pixels, want the title text", textPixels)
	}
}

// popupPixel is the popup's test pattern, distinct from the window's.
func popupPixel(x, y int) color.RGBA { return color.RGBA{0xf0, uint8(x * 3), uint8(y * 5), 0xff} }

func TestPopupOnWeston(t *testing.T) {
	comp := testenv.StartWeston(t, 800, 600)
	c, w := showWindow(t, comp)
	_, winAt := findContent(t, comp, c)

	g, err := frame.BindGlobals(c)
	if err != nil {
		t.Fatal(err)
	}
	const pw, ph, px, py = 48, 30, 20, 12
	style := frame.Style{Border: 2, Label: red}
	p, err := frame.NewPopup(g, w, frame.PopupOptions{Style: style, X: px, Y: py, ContentW: pw, ContentH: ph})
	if err != nil {
		t.Fatal(err)
	}
	mem, err := wayland.NewMemfd("popup", 4*pw*ph)
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	img, err := frame.NewXRGB(mem.Data, pw, ph, 4*pw)
	if err != nil {
		t.Fatal(err)
	}
	for y := range ph {
		for x := range pw {
			img.Set(x, y, popupPixel(x, y))
		}
	}
	pool, err := g.Shm.CreatePool(int(mem.File.Fd()), int32(4*pw*ph))
	if err != nil {
		t.Fatal(err)
	}
	buf, err := wayland.NewBuffer(pool, 0, pw, ph, 4*pw, wayland.WlShmFormatXrgb8888)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SetContent(buf); err != nil {
		t.Fatal(err)
	}
	shot, at := findPattern(t, comp, c, popupPixel)
	if want := winAt.Add(image.Pt(px, py)); at != want {
		t.Errorf("popup content at %v, want %v (parent content %v + %d,%d)", at, want, winAt, px, py)
	}
	checkFramed(t, shot, at, style, popupPixel, pw, ph)
}

func TestFramedWindowOnSway(t *testing.T) {
	comp := testenv.StartSway(t, 800, 600)
	c, w := showWindow(t, comp)
	img, at := findContent(t, comp, c)
	if !w.ServerSideDecorations() {
		t.Error("sway offers xdg-decoration server-side mode, but the window draws its own title bar")
	}
	checkWindow(t, img, at, w.Style())

	titles := comp.SwayTitles(t)
	if got := titles["qube-work.test"]; got != "[work] test window" {
		t.Errorf("sway shows title %q for app_id qube-work.test (all: %v)", got, titles)
	}

	if err := w.SetTitle("[work] renamed"); err != nil {
		t.Fatal(err)
	}
	if err := c.Roundtrip(); err != nil {
		t.Fatal(err)
	}
	titles = comp.SwayTitles(t)
	if got := titles["qube-work.test"]; got != "[work] renamed" {
		t.Errorf("after SetTitle sway shows title %q, want %q", got, "[work] renamed")
	}
}

func TestFramedWindowOnKWin(t *testing.T) {
	comp := testenv.StartKWin(t, 800, 600)
	c, w := showWindow(t, comp)
	img, at := findContent(t, comp, c)
	checkWindow(t, img, at, w.Style())
}

// TestKWinTitleBarInLabelColour: with the label's colour scheme as its
// decoration palette, KWin draws its own title bar in the label colour.
func TestKWinTitleBarInLabelColour(t *testing.T) {
	comp := testenv.StartKWin(t, 800, 600)
	scheme, err := colorschemes.Install(t.TempDir(), "qubes-red")
	if err != nil {
		t.Fatal(err)
	}
	// The share of label-coloured pixels in the 16 rows above the frame.
	barRed := func(palette string) float64 {
		c, w := showWindowPalette(t, comp, palette)
		defer w.Destroy()
		img, at := findContent(t, comp, c)
		if !w.ServerSideDecorations() {
			t.Fatal("KWin did not decorate the window")
		}
		top := at.Y - w.Style().Border
		var n, total int
		for y := top - 16; y < top; y++ {
			for x := at.X; x < at.X+contentW; x++ {
				total++
				if rgb(img.At(x, y)) == red {
					n++
				}
			}
		}
		return float64(n) / float64(total)
	}
	if got := barRed(""); got > 0.1 {
		t.Fatalf("without a palette %.0f%% of KWin's title bar is the label colour: the test cannot tell", 100*got)
	}
	if got := barRed(scheme); got < 0.6 {
		t.Errorf("with palette %s only %.0f%% of KWin's title bar is the label colour", scheme, 100*got)
	}
}

// textRight returns one past the rightmost column of bar showing the text
// colour, relative to bar's left edge; 0 when there is no text.
func textRight(img image.Image, bar image.Rectangle, text color.RGBA) int {
	right := 0
	for y := bar.Min.Y; y < bar.Max.Y; y++ {
		for x := bar.Min.X; x < bar.Max.X; x++ {
			if rgb(img.At(x, y)) == text {
				right = max(right, x-bar.Min.X+1)
			}
		}
	}
	return right
}

// TestSetTitleRepaintsTitleBar: the agent names a window after mapping it,
// so the self-drawn bar must follow title changes.
func TestSetTitleRepaintsTitleBar(t *testing.T) {
	comp := testenv.StartWeston(t, 800, 600)
	c, w := showWindow(t, comp)
	_, at := findContent(t, comp, c)
	l, top, _, _ := w.Style().Insets()
	b := w.Style().Border
	bar := image.Rect(at.X-l+b, at.Y-top+b, at.X+contentW, at.Y) // as Paint clips
	text := frame.TextColor(red)
	// The bitmap font is 7 px a character; the bar starts text 4 px in.
	waitSpan := func(title string) int {
		t.Helper()
		if err := w.SetTitle(title); err != nil {
			t.Fatal(err)
		}
		want := 4 + 7*len(strings.TrimRight(title, " "))
		var got int
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if err := c.Roundtrip(); err != nil {
				t.Fatal(err)
			}
			// Glyphs end a pixel or two before their advance.
			if got = textRight(comp.Screenshot(t), bar, text); got > want-7 && got <= want {
				return got
			}
		}
		t.Fatalf("title %q: text reaches column %d of the bar, want about %d", title, got, want)
		return 0
	}
	short := waitSpan("[work] ")
	long := waitSpan("[work] renamed")
	if long <= short+40 {
		t.Errorf("text spans %d px after the rename, %d before", long, short)
	}
}
