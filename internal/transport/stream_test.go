package transport

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestDialRetriesUntilAgentListens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gui.sock")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	dialed := make(chan error, 1)
	go func() {
		c, err := Dial(ctx, path)
		if err == nil {
			_, err = c.Write([]byte("ping"))
			c.Close()
		}
		dialed <- err
	}()
	time.Sleep(100 * time.Millisecond) // the daemon is now retrying
	l, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want 0600", st.Mode().Perm())
	}
	c, err := l.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	if err != nil || string(b) != "ping" {
		t.Fatalf("read %q %v", b, err)
	}
	if err := <-dialed; err != nil {
		t.Fatal(err)
	}
}

func TestDialGivesUp(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := Dial(ctx, filepath.Join(t.TempDir(), "none.sock")); err == nil {
		t.Fatal("dial to a missing socket succeeded")
	}
}

func TestAcceptHonoursContext(t *testing.T) {
	l, err := Listen(filepath.Join(t.TempDir(), "gui.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := l.Accept(ctx); err != context.DeadlineExceeded {
		t.Fatalf("accept: %v, want deadline exceeded", err)
	}
}

func TestListenRefusesToReplaceFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gui.sock")
	os.WriteFile(path, []byte("data"), 0o600)
	if _, err := Listen(path); err == nil {
		t.Fatal("listen replaced a regular file")
	}
}

// A fake sysfs laid out as in a QEMU guest (see notes/kvm-qemu-libvirt.md).
func TestVirtioDiscovery(t *testing.T) {
	sys := t.TempDir()
	write := func(p, s string) {
		os.MkdirAll(filepath.Dir(filepath.Join(sys, p)), 0o755)
		os.WriteFile(filepath.Join(sys, p), []byte(s), 0o644)
	}
	write("class/virtio-ports/vport0p0/name", "org.qemu.guest_agent.0\n")
	write("class/virtio-ports/vport0p1/name", "qubes.gui\n")
	write("bus/pci/devices/0000:00:02.0/vendor", "0x1af4\n")
	write("bus/pci/devices/0000:00:02.0/device", "0x1003\n")
	write("bus/pci/devices/0000:00:03.0/vendor", "0x1af4\n")
	write("bus/pci/devices/0000:00:03.0/device", "0x1110\n")
	if dev, err := FindVirtioPort(sys, VirtioPortName); err != nil || dev != "/dev/vport0p1" {
		t.Errorf("port: %q %v", dev, err)
	}
	if _, err := FindVirtioPort(sys, "other"); err == nil {
		t.Error("found a port that does not exist")
	}
	if p, err := FindIvshmem(sys); err != nil || p != filepath.Join(sys, "bus/pci/devices/0000:00:03.0/resource2") {
		t.Errorf("ivshmem: %q %v", p, err)
	}
	// A plain file stands in for the BAR: it cannot be sealed and maps as is.
	bar := filepath.Join(sys, "bus/pci/devices/0000:00:03.0/resource2")
	os.WriteFile(bar, make([]byte, 2*PageSize), 0o600)
	r, err := OpenRegionPath(bar)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Size() != 2*PageSize {
		t.Fatalf("size %d", r.Size())
	}
}
