package sni

import (
	"image"
	"image/color"
)

// PixmapFromImage converts an image to the ARGB32 network-byte-order pixmap
// that IconPixmap carries, with straight (not premultiplied) alpha.
func PixmapFromImage(img image.Image) Pixmap {
	b := img.Bounds()
	p := Pixmap{Width: int32(b.Dx()), Height: int32(b.Dy()), Data: make([]byte, 0, 4*b.Dx()*b.Dy())}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			p.Data = append(p.Data, c.A, c.R, c.G, c.B)
		}
	}
	return p
}
