package transport

import (
	"bytes"
	"os"
	"os/exec"
	"testing"

	"golang.org/x/sys/unix"
)

func TestRegionSealsHold(t *testing.T) {
	r, err := CreateRegion("test", 10000)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Size() != 3*PageSize {
		t.Fatalf("size %d, want rounded up to %d", r.Size(), 3*PageSize)
	}
	fd := int(r.File().Fd())
	if err := unix.Ftruncate(fd, 0); err != unix.EPERM {
		t.Errorf("shrinking a sealed region: err %v, want EPERM", err)
	}
	if err := unix.Ftruncate(fd, 1<<20); err != unix.EPERM {
		t.Errorf("growing a sealed region: err %v, want EPERM", err)
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, unix.F_SEAL_WRITE); err != unix.EPERM {
		t.Errorf("adding a seal after F_SEAL_SEAL: err %v, want EPERM", err)
	}
}

func TestOpenRegionRejectsUnsealedMemfd(t *testing.T) {
	fd, err := unix.MemfdCreate("unsealed", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "unsealed")
	defer f.Close()
	if err := f.Truncate(PageSize); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenRegion(f); err == nil {
		t.Fatal("an unsealed memfd was accepted as a region")
	}
}

// TestRegionSharedWithChild passes the region to a child process as fd 3,
// which writes a pattern that the parent must then see, and vice versa.
func TestRegionSharedWithChild(t *testing.T) {
	if os.Getenv("TRANSPORT_CHILD") == "1" {
		r, err := OpenRegionFd(3)
		if err != nil {
			t.Fatal(err)
		}
		b, err := r.Slice(PageSize, 5)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != "hello" {
			t.Fatalf("child sees %q", b)
		}
		copy(b, "HELLO")
		return
	}
	r, err := CreateRegion("shared", 2*PageSize)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, _ := r.Slice(PageSize, 5)
	copy(b, "hello")
	cmd := exec.Command(os.Args[0], "-test.run=^TestRegionSharedWithChild$")
	cmd.Env = append(os.Environ(), "TRANSPORT_CHILD=1")
	cmd.ExtraFiles = []*os.File{r.File()}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !bytes.Equal(b, []byte("HELLO")) {
		t.Fatalf("parent sees %q after the child wrote", b)
	}
}

func TestRegionSliceBounds(t *testing.T) {
	r, err := CreateRegion("bounds", 2*PageSize)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, c := range []struct {
		off, n uint64
		ok     bool
	}{
		{0, 2 * PageSize, true},
		{PageSize, PageSize, true},
		{2 * PageSize, 0, true},
		{PageSize, PageSize + 1, false},
		{1, 1, false},
		{3 * PageSize, 0, false},
		{PageSize, ^uint64(0) - 10, false}, // would overflow off+n
		{^uint64(0) &^ (PageSize - 1), PageSize, false},
	} {
		b, err := r.Slice(c.off, c.n)
		if (err == nil) != c.ok {
			t.Errorf("Slice(%#x, %d): err %v, want ok=%v", c.off, c.n, err, c.ok)
		}
		if err == nil && (uint64(len(b)) != c.n || uint64(cap(b)) != c.n) {
			t.Errorf("Slice(%#x, %d): len %d cap %d", c.off, c.n, len(b), cap(b))
		}
	}
}

func TestPageAllocator(t *testing.T) {
	a := NewPageAllocator(10 * PageSize)
	x, err := a.Alloc(1)
	if err != nil || x != 0 {
		t.Fatalf("first alloc: %#x %v", x, err)
	}
	y, _ := a.Alloc(3 * PageSize) // pages 1..3
	z, _ := a.Alloc(PageSize + 1) // pages 4..5
	if y != PageSize || z != 4*PageSize {
		t.Fatalf("offsets %#x %#x", y, z)
	}
	if _, err := a.Alloc(5 * PageSize); err == nil {
		t.Fatal("allocated 5 pages with only 4 free")
	}
	if err := a.Free(y); err != nil {
		t.Fatal(err)
	}
	if err := a.Free(y); err == nil {
		t.Fatal("double free accepted")
	}
	if err := a.Free(PageSize + 8); err == nil {
		t.Fatal("free of an unaligned offset accepted")
	}
	// First fit: the hole at pages 1..3 takes a 2-page buffer.
	if w, _ := a.Alloc(2 * PageSize); w != PageSize {
		t.Fatalf("first fit gave %#x, want %#x", w, PageSize)
	}
	for _, off := range []uint64{0, PageSize, 4 * PageSize} {
		if err := a.Free(off); err != nil {
			t.Fatal(err)
		}
	}
	if a.FreeBytes() != 10*PageSize {
		t.Fatalf("free bytes %d after freeing all", a.FreeBytes())
	}
	// Everything merged back: the whole region fits in one buffer again.
	if w, err := a.Alloc(10 * PageSize); err != nil || w != 0 {
		t.Fatalf("whole-region alloc after frees: %#x %v", w, err)
	}
}
