package vmtest

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// TestKVMStatus checks the detection against what the host shows: a PVM
// host or one without /dev/kvm must never be reported usable.
func TestKVMStatus(t *testing.T) {
	ok, why := KVMStatus()
	t.Logf("KVM usable: %v: %s", ok, why)
	if why == "" {
		t.Error("no reason given")
	}
	if _, err := os.Stat("/sys/module/kvm_pvm"); err == nil && ok {
		t.Error("KVM-PVM host reported usable for a stock kernel")
	}
	if _, err := os.Stat("/dev/kvm"); err != nil && ok {
		t.Error("reported usable without /dev/kvm")
	}
}

func TestMachineArgs(t *testing.T) {
	m := &Machine{QEMU: "qemu-system-x86_64", Accel: "tcg", Kernel: "/k", Initrd: "/i", Append: "console=ttyS0",
		MemoryMiB: 256, Region: "/dev/shm/r", RegionSize: 1 << 24, GUISocket: "/run/q/gui.sock"}
	args := strings.Join(m.Args(), " ")
	for _, want := range []string{
		"-accel tcg",
		"-object memory-backend-file,id=region,share=on,mem-path=/dev/shm/r,size=16777216 -device ivshmem-plain,memdev=region",
		"-chardev socket,id=gui,path=/run/q/gui.sock,server=on,wait=off -device virtserialport,chardev=gui,name=qubes.gui",
	} {
		if !strings.Contains(args, want) {
			t.Errorf("args lack %q:\n%s", want, args)
		}
	}
	if _, err := os.Stat(QbootROM); err == nil && !slices.Contains(m.Args(), QbootROM) {
		t.Error("qboot present but not used")
	}
	m.RegionSize = 3 << 20
	if _, err := m.Start(t.Context()); err == nil {
		t.Error("a region size that is not a power of two was accepted")
	}
}
