package wayland

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Buffer is a wl_buffer at an offset of a wl_shm pool whose use by the
// compositor is tracked: it is busy from Attach until wl_buffer.release.
// Compositors may hold a buffer past the frame callback (sway's pixman
// renderer samples client memory directly), so writers must wait for
// Busy to turn false. OnRelease, if set, runs when the compositor lets go.
type Buffer struct {
	*WlBuffer
	Offset, Width, Height, Stride int32
	Format                        WlShmFormat
	busy                          bool
	OnRelease                     func(*Buffer)
}

// NewBuffer creates a wl_buffer in pool without copying any pixels.
func NewBuffer(pool *WlShmPool, offset, width, height, stride int32, format WlShmFormat) (*Buffer, error) {
	wb, err := pool.CreateBuffer(offset, width, height, stride, format)
	if err != nil {
		return nil, err
	}
	b := &Buffer{WlBuffer: wb, Offset: offset, Width: width, Height: height, Stride: stride, Format: format}
	wb.OnRelease = func(WlBufferReleaseEvent) {
		b.busy = false
		if b.OnRelease != nil {
			b.OnRelease(b)
		}
	}
	return b, nil
}

// Busy reports whether the compositor may still read the buffer.
func (b *Buffer) Busy() bool { return b.busy }

// Attach attaches the buffer to s and marks it busy. Re-attaching a busy
// buffer is allowed (the contents did not change, only damage is new).
func (b *Buffer) Attach(s *WlSurface) error {
	if err := s.Attach(b.WlBuffer, 0, 0); err != nil {
		return err
	}
	b.busy = true
	return nil
}

// Memfd is an anonymous shared-memory file mapped into this process, for
// buffers the trusted side paints itself (frames).
type Memfd struct {
	File *os.File
	Data []byte
}

// NewMemfd creates and maps a sealed-size memfd of size bytes.
func NewMemfd(name string, size int) (*Memfd, error) {
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), name)
	if err := f.Truncate(int64(size)); err != nil {
		f.Close()
		return nil, fmt.Errorf("size memfd: %w", err)
	}
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_SEAL); err != nil {
		f.Close()
		return nil, fmt.Errorf("seal memfd: %w", err)
	}
	data, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("map memfd: %w", err)
	}
	return &Memfd{File: f, Data: data}, nil
}

// Close unmaps and closes the file.
func (m *Memfd) Close() error {
	err := unix.Munmap(m.Data)
	if cerr := m.File.Close(); err == nil {
		err = cerr
	}
	return err
}

// Uint32s reads a wl_array of uint32 values (such as the states of
// xdg_toplevel.configure or the keys of wl_keyboard.enter); a trailing
// partial value is ignored.
func Uint32s(a []byte) []uint32 {
	v := make([]uint32, len(a)/4)
	for i := range v {
		v[i] = uint32(a[4*i]) | uint32(a[4*i+1])<<8 | uint32(a[4*i+2])<<16 | uint32(a[4*i+3])<<24
	}
	return v
}
