// Package transport gives the agent and the daemon what design §5 calls
// "a message stream + a region": a byte stream for the GUI protocol and a
// shared memory region that both sides map, holding the window pixels.
package transport

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// PageSize is the alignment of every buffer in a region; the wire format
// (dump type 0x00010000) requires offsets that are multiples of it.
const PageSize = 4096

// requiredSeals are the seals a memfd region must carry before a peer maps
// it: without SHRINK a peer could truncate it and make the other side fault
// (SIGBUS) on access.
const requiredSeals = unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_SEAL

// Region is a shared memory area mapped read-write into this process.
type Region struct {
	f   *os.File
	mem []byte
}

// CreateRegion makes a sealed memfd of size bytes (rounded up to a page)
// and maps it. It is what the host does before a qube starts.
func CreateRegion(name string, size int) (*Region, error) {
	if size <= 0 {
		return nil, fmt.Errorf("region size %d: must be positive", size)
	}
	size = (size + PageSize - 1) &^ (PageSize - 1)
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("memfd_create %q: %w", name, err)
	}
	f := os.NewFile(uintptr(fd), "memfd:"+name)
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		f.Close()
		return nil, fmt.Errorf("size region to %d bytes: %w", size, err)
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, requiredSeals); err != nil {
		f.Close()
		return nil, fmt.Errorf("seal region: %w", err)
	}
	return mapFile(f, size)
}

// OpenRegion maps a region received from the host as an open file, e.g. an
// inherited fd (os.NewFile(3, "region")). It must be a memfd carrying the
// shrink and grow seals, so that nobody can make the mapping fault later.
func OpenRegion(f *os.File) (*Region, error) {
	seals, err := unix.FcntlInt(f.Fd(), unix.F_GET_SEALS, 0)
	if err != nil {
		return nil, fmt.Errorf("region %s is not a sealed memfd: %w", f.Name(), err)
	}
	if seals&requiredSeals != requiredSeals {
		return nil, fmt.Errorf("region %s is not sealed against resizing (seals %#x, need %#x)", f.Name(), seals, requiredSeals)
	}
	return openRegion(f)
}

func openRegion(f *os.File) (*Region, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat region %s: %w", f.Name(), err)
	}
	size := st.Size()
	if size <= 0 || size%PageSize != 0 || size > 1<<40 {
		return nil, fmt.Errorf("region %s has unusable size %d (need a positive multiple of %d)", f.Name(), size, PageSize)
	}
	return mapFile(f, int(size))
}

// OpenRegionFd maps the region behind an inherited file descriptor number.
func OpenRegionFd(fd int) (*Region, error) {
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
		return nil, fmt.Errorf("region fd %d is not open: %w", fd, err)
	}
	unix.CloseOnExec(fd)
	return OpenRegion(os.NewFile(uintptr(fd), fmt.Sprintf("fd %d", fd)))
}

// OpenRegionPath maps a region file by path: the ivshmem BAR
// (/sys/bus/pci/devices/*/resource2) in a VM, or QEMU's memory-backend file
// on the host. Such files cannot be sealed; their size is taken as it is.
func OpenRegionPath(path string) (*Region, error) {
	f, err := os.OpenFile(path, os.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open region: %w", err)
	}
	r, err := openRegion(f)
	if err != nil {
		f.Close()
	}
	return r, err
}

func mapFile(f *os.File, size int) (*Region, error) {
	mem, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("map region %s (%d bytes): %w", f.Name(), size, err)
	}
	return &Region{f: f, mem: mem}, nil
}

// File is the region's file, for passing to a child (exec.Cmd.ExtraFiles)
// or to the X server (MIT-SHM AttachFd). It stays owned by the Region.
func (r *Region) File() *os.File { return r.f }

// Size is the region's length in bytes, a multiple of PageSize.
func (r *Region) Size() int { return len(r.mem) }

// Slice returns the n bytes at off. off must be page-aligned and the range
// must lie inside the region; the arithmetic cannot overflow.
func (r *Region) Slice(off, n uint64) ([]byte, error) {
	if off%PageSize != 0 {
		return nil, fmt.Errorf("region offset %#x is not a multiple of %d", off, PageSize)
	}
	size := uint64(len(r.mem))
	if off > size || n > size-off {
		return nil, fmt.Errorf("region range [%#x, +%d) exceeds the region's %d bytes", off, n, size)
	}
	return r.mem[off : off+n : off+n], nil
}

// Close unmaps the region and closes its file.
func (r *Region) Close() error {
	err := unix.Munmap(r.mem)
	r.mem = nil
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	return err
}
