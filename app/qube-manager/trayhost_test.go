package main

import (
	"encoding/binary"
	"image"
	"io"
	"log"
	"testing"

	"github.com/godbus/dbus/v5"
	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	"github.com/qube-desktop/qube-desktop/internal/sni"
)

// trayHostTitle names the window in which showTrayIcon draws the icon.
const trayHostTitle = "Qube tray (test host)"

// showTrayIcon is a minimal StatusNotifierHost for a session without
// plasmashell: it registers with the watcher, as a panel does, and shows
// the item's icon in an X11 window of its own (through KWin's Xwayland),
// so the KWin screenshot holds the tray as a user would see it. The
// window lives until the test ends.
func showTrayIcon(t *testing.T, host *dbus.Conn, display string, icon image.Image) {
	name := "org.kde.StatusNotifierHost-qube-manager-test"
	if _, err := host.RequestName(name, dbus.NameFlagDoNotQueue); err != nil {
		t.Fatalf("own %s: %v", name, err)
	}
	if err := host.Object(sni.WatcherName, sni.WatcherPath).Call(sni.WatcherInterface+".RegisterStatusNotifierHost", 0, name).Err; err != nil {
		t.Fatalf("RegisterStatusNotifierHost: %v", err)
	}

	xgb.Logger = log.New(io.Discard, "", 0) // it tells of the missing ~/.Xauthority Xwayland does not need
	x, err := xgb.NewConnDisplay(display)
	if err != nil {
		t.Fatalf("connect to Xwayland %s: %v", display, err)
	}
	t.Cleanup(x.Close)
	screen := xproto.Setup(x).DefaultScreen(x)
	b := icon.Bounds()
	w, h := uint16(b.Dx()), uint16(b.Dy())
	// The icon becomes the window's background, so the X server repaints it
	// without an Expose loop.
	pix, err := xproto.NewPixmapId(x)
	if err != nil {
		t.Fatal(err)
	}
	gc, err := xproto.NewGcontextId(x)
	if err != nil {
		t.Fatal(err)
	}
	must := func(what string, err error) {
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	must("CreatePixmap", xproto.CreatePixmapChecked(x, screen.RootDepth, pix, xproto.Drawable(screen.Root), w, h).Check())
	must("CreateGC", xproto.CreateGCChecked(x, gc, xproto.Drawable(pix), 0, nil).Check())
	// Blend onto a panel gray; ZPixmap at depth 24 is BGRX.
	const panel = 0x30
	data := make([]byte, 0, 4*int(w)*int(h))
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := icon.At(x, y).RGBA()
			over := func(c uint32) byte { return byte((c + panel*(0xffff-a)/0xff) >> 8) }
			data = append(data, over(bl), over(g), over(r), 0)
		}
	}
	must("PutImage", xproto.PutImageChecked(x, xproto.ImageFormatZPixmap, xproto.Drawable(pix), gc, w, h, 0, 0, 0, screen.RootDepth, data).Check())

	win, err := xproto.NewWindowId(x)
	if err != nil {
		t.Fatal(err)
	}
	// Bottom right, where a panel's tray would be; KWin honours a
	// user-specified position (WM_NORMAL_HINTS USPosition|USSize).
	px, py := int16(screen.WidthInPixels-w-8), int16(screen.HeightInPixels-h-8-40) // 40: room for the title bar
	must("CreateWindow", xproto.CreateWindowChecked(x, screen.RootDepth, win, screen.Root, px, py, w, h, 0,
		xproto.WindowClassInputOutput, screen.RootVisual, xproto.CwBackPixmap, []uint32{uint32(pix)}).Check())
	hints := make([]byte, 18*4)
	for i, v := range []uint32{1 | 2, uint32(px), uint32(py), uint32(w), uint32(h)} {
		binary.LittleEndian.PutUint32(hints[4*i:], v)
	}
	must("WM_NORMAL_HINTS", xproto.ChangePropertyChecked(x, xproto.PropModeReplace, win, xproto.AtomWmNormalHints, xproto.AtomWmSizeHints, 32,
		18, hints).Check())
	must("WM_NAME", xproto.ChangePropertyChecked(x, xproto.PropModeReplace, win, xproto.AtomWmName, xproto.AtomString, 8,
		uint32(len(trayHostTitle)), []byte(trayHostTitle)).Check())
	must("MapWindow", xproto.MapWindowChecked(x, win).Check())
}
