package vmtest

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// GuestModules are the kernel modules the guest loads, in load order, for
// the virtio-serial port (virtio_console over virtio_pci). The ivshmem BAR
// needs no driver: it is mapped through sysfs.
var GuestModules = []string{
	"virtio_ring", "virtio", "virtio_pci_legacy_dev", "virtio_pci_modern_dev", "virtio_pci", "virtio_console",
}

// KernelMeta is the Debian package that depends on the current kernel.
const KernelMeta = "linux-image-amd64"

// Kernel is a Debian kernel extracted for direct boot.
type Kernel struct {
	Package string   // e.g. linux-image-6.1.0-56-amd64
	Vmlinuz string   // path of the bzImage
	Modules []string // paths of GuestModules' .ko files, in load order
}

// FetchKernel returns the kernel of KernelMeta's current dependency,
// extracted under cacheDir. The first call downloads the package with
// apt-get download (or takes it from apt's archive cache) and unpacks only
// vmlinuz and GuestModules; later calls reuse the extracted files.
func FetchKernel(ctx context.Context, cacheDir string) (*Kernel, error) {
	pkg, err := kernelPackage(ctx)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(cacheDir, pkg)
	k := &Kernel{Package: pkg, Vmlinuz: filepath.Join(dir, "vmlinuz")}
	for _, m := range GuestModules {
		k.Modules = append(k.Modules, filepath.Join(dir, m+".ko"))
	}
	if _, err := os.Stat(filepath.Join(dir, "complete")); err == nil {
		return k, nil
	}
	deb, cleanup, err := kernelDeb(ctx, pkg, cacheDir)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := extractKernel(ctx, deb, dir); err != nil {
		return nil, err
	}
	// The marker is written last: an interrupted extraction is redone.
	if err := os.WriteFile(filepath.Join(dir, "complete"), nil, 0o644); err != nil {
		return nil, err
	}
	return k, nil
}

// kernelPackage resolves KernelMeta to the versioned kernel package.
func kernelPackage(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "apt-cache", "depends", KernelMeta).Output()
	if err != nil {
		return "", fmt.Errorf("apt-cache depends %s: %w (is apt-get update done?)", KernelMeta, cmdErr(err))
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if dep, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "Depends: "); ok && strings.HasPrefix(dep, "linux-image-") {
			return dep, nil
		}
	}
	return "", fmt.Errorf("apt-cache depends %s names no linux-image package:\n%s", KernelMeta, out)
}

// kernelDeb finds pkg's .deb in apt's archive cache or downloads it into
// cacheDir; cleanup removes a downloaded file (70 MB) once extracted.
func kernelDeb(ctx context.Context, pkg, cacheDir string) (string, func(), error) {
	if m, _ := filepath.Glob("/var/cache/apt/archives/" + pkg + "_*.deb"); len(m) > 0 {
		return m[len(m)-1], func() {}, nil
	}
	return downloadDeb(ctx, pkg, cacheDir)
}

// downloadDeb fetches pkg's .deb with apt-get download into a new
// directory under cacheDir, which cleanup removes.
func downloadDeb(ctx context.Context, pkg, cacheDir string) (string, func(), error) {
	tmp, err := os.MkdirTemp(cacheDir, "download-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(tmp) }
	cmd := exec.CommandContext(ctx, "apt-get", "download", "-q", pkg)
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("apt-get download %s: %w\n%s", pkg, err, out)
	}
	m, _ := filepath.Glob(filepath.Join(tmp, pkg+"_*.deb"))
	if len(m) != 1 {
		cleanup()
		return "", nil, fmt.Errorf("apt-get download %s left no .deb in %s", pkg, tmp)
	}
	return m[0], cleanup, nil
}

// extractKernel streams the package's data through dpkg-deb and keeps
// only boot/vmlinuz-* and the wanted modules.
func extractKernel(ctx context.Context, deb, dir string) error {
	cmd := exec.CommandContext(ctx, "dpkg-deb", "--fsys-tarfile", deb)
	// dpkg-deb decompresses in a child process: stopping early must kill
	// the whole group, or that child keeps the pipes (and Wait) open.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	stop := func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	r, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("dpkg-deb: %w", err)
	}
	want := map[string]string{} // file name in the package -> name in dir
	for _, m := range GuestModules {
		want[m+".ko"] = m + ".ko"
	}
	found := map[string]bool{}
	tr := tar.NewReader(r)
	for len(found) < len(want)+1 {
		h, err := tr.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			stop()
			return fmt.Errorf("read %s: %w", deb, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		base := path.Base(h.Name)
		name, ok := want[base]
		if strings.HasPrefix(h.Name, "./boot/vmlinuz-") {
			name, ok = "vmlinuz", true
		} else if ok && !strings.Contains(h.Name, "/kernel/drivers/") {
			ok = false
		}
		if !ok || found[name] {
			continue
		}
		if err := writeFileFrom(filepath.Join(dir, name), tr); err != nil {
			stop()
			return err
		}
		found[name] = true
	}
	// Everything wanted is found early or never: stop reading the rest.
	stop()
	if !found["vmlinuz"] {
		return fmt.Errorf("%s has no boot/vmlinuz-*: %s", deb, stderr.String())
	}
	for base := range want {
		if !found[base] {
			return fmt.Errorf("%s has no module %s (built in, or compressed?)", deb, base)
		}
	}
	return nil
}

func writeFileFrom(name string, r io.Reader) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return fmt.Errorf("extract %s: %w", name, err)
	}
	return f.Close()
}

func cmdErr(err error) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(ee.Stderr) > 0 {
		return fmt.Errorf("%w: %s", err, bytes.TrimSpace(ee.Stderr))
	}
	return err
}
