package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// VirtioPortName is the virtio-serial port that carries the GUI protocol.
const VirtioPortName = "qubes.gui"

// FindVirtioPort returns the device node of the virtio-serial port with the
// given name, looked up under sysRoot (normally "/sys") because without udev
// there is no /dev/virtio-ports symlink, only /dev/vportNpM.
func FindVirtioPort(sysRoot, name string) (string, error) {
	dirs, err := filepath.Glob(filepath.Join(sysRoot, "class/virtio-ports/*"))
	if err != nil {
		return "", err
	}
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "name"))
		if err == nil && string(bytes.TrimSpace(b)) == name {
			return filepath.Join("/dev", filepath.Base(d)), nil
		}
	}
	return "", fmt.Errorf("no virtio-serial port named %q under %s/class/virtio-ports (is the channel configured and virtio_console loaded?)", name, sysRoot)
}

// AcceptVirtio opens the named virtio-serial port and waits until the
// host side (the daemon) is connected, or ctx ends. The wait matters: while
// nobody is connected on the host, reads return EOF at once and writes are
// kept for whoever connects later, so a handshake must not start early.
func AcceptVirtio(ctx context.Context, sysRoot, name string) (*os.File, error) {
	dev, err := FindVirtioPort(sysRoot, name)
	if err != nil {
		return nil, err
	}
	for {
		f, err := os.OpenFile(dev, os.O_RDWR|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
		if err == nil {
			fds := []unix.PollFd{{Fd: int32(f.Fd()), Events: unix.POLLIN | unix.POLLOUT}}
			_, perr := unix.Poll(fds, 0)
			if perr == nil && fds[0].Revents&unix.POLLHUP == 0 {
				return f, nil
			}
			f.Close()
		} else if !errors.Is(err, unix.EBUSY) { // EBUSY: the last fd is still closing
			return nil, fmt.Errorf("open virtio port: %w", err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// FindIvshmem returns the BAR 2 file (the shared memory) of the first
// ivshmem PCI device (vendor 0x1af4, device 0x1110) under sysRoot.
func FindIvshmem(sysRoot string) (string, error) {
	devs, err := filepath.Glob(filepath.Join(sysRoot, "bus/pci/devices/*"))
	if err != nil {
		return "", err
	}
	for _, d := range devs {
		v, _ := os.ReadFile(filepath.Join(d, "vendor"))
		p, _ := os.ReadFile(filepath.Join(d, "device"))
		if string(bytes.TrimSpace(v)) == "0x1af4" && string(bytes.TrimSpace(p)) == "0x1110" {
			return filepath.Join(d, "resource2"), nil
		}
	}
	return "", fmt.Errorf("no ivshmem device (1af4:1110) under %s/bus/pci/devices", sysRoot)
}
