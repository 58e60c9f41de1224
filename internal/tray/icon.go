package tray

import (
	"bytes"
	"image"
	"image/color"
	"image/png"

	"github.com/qube-desktop/qube-desktop/internal/sni"
)

// iconSizes are the pixmap sizes offered to hosts; they pick the closest.
var iconSizes = []int{16, 22, 32, 48, 64}

// The cube outline in unit coordinates: a hexagon split into three rhombi
// (top, left, right faces) that meet at the centre.
var (
	cubeTop   = []pt{{0.5, 0.04}, {0.92, 0.27}, {0.5, 0.5}, {0.08, 0.27}}
	cubeLeft  = []pt{{0.08, 0.27}, {0.5, 0.5}, {0.5, 0.96}, {0.08, 0.73}}
	cubeRight = []pt{{0.5, 0.5}, {0.92, 0.27}, {0.92, 0.73}, {0.5, 0.96}}
)

// Colours of a tray icon with no running qube, and with no daemon.
var (
	idleGray = color.RGBA{0x88, 0x88, 0x88, 0xff}
	deadGray = color.RGBA{0x88, 0x88, 0x88, 0x60}
)

type pt struct{ x, y float64 }

// inside reports whether p lies inside the convex polygon poly (either winding).
func inside(poly []pt, p pt) bool {
	var pos, neg bool
	for i := range poly {
		a, b := poly[i], poly[(i+1)%len(poly)]
		c := (b.x-a.x)*(p.y-a.y) - (b.y-a.y)*(p.x-a.x)
		pos = pos || c > 0
		neg = neg || c < 0
	}
	return !(pos && neg)
}

// shade scales a colour's RGB by f (1 = unchanged), towards white when f > 1.
func shade(c color.RGBA, f float64) color.RGBA {
	ch := func(v uint8) uint8 {
		x := float64(v) * f
		if f > 1 {
			x = float64(v) + (255-float64(v))*(f-1)
		}
		return uint8(min(255, x+0.5))
	}
	return color.RGBA{ch(c.R), ch(c.G), ch(c.B), c.A}
}

// cubeFaces returns the top, left and right face colours of the tray icon:
// the labels of the first running qubes (so the icon shows at a glance
// which trust levels are live), gray when none runs, faint when the daemon
// is unreachable.
func cubeFaces(connected bool, running []color.RGBA) [3]color.RGBA {
	base := [3]color.RGBA{idleGray, idleGray, idleGray}
	if !connected {
		base = [3]color.RGBA{deadGray, deadGray, deadGray}
	} else if len(running) > 0 {
		for i := range base {
			base[i] = running[i%len(running)]
		}
	}
	return [3]color.RGBA{shade(base[0], 1.25), base[1], shade(base[2], 0.7)}
}

// drawCube renders the cube at size×size with 4×4 supersampling.
func drawCube(size int, faces [3]color.RGBA) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	const ss = 4
	polys := [3][]pt{cubeTop, cubeLeft, cubeRight}
	for y := range size {
		for x := range size {
			var r, g, b, a float64
			for sy := range ss {
				for sx := range ss {
					p := pt{(float64(x) + (float64(sx)+0.5)/ss) / float64(size), (float64(y) + (float64(sy)+0.5)/ss) / float64(size)}
					for i, poly := range polys {
						if inside(poly, p) {
							fa := float64(faces[i].A) / 255
							r += float64(faces[i].R) * fa
							g += float64(faces[i].G) * fa
							b += float64(faces[i].B) * fa
							a += fa
							break
						}
					}
				}
			}
			if a == 0 {
				continue
			}
			img.SetNRGBA(x, y, color.NRGBA{uint8(r/a + 0.5), uint8(g/a + 0.5), uint8(b/a + 0.5), uint8(a/(ss*ss)*255 + 0.5)})
		}
	}
	return img
}

// trayIcon returns the icon in every offered size.
func trayIcon(connected bool, running []color.RGBA) []sni.Pixmap {
	faces := cubeFaces(connected, running)
	out := make([]sni.Pixmap, len(iconSizes))
	for i, s := range iconSizes {
		out[i] = sni.PixmapFromImage(drawCube(s, faces))
	}
	return out
}

// swatchPNG is a 16×16 label-colour square with a darker rim, the menu
// icon of a qube entry.
func swatchPNG(c color.RGBA) []byte {
	const n = 16
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	rim := shade(c, 0.6)
	for y := 1; y < n-1; y++ {
		for x := 1; x < n-1; x++ {
			v := c
			if x == 1 || y == 1 || x == n-2 || y == n-2 {
				v = rim
			}
			img.SetNRGBA(x, y, color.NRGBA{v.R, v.G, v.B, 0xff})
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img) // writing to memory cannot fail
	return buf.Bytes()
}
