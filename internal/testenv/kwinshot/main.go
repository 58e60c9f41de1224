// Command kwinshot saves a PNG of KWin's whole workspace through the
// org.kde.KWin.ScreenShot2 D-Bus interface (session bus from the
// environment). KWin only answers programs whose .desktop file lists
// X-KDE-DBUS-Restricted-Interfaces=org.kde.KWin.ScreenShot2; testenv.StartKWin
// writes that file.
//
// Usage: kwinshot out.png
package main

import (
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"

	"github.com/godbus/dbus/v5"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: kwinshot out.png")
		os.Exit(2)
	}
	if err := shoot(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "kwinshot:", err)
		os.Exit(1)
	}
}

func shoot(out string) error {
	bus, err := dbus.SessionBus()
	if err != nil {
		return err
	}
	defer bus.Close()
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	opts := map[string]dbus.Variant{"native-resolution": dbus.MakeVariant(true)}
	var reply map[string]dbus.Variant
	call := bus.Object("org.kde.KWin", "/org/kde/KWin/ScreenShot2").
		Call("org.kde.KWin.ScreenShot2.CaptureWorkspace", 0, opts, dbus.UnixFD(w.Fd()))
	w.Close()
	if call.Err != nil {
		return fmt.Errorf("CaptureWorkspace: %w", call.Err)
	}
	if err := call.Store(&reply); err != nil {
		return err
	}
	num := func(k string) (int, error) {
		v, ok := reply[k]
		if !ok {
			return 0, fmt.Errorf("reply lacks %q", k)
		}
		switch n := v.Value().(type) {
		case uint32:
			return int(n), nil
		case int32:
			return int(n), nil
		}
		return 0, fmt.Errorf("reply field %q has type %T", k, v.Value())
	}
	width, err := num("width")
	if err != nil {
		return err
	}
	height, err := num("height")
	if err != nil {
		return err
	}
	stride, err := num("stride")
	if err != nil {
		return err
	}
	format, err := num("format")
	if err != nil {
		return err
	}
	// QImage formats 4 RGB32, 5 ARGB32, 6 ARGB32_Premultiplied: B,G,R,A bytes.
	if format < 4 || format > 6 || width <= 0 || height <= 0 || stride < 4*width {
		return fmt.Errorf("unexpected image %dx%d stride %d format %d", width, height, stride, format)
	}
	pix, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if len(pix) < stride*height {
		return fmt.Errorf("got %d bytes of pixels, want %d", len(pix), stride*height)
	}
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	for y := range height {
		for x := range width {
			p := binary.LittleEndian.Uint32(pix[y*stride+4*x:])
			img.SetRGBA(x, y, color.RGBA{uint8(p >> 16), uint8(p >> 8), uint8(p), 0xff})
		}
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
