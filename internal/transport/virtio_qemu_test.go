package transport

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qube-desktop/qube-desktop/internal/guiproto"
	"github.com/qube-desktop/qube-desktop/internal/testenv"
)

// guestModules are the virtio-serial modules of the Debian kernel, in
// insmod order; the ivshmem BAR needs none.
var guestModules = []string{"virtio_ring", "virtio", "virtio_pci_legacy_dev", "virtio_pci_modern_dev", "virtio_pci", "virtio_console"}

// guestKernelDeb finds a Debian linux-image package: $QUBE_GUEST_KERNEL_DEB,
// or one that `apt-get install --download-only linux-image-amd64` left in
// apt's cache.
func guestKernelDeb(t *testing.T) string {
	if p := os.Getenv("QUBE_GUEST_KERNEL_DEB"); p != "" {
		return p
	}
	debs, _ := filepath.Glob("/var/cache/apt/archives/linux-image-*-amd64_*_amd64.deb")
	sort.Strings(debs)
	for i := len(debs) - 1; i >= 0; i-- {
		if !strings.Contains(debs[i], "-dbg") {
			return debs[i]
		}
	}
	testenv.Missing(t, "a Debian kernel package (set QUBE_GUEST_KERNEL_DEB or run "+
		"apt-get install --download-only linux-image-amd64)")
	return ""
}

// buildGuest makes a kernel and an initramfs whose /init loads the virtio
// modules and runs testdata/virtioguest.
func buildGuest(t *testing.T, dir string) (kernel, initrd string) {
	deb := guestKernelDeb(t)
	kdir := filepath.Join(dir, "kernel")
	os.MkdirAll(kdir, 0o755)
	tar := exec.Command("sh", "-c", `dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" --wildcards './boot/vmlinuz-*' `+
		`'./lib/modules/*/kernel/drivers/virtio/*.ko' './lib/modules/*/kernel/drivers/char/virtio_console.ko'`, "sh", deb, kdir)
	if out, err := tar.CombinedOutput(); err != nil {
		t.Fatalf("extract %s: %v\n%s", deb, err, out)
	}
	kernels, _ := filepath.Glob(filepath.Join(kdir, "boot/vmlinuz-*"))
	if len(kernels) != 1 {
		t.Fatalf("kernel package %s: found %d kernels", deb, len(kernels))
	}

	root := filepath.Join(dir, "rootfs")
	for _, d := range []string{"bin", "lib/modules", "proc", "sys", "dev"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	for _, m := range guestModules {
		ko, _ := filepath.Glob(filepath.Join(kdir, "lib/modules/*/kernel/drivers/*", m+".ko"))
		if len(ko) != 1 {
			t.Fatalf("module %s not in %s", m, deb)
		}
		copyFile(t, ko[0], filepath.Join(root, "lib/modules", m+".ko"), 0o644)
	}
	copyFile(t, "/bin/busybox", filepath.Join(root, "bin/busybox"), 0o755)
	build := exec.Command("go", "build", "-o", filepath.Join(root, "bin/guest"), "./testdata/virtioguest")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the guest program: %v\n%s", err, out)
	}
	init := "#!/bin/busybox sh\n/bin/busybox --install -s /bin\n" +
		"mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev\n" +
		"for m in " + strings.Join(guestModules, " ") + "; do insmod /lib/modules/$m.ko; done\n" +
		"/bin/guest; echo GUEST-EXIT $?\npoweroff -f\n"
	if err := os.WriteFile(filepath.Join(root, "init"), []byte(init), 0o755); err != nil {
		t.Fatal(err)
	}
	initrd = filepath.Join(dir, "initrd.gz")
	pack := exec.Command("sh", "-c", `cd "$1" && find . | cpio -o -H newc --quiet | gzip -1 > "$2"`, "sh", root, initrd)
	if out, err := pack.CombinedOutput(); err != nil {
		t.Fatalf("pack the initramfs: %v\n%s", err, out)
	}
	return kernels[0], initrd
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, mode); err != nil {
		t.Fatal(err)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestVirtioInQEMU boots a QEMU (TCG) guest with an ivshmem-plain region
// and a virtio-serial port named qubes.gui; the guest side of this package
// finds both, and the host completes the GUI handshake over the port's
// socket and sees the guest's bytes in the region.
func TestVirtioInQEMU(t *testing.T) {
	if testing.Short() {
		t.Skip("boots a virtual machine")
	}
	testenv.NeedCommands(t, "qemu-system-x86_64", "busybox", "cpio", "dpkg-deb", "gzip")
	dir := t.TempDir()
	kernel, initrd := buildGuest(t, dir)

	// The region as QEMU's memory-backend file; the host writes first.
	shm, err := os.CreateTemp("/dev/shm", "qube-region-test-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(shm.Name())
	shm.Truncate(4 << 20)
	shm.Close()
	region, err := OpenRegionPath(shm.Name())
	if err != nil {
		t.Fatal(err)
	}
	defer region.Close()
	hostBytes, _ := region.Slice(0, 16)
	copy(hostBytes, "HOSTHELLO")

	sock := filepath.Join(dir, "gui.sock")
	qemu := exec.Command("qemu-system-x86_64", "-accel", "tcg", "-cpu", "max", "-m", "256", "-smp", "1",
		"-nographic", "-no-reboot", "-nic", "none", "-bios", "/usr/share/qemu/qboot.rom",
		"-kernel", kernel, "-initrd", initrd, "-append", "console=ttyS0 quiet panic=-1",
		"-object", "memory-backend-file,id=fb,share=on,mem-path="+shm.Name()+",size=4M",
		"-device", "ivshmem-plain,memdev=fb",
		"-device", "virtio-serial-pci", "-chardev", "socket,id=c0,path="+sock+",server=on,wait=off",
		"-device", "virtserialport,chardev=c0,name="+VirtioPortName)
	var console lockedBuffer
	qemu.Stdout, qemu.Stderr = &console, &console
	if err := qemu.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- qemu.Wait() }()
	defer func() {
		qemu.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("guest console:\n%s", console.String())
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := Dial(ctx, sock)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(120 * time.Second)) // TCG boot on a busy machine
	v, err := guiproto.DaemonHandshake(conn, guiproto.ProtocolVersion, guiproto.NewXConf(800, 600, 24))
	if err != nil {
		t.Fatalf("handshake over virtio-serial: %v", err)
	}
	for _, want := range []guiproto.Type{guiproto.MsgCreate, guiproto.MsgWMName} {
		u, h, err := guiproto.ReadUntrusted(conn, v)
		if err != nil {
			t.Fatal(err)
		}
		if u.Type() != want || h.Window != 7 {
			t.Fatalf("got %s for window %d, want %s for 7", u.Type(), h.Window, want)
		}
		if n, ok := u.(guiproto.UntrustedWMName); ok {
			name, err := n.Validate(guiproto.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if name.Title != "region:HOSTHELLO" {
				t.Errorf("guest read %q from the region, want the host's HOSTHELLO", name.Title)
			}
		}
	}
	guestBytes, _ := region.Slice(PageSize, 16)
	if !bytes.HasPrefix(guestBytes, []byte("GUESTHELLO")) {
		t.Errorf("host reads %q at the guest's offset", guestBytes)
	}
	if err := guiproto.WriteMessage(conn, 7, guiproto.Focus{Event: guiproto.FocusIn}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
		exited <- nil
	case <-time.After(60 * time.Second):
		t.Fatal("guest did not power off")
	}
	if out := console.String(); !strings.Contains(out, "GUEST-GOT MSG_FOCUS window 7") || !strings.Contains(out, "GUEST-EXIT 0") {
		t.Errorf("guest did not receive the daemon's message and exit cleanly")
	}
}
