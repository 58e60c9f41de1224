// Package frame draws the trusted frame around a qube's window: a border in
// the qube's label colour on every side and, where the compositor draws no
// title bar itself, a title bar with "[qube] title". The qube's pixels live
// in a content subsurface inset by the frame, so they can never cover it.
package frame

import (
	"fmt"
	"image"
	"image/color"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Style is the geometry and colour of a frame.
type Style struct {
	Border   int        // pixels on every side
	TitleBar int        // height of the title bar above the content; 0 for none
	Label    color.RGBA // the qube's label colour
}

// Insets returns where the content sits inside the frame.
func (s Style) Insets() (left, top, right, bottom int) {
	return s.Border, s.Border + s.TitleBar, s.Border, s.Border
}

// Size returns the frame size around content of w×h.
func (s Style) Size(w, h int) (int, int) {
	l, t, r, b := s.Insets()
	return w + l + r, h + t + b
}

// Title returns the window title shown for a qube's window.
func Title(qube, title string) string { return "[" + qube + "] " + title }

// TextColor is black or white, whichever contrasts more with the label.
func TextColor(label color.RGBA) color.RGBA {
	// Rec. 601 luma is enough to pick between two colours.
	if 299*int(label.R)+587*int(label.G)+114*int(label.B) > 128*1000 {
		return color.RGBA{A: 0xff}
	}
	return color.RGBA{0xff, 0xff, 0xff, 0xff}
}

// XRGB is an image.Image view of an XRGB8888 buffer (little-endian B,G,R,X),
// the layout of WL_SHM_FORMAT_XRGB8888.
type XRGB struct {
	Pix    []byte
	Stride int
	Rect   image.Rectangle
}

// NewXRGB wraps pix; it fails if pix is too small for w×h at stride.
func NewXRGB(pix []byte, w, h, stride int) (*XRGB, error) {
	if w < 0 || h < 0 || stride < 4*w || (h > 0 && len(pix) < stride*(h-1)+4*w) {
		return nil, fmt.Errorf("frame: %d bytes cannot hold %dx%d pixels at stride %d", len(pix), w, h, stride)
	}
	return &XRGB{Pix: pix, Stride: stride, Rect: image.Rect(0, 0, w, h)}, nil
}

func (p *XRGB) ColorModel() color.Model { return color.RGBAModel }
func (p *XRGB) Bounds() image.Rectangle { return p.Rect }

func (p *XRGB) At(x, y int) color.Color {
	if !image.Pt(x, y).In(p.Rect) {
		return color.RGBA{}
	}
	i := y*p.Stride + 4*x
	return color.RGBA{p.Pix[i+2], p.Pix[i+1], p.Pix[i], 0xff}
}

// Set makes XRGB a draw.Image, as the font drawer needs.
func (p *XRGB) Set(x, y int, c color.Color) {
	if !image.Pt(x, y).In(p.Rect) {
		return
	}
	r, g, b, _ := c.RGBA()
	i := y*p.Stride + 4*x
	p.Pix[i], p.Pix[i+1], p.Pix[i+2], p.Pix[i+3] = byte(b>>8), byte(g>>8), byte(r>>8), 0xff
}

// Fill paints rectangle r (clipped to the image) with c.
func (p *XRGB) Fill(r image.Rectangle, c color.RGBA) {
	r = r.Intersect(p.Rect)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := p.Pix[y*p.Stride:]
		for x := r.Min.X; x < r.Max.X; x++ {
			row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = c.B, c.G, c.R, 0xff
		}
	}
}

// Paint draws the frame into dst (frame-sized): the border and title bar
// in the label colour, then the title text, clipped so it never leaves the
// bar. The content area is left alone: the content subsurface covers it.
func Paint(dst *XRGB, s Style, title string) {
	l, t, r, b := s.Insets()
	w, h := dst.Rect.Dx(), dst.Rect.Dy()
	dst.Fill(image.Rect(0, 0, w, t), s.Label)
	dst.Fill(image.Rect(0, h-b, w, h), s.Label)
	dst.Fill(image.Rect(0, t, l, h-b), s.Label)
	dst.Fill(image.Rect(w-r, t, w, h-b), s.Label)
	if s.TitleBar <= 0 {
		return
	}
	bar := image.Rect(s.Border, s.Border, dst.Rect.Dx()-s.Border, s.Border+s.TitleBar).Intersect(dst.Rect)
	face := basicfont.Face7x13
	m := face.Metrics()
	baseline := bar.Min.Y + (bar.Dy()+m.Ascent.Ceil()-m.Descent.Ceil())/2
	d := font.Drawer{
		Dst:  clip{dst, bar},
		Src:  image.NewUniform(TextColor(s.Label)),
		Face: face,
		Dot:  fixed.P(bar.Min.X+4, baseline),
	}
	d.DrawString(title)
}

// clip restricts drawing to a rectangle of an XRGB.
type clip struct {
	*XRGB
	r image.Rectangle
}

func (c clip) Bounds() image.Rectangle { return c.r }

func (c clip) Set(x, y int, col color.Color) {
	if image.Pt(x, y).In(c.r) {
		c.XRGB.Set(x, y, col)
	}
}
