package agent

import (
	"fmt"

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
	if !win.Mapped || win.pixmap == 0 {
		return Rect{}, errGone
	}
	r = clip(r, min(win.W, buf.W), min(win.H, buf.H))
	if r.W == 0 || r.H == 0 {
		return r, nil
	}
	if x.shmBase != 0 {
		return r, x.captureSHM(win, buf, r)
	}
	return r, x.captureGetImage(win, buf, r)
}

// captureSHM copies whole buffer rows: a ZPixmap image is packed with
// stride width*4, so only full-width rows land at the right place in the
// buffer without a second copy.
func (x *X) captureSHM(win *Window, buf *Buffer, r Rect) error {
	w := min(win.W, buf.W)
	if w != buf.W { // window narrower than its buffer: rows would not line up
		return x.captureGetImage(win, buf, r)
	}
	off := buf.Off + uint64(r.Y*buf.W*4)
	_, err := shm.GetImage(x.conn, xproto.Drawable(win.pixmap), int16(win.Border), int16(win.Border+r.Y),
		uint16(w), uint16(r.H), 0xffffffff, xproto.ImageFormatZPixmap, x.shmSeg, uint32(off)).Reply()
	if err != nil {
		return fmt.Errorf("MIT-SHM capture of window %#x: %w", win.ID, err)
	}
	return nil
}

func (x *X) captureGetImage(win *Window, buf *Buffer, r Rect) error {
	img, err := xproto.GetImage(x.conn, xproto.ImageFormatZPixmap, xproto.Drawable(win.pixmap),
		int16(win.Border+r.X), int16(win.Border+r.Y), uint16(r.W), uint16(r.H), 0xffffffff).Reply()
	if err != nil {
		return fmt.Errorf("capture window %#x: %w", win.ID, err)
	}
	row := r.W * 4
	if len(img.Data) < row*r.H {
		return fmt.Errorf("capture window %#x: %d bytes for a %dx%d image (depth %d is not 32 bits per pixel)",
			win.ID, len(img.Data), r.W, r.H, img.Depth)
	}
	stride := buf.W * 4
	for y := 0; y < r.H; y++ {
		d := (r.Y+y)*stride + r.X*4
		copy(buf.Mem[d:d+row], img.Data[y*row:(y+1)*row])
	}
	return nil
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
