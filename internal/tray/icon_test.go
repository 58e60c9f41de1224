package tray

import (
	"image/color"
	"testing"
)

func TestCubeFaces(t *testing.T) {
	for _, c := range []struct {
		name      string
		connected bool
		running   []color.RGBA
		want      [3]color.RGBA
	}{
		{"idle", true, nil, [3]color.RGBA{shade(idleGray, 1.25), idleGray, shade(idleGray, 0.7)}},
		{"no daemon", false, []color.RGBA{red}, [3]color.RGBA{shade(deadGray, 1.25), deadGray, shade(deadGray, 0.7)}},
		{"one", true, []color.RGBA{green}, [3]color.RGBA{shade(green, 1.25), green, shade(green, 0.7)}},
		{"three", true, []color.RGBA{red, green, blue}, [3]color.RGBA{shade(red, 1.25), green, shade(blue, 0.7)}},
	} {
		if got := cubeFaces(c.connected, c.running); got != c.want {
			t.Errorf("%s: faces %v, want %v", c.name, got, c.want)
		}
	}
	if got := shade(black, 1.25); got != (color.RGBA{0x40, 0x40, 0x40, 0xff}) {
		t.Errorf("lightened black = %v; the top face of a black qube must stay visible", got)
	}
}

func TestDrawCubeEveryFaceAndTransparentCorners(t *testing.T) {
	faces := [3]color.RGBA{red, green, blue}
	for _, size := range iconSizes {
		img := drawCube(size, faces)
		at := func(fx, fy float64) color.NRGBA { return img.NRGBAAt(int(fx*float64(size)), int(fy*float64(size))) }
		for i, p := range [][2]float64{{0.5, 0.25}, {0.27, 0.64}, {0.73, 0.64}} {
			want := color.NRGBA{faces[i].R, faces[i].G, faces[i].B, 0xff}
			if got := at(p[0], p[1]); got != want {
				t.Errorf("%dpx face %d: %v, want %v", size, i, got, want)
			}
		}
		for _, p := range [][2]float64{{0, 0}, {0.99, 0}, {0, 0.99}, {0.99, 0.99}} {
			if got := at(p[0], p[1]); got.A != 0 {
				t.Errorf("%dpx corner %v is not transparent: %v", size, p, got)
			}
		}
	}
}
