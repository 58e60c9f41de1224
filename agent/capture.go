package agent

import (
	"fmt"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/shm"
	"github.com/jezek/xgb/xproto"

	"github.com/qube-desktop/qube-desktop/internal/transport"
)

// Buffer is one window's pixels in the shared region: XRGB8888, stride
// W*4, starting at a page-aligned offset.
type Buffer struct {
	Off  uint64
	W, H int
	Mem  []byte // the region's bytes [Off, Off+W*H*4)
}

// AttachRegion lets the X server write captures straight into the region
// with MIT-SHM (AttachFd). It fails when the server has no MIT-SHM 1.2,
// refuses the fd, or the connection cannot pass fds; captures then use
// GetImage.
func (x *X) AttachRegion(r *transport.Region) error {
	if x.fc == nil {
		return fmt.Errorf("MIT-SHM: the X connection cannot pass file descriptors (display is not local)")
	}
	if r.Size() > 1<<32 {
		return fmt.Errorf("MIT-SHM: region of %d bytes exceeds the 32-bit shm offsets", r.Size())
	}
	if err := shm.Init(x.conn); err != nil {
		return fmt.Errorf("MIT-SHM: %w", err)
	}
	v, err := shm.QueryVersion(x.conn).Reply()
	if err != nil {
		return fmt.Errorf("MIT-SHM version: %w", err)
	}
	if v.MajorVersion < 1 || v.MajorVersion == 1 && v.MinorVersion < 2 {
		return fmt.Errorf("MIT-SHM %d.%d has no AttachFd (needs 1.2)", v.MajorVersion, v.MinorVersion)
	}
	seg, err := shm.NewSegId(x.conn)
	if err != nil {
		return err
	}
	x.fc.sendFd(int(r.File().Fd()))
	if err := shm.AttachFdChecked(x.conn, seg, false).Check(); err != nil {
		return fmt.Errorf("MIT-SHM AttachFd of the region: %w", err)
	}
	x.shmSeg, x.shmBase = seg, uint64(r.Size())
	return nil
}

// Capture copies rectangle r of win's pixels into buf (clipped to both the
// window and the buffer) and returns the rectangle actually copied.
func (x *X) Capture(win *Window, buf *Buffer, r Rect) (Rect, error) {
	return x.startCapture(win, buf, r).wait()
}

// pendingCapture is a Capture whose request is sent and whose reply is
// still to come, so that several rectangles cost one round trip.
type pendingCapture struct {
	win    *Window
	buf    *Buffer
	r      Rect
	err    error       // known before any request
	cookie *xgb.Cookie // nil: nothing to copy
	shm    bool        // cookie is an MIT-SHM GetImage, else a core GetImage
}

func (x *X) startCapture(win *Window, buf *Buffer, r Rect) pendingCapture {
	if !win.Mapped || win.pixmap == 0 {
		return pendingCapture{win: win, err: errGone}
	}
	r = clip(r, min(win.W, buf.W), min(win.H, buf.H))
	p := pendingCapture{win: win, buf: buf, r: r}
	if r.W == 0 || r.H == 0 {
		return p
	}
	// MIT-SHM copies whole buffer rows: a ZPixmap image is packed with
	// stride width*4, so only full-width rows land at the right place in
	// the buffer without a second copy. A window narrower than its buffer
	// would not line up.
	if x.shmBase != 0 && win.W >= buf.W {
		off := buf.Off + uint64(r.Y*buf.W*4)
		p.cookie, p.shm = shm.GetImage(x.conn, xproto.Drawable(win.pixmap), int16(win.Border), int16(win.Border+r.Y),
			uint16(buf.W), uint16(r.H), 0xffffffff, xproto.ImageFormatZPixmap, x.shmSeg, uint32(off)).Cookie, true
		return p
	}
	p.cookie = xproto.GetImage(x.conn, xproto.ImageFormatZPixmap, xproto.Drawable(win.pixmap),
		int16(win.Border+r.X), int16(win.Border+r.Y), uint16(r.W), uint16(r.H), 0xffffffff).Cookie
	return p
}

// wait returns once the pixels are in the buffer.
func (p pendingCapture) wait() (Rect, error) {
	switch {
	case p.err != nil:
		return Rect{}, p.err
	case p.cookie == nil:
		return p.r, nil
	case p.shm:
		if _, err := (shm.GetImageCookie{Cookie: p.cookie}).Reply(); err != nil {
			return p.r, fmt.Errorf("MIT-SHM capture of window %#x: %w", p.win.ID, err)
		}
		return p.r, nil
	}
	img, err := xproto.GetImageCookie{Cookie: p.cookie}.Reply()
	if err != nil {
		return p.r, fmt.Errorf("capture window %#x: %w", p.win.ID, err)
	}
	r, buf := p.r, p.buf
	row := r.W * 4
	if len(img.Data) < row*r.H {
		return r, fmt.Errorf("capture window %#x: %d bytes for a %dx%d image (depth %d is not 32 bits per pixel)",
			p.win.ID, len(img.Data), r.W, r.H, img.Depth)
	}
	stride := buf.W * 4
	for y := 0; y < r.H; y++ {
		d := (r.Y+y)*stride + r.X*4
		copy(buf.Mem[d:d+row], img.Data[y*row:(y+1)*row])
	}
	return r, nil
}

// clip intersects r with [0,w)x[0,h).
func clip(r Rect, w, h int) Rect {
	x0, y0 := max(r.X, 0), max(r.Y, 0)
	x1, y1 := min(r.X+r.W, w), min(r.Y+r.H, h)
	if x1 <= x0 || y1 <= y0 {
		return Rect{}
	}
	return Rect{x0, y0, x1 - x0, y1 - y0}
}
