package vmtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// KVMStatus tells whether hardware KVM could run a stock Debian guest here,
// and why not. A /dev/kvm alone is not enough: on KVM-PVM hosts (no
// vmx/svm, /sys/module/kvm_pvm) it opens fine but only runs PVM-enlightened
// guest kernels, and a stock kernel hangs (notes/kvm-qemu-libvirt.md §3).
func KVMStatus() (bool, string) {
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return false, fmt.Sprintf("cannot open /dev/kvm: %v", err)
	}
	defer f.Close()
	const kvmGetAPIVersion = 0xAE00
	v, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), kvmGetAPIVersion, 0)
	if errno != 0 || v != 12 {
		return false, fmt.Sprintf("/dev/kvm answers KVM_GET_API_VERSION with %d (%v), want 12", v, errno)
	}
	if _, err := os.Stat("/sys/module/kvm_pvm"); err == nil {
		return false, "/dev/kvm is KVM-PVM, which runs only PVM-enlightened guest kernels"
	}
	cpuinfo, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return false, fmt.Sprintf("read /proc/cpuinfo: %v", err)
	}
	if !bytes.Contains(cpuinfo, []byte(" vmx")) && !bytes.Contains(cpuinfo, []byte(" svm")) {
		return false, "the CPU has no vmx or svm flag"
	}
	return true, "/dev/kvm works and the CPU has hardware virtualization"
}

// QbootROM is Debian's qboot firmware (package qemu-system-data): under TCG
// it reaches the kernel seconds sooner than SeaBIOS.
const QbootROM = "/usr/share/qemu/qboot.rom"

// Machine is a QEMU guest booted directly from a kernel and an initramfs,
// with the two devices of a KVM qube: the shared region as ivshmem-plain
// and the GUI channel as the virtio-serial port "qubes.gui".
type Machine struct {
	QEMU      string // qemu-system-x86_64
	Accel     string // "tcg" or "kvm"
	Kernel    string
	Initrd    string
	Append    string // kernel command line
	MemoryMiB int
	// Region is the host file behind the ivshmem BAR; its size must be a
	// power of two (QEMU's rule for the BAR).
	Region     string
	RegionSize int64
	// GUISocket is the unix socket QEMU listens on for the port's host end.
	GUISocket string
	Console   io.Writer // the guest's serial console
}

// Args is QEMU's command line for m.
func (m *Machine) Args() []string {
	args := []string{
		"-accel", m.Accel, "-cpu", "max", "-m", strconv.Itoa(m.MemoryMiB), "-smp", "1",
		"-display", "none", "-vga", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot", "-nic", "none",
		"-kernel", m.Kernel, "-initrd", m.Initrd, "-append", m.Append,
		"-object", fmt.Sprintf("memory-backend-file,id=region,share=on,mem-path=%s,size=%d", m.Region, m.RegionSize),
		"-device", "ivshmem-plain,memdev=region",
		"-device", "virtio-serial-pci",
		"-chardev", fmt.Sprintf("socket,id=gui,path=%s,server=on,wait=off", m.GUISocket),
		"-device", "virtserialport,chardev=gui,name=qubes.gui",
	}
	if _, err := os.Stat(QbootROM); err == nil {
		args = append(args, "-bios", QbootROM)
	}
	return args
}

// Start runs QEMU; it dies with ctx, and with this process (Pdeathsig), so
// a test that exits early leaves no guest behind.
func (m *Machine) Start(ctx context.Context) (*exec.Cmd, error) {
	if m.RegionSize <= 0 || m.RegionSize&(m.RegionSize-1) != 0 {
		return nil, fmt.Errorf("region size %d is not a power of two, as ivshmem needs", m.RegionSize)
	}
	cmd := exec.CommandContext(ctx, m.QEMU, m.Args()...)
	cmd.Stdout = m.Console
	cmd.Stderr = m.Console
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", m.QEMU, err)
	}
	return cmd, nil
}
