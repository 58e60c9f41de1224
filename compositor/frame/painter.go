package frame

import (
	"fmt"

	"github.com/qube-desktop/qube-desktop/compositor/wayland"
)

// maxPainterBuffers bounds the buffers a Painter keeps for one surface.
const maxPainterBuffers = 8

// Painter paints frames onto one surface from its own memfd-backed
// buffers. It never reuses a buffer the compositor still holds: sway's
// pixman renderer keeps the last one past the frame callback.
type Painter struct {
	shm     *wayland.WlShm
	buffers []*painterBuffer
}

type painterBuffer struct {
	mem *wayland.Memfd
	buf *wayland.Buffer
	w   int
	h   int
}

// NewPainter returns a Painter allocating from shm.
func NewPainter(shm *wayland.WlShm) *Painter { return &Painter{shm: shm} }

// Paint draws a w×h frame of style s with title into a free buffer,
// attaches it to surface, damages all of it and commits.
func (p *Painter) Paint(surface *wayland.WlSurface, w, h int, s Style, title string) error {
	pb, err := p.free(w, h)
	if err != nil {
		return err
	}
	img, err := NewXRGB(pb.mem.Data, w, h, 4*w)
	if err != nil {
		return err
	}
	Paint(img, s, title)
	if err := pb.buf.Attach(surface); err != nil {
		return err
	}
	if err := surface.DamageBuffer(0, 0, int32(w), int32(h)); err != nil {
		return err
	}
	return surface.Commit()
}

// free returns a released buffer of w×h or a new one; buffers of another
// size are destroyed once the compositor released them.
func (p *Painter) free(w, h int) (*painterBuffer, error) {
	kept := p.buffers[:0]
	var found *painterBuffer
	for _, pb := range p.buffers {
		switch {
		case pb.w != w || pb.h != h:
			if pb.buf.Busy() {
				kept = append(kept, pb) // destroyed on a later call, once released
				continue
			}
			pb.destroy()
		case found == nil && !pb.buf.Busy():
			found = pb
			kept = append(kept, pb)
		default:
			kept = append(kept, pb)
		}
	}
	p.buffers = kept
	if found != nil {
		return found, nil
	}
	if len(p.buffers) >= maxPainterBuffers {
		return nil, fmt.Errorf("frame: compositor holds all %d frame buffers", len(p.buffers))
	}
	pb, err := newPainterBuffer(p.shm, w, h)
	if err != nil {
		return nil, err
	}
	p.buffers = append(p.buffers, pb)
	return pb, nil
}

func newPainterBuffer(shm *wayland.WlShm, w, h int) (*painterBuffer, error) {
	size := 4 * w * h
	mem, err := wayland.NewMemfd("qube-frame", size)
	if err != nil {
		return nil, err
	}
	pool, err := shm.CreatePool(int(mem.File.Fd()), int32(size))
	if err != nil {
		mem.Close()
		return nil, err
	}
	buf, err := wayland.NewBuffer(pool, 0, int32(w), int32(h), int32(4*w), wayland.WlShmFormatXrgb8888)
	// The buffer keeps the pool's memory alive on the compositor side.
	_ = pool.Destroy()
	if err != nil {
		mem.Close()
		return nil, err
	}
	return &painterBuffer{mem: mem, buf: buf, w: w, h: h}, nil
}

func (pb *painterBuffer) destroy() {
	_ = pb.buf.Destroy()
	pb.mem.Close()
}

// Destroy destroys every buffer; call it after the surface is gone.
func (p *Painter) Destroy() {
	for _, pb := range p.buffers {
		pb.destroy()
	}
	p.buffers = nil
}
