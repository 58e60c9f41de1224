// Command xpattern is the X client inside the test guest: it shows one
// top-level window painted with vmtest.Pattern and waits to be killed.
package main

import (
	"encoding/binary"
	"flag"
	"io"
	"log"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	"github.com/qube-desktop/qube-desktop/internal/vmtest"
)

func main() {
	display := flag.String("display", ":0", "X display")
	w := flag.Int("width", 96, "window width")
	h := flag.Int("height", 64, "window height")
	flag.Parse()
	log.SetPrefix("xpattern: ")
	log.SetFlags(0)
	xgb.Logger = log.New(io.Discard, "", 0) // it logs the missing ~/.Xauthority, which no one needs here

	// The init script starts the X server just before this client.
	var c *xgb.Conn
	var err error
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err = xgb.NewConnDisplay(*display); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		log.Fatal(err)
	}
	scr := xproto.Setup(c).DefaultScreen(c)

	// The pattern is the window's background pixmap, so the server repaints
	// it by itself whenever needed, e.g. when the agent redirects the
	// window after it was mapped.
	pix, _ := xproto.NewPixmapId(c)
	xproto.CreatePixmap(c, scr.RootDepth, pix, xproto.Drawable(scr.Root), uint16(*w), uint16(*h))
	gc, _ := xproto.NewGcontextId(c)
	xproto.CreateGC(c, gc, xproto.Drawable(pix), 0, nil)
	data := make([]byte, 0, *w**h*4)
	for y := 0; y < *h; y++ {
		for x := 0; x < *w; x++ {
			data = binary.LittleEndian.AppendUint32(data, vmtest.Pattern(x, y))
		}
	}
	xproto.PutImage(c, xproto.ImageFormatZPixmap, xproto.Drawable(pix), gc, uint16(*w), uint16(*h), 0, 0, 0, scr.RootDepth, data)

	win, _ := xproto.NewWindowId(c)
	if err := xproto.CreateWindowChecked(c, scr.RootDepth, win, scr.Root, 8, 8, uint16(*w), uint16(*h), 0,
		xproto.WindowClassInputOutput, scr.RootVisual, xproto.CwBackPixmap, []uint32{uint32(pix)}).Check(); err != nil {
		log.Fatal(err)
	}
	title := "vmtest pattern"
	xproto.ChangeProperty(c, xproto.PropModeReplace, win, xproto.AtomWmName, xproto.AtomString, 8, uint32(len(title)), []byte(title))
	if err := xproto.MapWindowChecked(c, win).Check(); err != nil {
		log.Fatal(err)
	}
	log.Printf("window %#x mapped", win)
	for {
		if ev, err := c.WaitForEvent(); ev == nil && err == nil {
			return // the server went away
		}
	}
}
