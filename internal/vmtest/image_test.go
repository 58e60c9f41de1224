package vmtest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/qube-desktop/qube-desktop/internal/testenv"
)

// TestInitramfsUnpacks writes an archive and unpacks it with busybox cpio,
// a real newc reader, the way the kernel would see it.
func TestInitramfsUnpacks(t *testing.T) {
	bb := testenv.NeedCommands(t, "busybox")[0]
	src := filepath.Join(t.TempDir(), "hostfile")
	if err := os.WriteFile(src, []byte("from the host\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	a := NewInitramfs(&buf)
	a.File("init", 0o755, []byte("#!/bin/sh\necho hi\n"))
	a.File("usr/share/odd", 0o644, []byte("abc")) // 3 bytes: padding follows
	a.Dir("usr/share")                            // again: no second entry
	a.CopyFile("/etc/copied", src)
	a.Symlink("bin/sh", "busybox")
	a.Dir("empty/dir")
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	gz := filepath.Join(t.TempDir(), "initrd.gz")
	os.WriteFile(gz, buf.Bytes(), 0o600)
	list, err := exec.Command("sh", "-c", `"$0" zcat "$1" | "$0" cpio -t 2>/dev/null`, bb, gz).Output()
	if err != nil {
		t.Fatalf("busybox cpio -t: %v", err)
	}
	names := strings.Fields(string(list))
	if want := []string{"init", "usr", "usr/share", "usr/share/odd", "etc", "etc/copied", "bin", "bin/sh", "empty", "empty/dir"}; !slices.Equal(names, want) {
		t.Errorf("entries %q, want %q", names, want)
	}
	out := t.TempDir()
	x := exec.Command("sh", "-c", `"$0" zcat "$1" | "$0" cpio -id`, bb, gz)
	x.Dir = out
	if b, err := x.CombinedOutput(); err != nil {
		t.Fatalf("busybox cpio -id: %v\n%s", err, b)
	}
	for name, want := range map[string]string{"init": "#!/bin/sh\necho hi\n", "usr/share/odd": "abc", "etc/copied": "from the host\n"} {
		if b, err := os.ReadFile(filepath.Join(out, name)); err != nil || string(b) != want {
			t.Errorf("%s: %q %v, want %q", name, b, err, want)
		}
	}
	for name, want := range map[string]os.FileMode{"init": 0o755, "usr/share/odd": 0o644, "etc/copied": 0o640, "empty/dir": os.ModeDir | 0o755} {
		if st, err := os.Stat(filepath.Join(out, name)); err != nil || st.Mode() != want {
			t.Errorf("%s: mode %v %v, want %v", name, st.Mode(), err, want)
		}
	}
	if l, err := os.Readlink(filepath.Join(out, "bin/sh")); err != nil || l != "busybox" {
		t.Errorf("bin/sh -> %q %v", l, err)
	}
}

func TestInitramfsReportsMissingFile(t *testing.T) {
	a := NewInitramfs(&bytes.Buffer{})
	a.CopyFile("bin/x", filepath.Join(t.TempDir(), "absent"))
	a.File("later", 0o644, nil)
	if err := a.Close(); err == nil || !strings.Contains(err.Error(), "bin/x") {
		t.Fatalf("Close: %v, want the missing file named", err)
	}
}

// TestSharedLibs resolves a packaged, dynamically linked X server the way
// the guest image needs it: loader first, every library once.
func TestSharedLibs(t *testing.T) {
	xvfb := testenv.NeedCommands(t, "Xvfb")[0]
	libs, err := SharedLibs(xvfb)
	if err != nil {
		t.Fatal(err)
	}
	if len(libs) == 0 || !strings.Contains(libs[0], "ld-linux") {
		t.Fatalf("libs %q: want the dynamic loader first", libs)
	}
	seen := map[string]bool{}
	for _, l := range libs {
		if seen[filepath.Base(l)] {
			t.Errorf("%s listed twice", l)
		}
		seen[filepath.Base(l)] = true
		if _, err := os.Stat(l); err != nil {
			t.Error(err)
		}
	}
	// Direct (libpixman) and indirect (libxcb, through libX11 via libGL)
	// dependencies are both there.
	for _, want := range []string{"libc.so.6", "libpixman-1.so.0", "libxcb.so.1"} {
		if !seen[want] {
			t.Errorf("%s missing from %q", want, libs)
		}
	}
	if isStatic(xvfb) {
		t.Errorf("%s reported static", xvfb)
	}
	if _, err := SharedLibs(os.Args[0] + ".absent"); err == nil {
		t.Error("SharedLibs of a missing file succeeded")
	}
}
