package vmtest

import (
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Image describes an initramfs for a QEMU guest: busybox as the shell and
// tools, the kernel's GuestModules, programs copied from the host (with
// their shared libraries) and an init script.
type Image struct {
	Busybox string // host path of a static busybox (Debian's busybox-static)
	Kernel  *Kernel
	// Programs maps guest paths to host programs; a dynamically linked one
	// brings its loader and libraries along, at their host paths.
	Programs map[string]string
	// Trees are host directories copied to the same guest path, e.g. the
	// XKB data that Xvfb compiles its keymap from.
	Trees []string
	// Script runs as root once /proc, /sys, /dev, /tmp are mounted and the
	// modules are loaded; the guest powers off when it returns.
	Script string
}

// initPrelude is the start of /init; GUEST-INIT-DONE tells the host how
// long the kernel and the module loading took.
const initPrelude = `#!/bin/sh
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/shm /run /var/lib/xkb
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
for m in %s; do insmod /lib/modules/$m.ko || echo "GUEST-INIT: insmod $m failed"; done
echo "GUEST-INIT-DONE uptime=$(cut -d' ' -f1 /proc/uptime)"
`

// Write builds the image as a gzip-compressed newc cpio at path.
func (img *Image) Write(path string) error {
	if st, err := os.Stat(img.Busybox); err != nil {
		return fmt.Errorf("busybox: %w", err)
	} else if !isStatic(img.Busybox) {
		return fmt.Errorf("busybox %s (%d bytes) is not statically linked: install busybox-static", img.Busybox, st.Size())
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	a := NewInitramfs(f)
	a.CopyFile("bin/busybox", img.Busybox)
	a.Symlink("bin/sh", "busybox") // for /init's #! line; the rest is linked by --install
	// Mount points, and where busybox --install links the applets.
	for _, d := range []string{"proc", "sys", "dev", "tmp", "sbin", "usr/bin", "usr/sbin"} {
		a.Dir(d)
	}
	for _, m := range img.Kernel.Modules {
		a.CopyFile("lib/modules/"+filepath.Base(m), m)
	}
	libs := map[string]bool{}
	guests := make([]string, 0, len(img.Programs))
	for g := range img.Programs {
		guests = append(guests, g)
	}
	sort.Strings(guests) // the same inputs give the same archive
	for _, guest := range guests {
		host := img.Programs[guest]
		a.CopyFile(guest, host)
		if isStatic(host) {
			continue
		}
		deps, err := SharedLibs(host)
		if err != nil {
			f.Close()
			return err
		}
		for _, d := range deps {
			if !libs[d] {
				libs[d] = true
				a.CopyFile(d, d)
			}
		}
	}
	for _, t := range img.Trees {
		a.CopyTree(t)
	}
	names := strings.Join(moduleNames(img.Kernel.Modules), " ")
	script := fmt.Sprintf(initPrelude, names) + img.Script + "\npoweroff -f\n"
	a.File("init", 0o755, []byte(script))
	if err := a.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func moduleNames(paths []string) []string {
	var n []string
	for _, p := range paths {
		n = append(n, strings.TrimSuffix(filepath.Base(p), ".ko"))
	}
	return n
}

// isStatic reports whether the ELF file at path has no program interpreter.
func isStatic(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false
		}
	}
	return true
}
