package transport

import (
	"fmt"
	"sort"
)

// PageAllocator hands out page-aligned buffers of a region (first fit over
// 4096-byte pages). The agent owns it; the daemon never allocates.
// It is not safe for concurrent use.
type PageAllocator struct {
	free []extent          // sorted by start page, never adjacent
	used map[uint64]uint64 // start page -> page count
}

type extent struct{ start, n uint64 }

// NewPageAllocator manages a region of size bytes (whole pages only).
func NewPageAllocator(size int) *PageAllocator {
	a := &PageAllocator{used: map[uint64]uint64{}}
	if n := uint64(size) / PageSize; size > 0 && n > 0 {
		a.free = []extent{{0, n}}
	}
	return a
}

// Alloc reserves at least n bytes and returns their page-aligned offset.
func (a *PageAllocator) Alloc(n uint64) (uint64, error) {
	if n == 0 {
		return 0, fmt.Errorf("allocate 0 bytes: size must be positive")
	}
	pages := (n + PageSize - 1) / PageSize
	if pages == 0 { // overflow of the rounding
		return 0, fmt.Errorf("allocate %d bytes: too large", n)
	}
	for i, e := range a.free {
		if e.n < pages {
			continue
		}
		if e.n == pages {
			a.free = append(a.free[:i], a.free[i+1:]...)
		} else {
			a.free[i] = extent{e.start + pages, e.n - pages}
		}
		a.used[e.start] = pages
		return e.start * PageSize, nil
	}
	return 0, fmt.Errorf("region full: no %d free contiguous pages for %d bytes", pages, n)
}

// Free returns the buffer at off, which must come from Alloc.
func (a *PageAllocator) Free(off uint64) error {
	start := off / PageSize
	pages, ok := a.used[start]
	if !ok || off%PageSize != 0 {
		return fmt.Errorf("free of offset %#x that is not allocated", off)
	}
	delete(a.used, start)
	i := sort.Search(len(a.free), func(i int) bool { return a.free[i].start > start })
	a.free = append(a.free, extent{})
	copy(a.free[i+1:], a.free[i:])
	a.free[i] = extent{start, pages}
	// Merge with the following and the preceding extent.
	if i+1 < len(a.free) && a.free[i].start+a.free[i].n == a.free[i+1].start {
		a.free[i].n += a.free[i+1].n
		a.free = append(a.free[:i+1], a.free[i+2:]...)
	}
	if i > 0 && a.free[i-1].start+a.free[i-1].n == a.free[i].start {
		a.free[i-1].n += a.free[i].n
		a.free = append(a.free[:i], a.free[i+1:]...)
	}
	return nil
}

// FreeBytes is the total of free pages in bytes (for diagnostics and tests).
func (a *PageAllocator) FreeBytes() uint64 {
	var t uint64
	for _, e := range a.free {
		t += e.n
	}
	return t * PageSize
}
