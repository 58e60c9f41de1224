package e2e

import (
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/qube-desktop/qube-desktop/compositor/wayland"
)

// The wl_shm client is this test binary run again with shmclientEnv set
// to "W H N X Y DW DH INTERVAL_US": the Wayland twin of the X client's
// repaint command, for the waypipe side of the benchmark. It shows a W×H
// xdg_toplevel, prints "ready" once the compositor drew its first frame,
// then N times paints the DW×DH rectangle at X,Y in a free buffer of a
// 3-buffer wl_shm pool, damages only that and commits, one per interval,
// and prints "done".
const shmclientEnv = "QUBE_E2E_SHMCLIENT"

func shmclientMain() int {
	if err := shmclient(os.Getenv(shmclientEnv)); err != nil {
		fmt.Fprintln(os.Stderr, "shmclient:", err)
		return 1
	}
	return 0
}

func shmclient(spec string) error {
	var a [8]int
	f := strings.Fields(spec)
	if len(f) != len(a) {
		return fmt.Errorf("want %d numbers in $%s, got %q", len(a), shmclientEnv, spec)
	}
	for i := range a {
		n, err := strconv.Atoi(f[i])
		if err != nil {
			return err
		}
		a[i] = n
	}
	w, h, n, rx, ry, rw, rh, interval := a[0], a[1], a[2], a[3], a[4], a[5], a[6], time.Duration(a[7])*time.Microsecond

	c, err := wayland.Connect("")
	if err != nil {
		return err
	}
	defer c.Close()
	comp, shm, wm := new(wayland.WlCompositor), new(wayland.WlShm), new(wayland.XdgWmBase)
	for _, b := range []struct {
		o wayland.Object
		v uint32
	}{{comp, 4}, {shm, 1}, {wm, 1}} {
		if err := c.Bind(b.o, b.v); err != nil {
			return err
		}
	}
	wm.OnPing = func(ev wayland.XdgWmBasePingEvent) { _ = wm.Pong(ev.Serial) }
	const nbuf = 3
	size := w * h * 4
	mem, err := wayland.NewMemfd("shmclient", nbuf*size)
	if err != nil {
		return err
	}
	defer mem.Close()
	pool, err := shm.CreatePool(int(mem.File.Fd()), int32(nbuf*size))
	if err != nil {
		return err
	}
	bufs := make([]*wayland.Buffer, nbuf)
	for i := range bufs {
		if bufs[i], err = wayland.NewBuffer(pool, int32(i*size), int32(w), int32(h), int32(4*w), wayland.WlShmFormatXrgb8888); err != nil {
			return err
		}
	}
	fill(mem.Data, w, 0, 0, w, h*nbuf, 0x808080)

	surf, err := comp.CreateSurface()
	if err != nil {
		return err
	}
	xs, err := wm.GetXdgSurface(surf)
	if err != nil {
		return err
	}
	top, err := xs.GetToplevel()
	if err != nil {
		return err
	}
	configured := false
	xs.OnConfigure = func(ev wayland.XdgSurfaceConfigureEvent) { _ = xs.AckConfigure(ev.Serial); configured = true }
	if err := top.SetTitle("waypipe bench"); err != nil {
		return err
	}
	if err := surf.Commit(); err != nil {
		return err
	}
	for !configured {
		if err := c.Roundtrip(); err != nil {
			return err
		}
	}
	drawn := false
	cb, err := surf.Frame()
	if err != nil {
		return err
	}
	cb.OnDone = func(wayland.WlCallbackDoneEvent) { drawn = true }
	if err := bufs[0].Attach(surf); err != nil {
		return err
	}
	if err := surf.DamageBuffer(0, 0, int32(w), int32(h)); err != nil {
		return err
	}
	if err := surf.Commit(); err != nil {
		return err
	}
	for !drawn {
		if err := c.Roundtrip(); err != nil {
			return err
		}
	}
	fmt.Println("ready")

	next := time.Now()
	for i := range n {
		var b *wayland.Buffer
		for b == nil {
			for _, x := range bufs {
				if !x.Busy() {
					b = x
					break
				}
			}
			if b == nil {
				if err := c.Roundtrip(); err != nil {
					return err
				}
			}
		}
		// The rectangle is the only part that ever changes, so painting it
		// brings any of the buffers up to date.
		fill(mem.Data[b.Offset:], w, rx, ry, rw, rh, uint32(i*0x030507)&0xffffff|0x101010)
		if err := b.Attach(surf); err != nil {
			return err
		}
		if err := surf.DamageBuffer(int32(rx), int32(ry), int32(rw), int32(rh)); err != nil {
			return err
		}
		if err := surf.Commit(); err != nil {
			return err
		}
		if err := c.Roundtrip(); err != nil {
			return err
		}
		next = next.Add(interval)
		time.Sleep(time.Until(next))
	}
	fmt.Println("done")
	return nil
}

// fill paints a rectangle of an XRGB8888 image of the given width.
func fill(pix []byte, width, x0, y0, w, h int, rgb uint32) {
	for y := y0; y < y0+h; y++ {
		row := pix[4*(y*width+x0) : 4*(y*width+x0+w)]
		for i := 0; i < len(row); i += 4 {
			binary.LittleEndian.PutUint32(row[i:], rgb)
		}
	}
}
