package packaging

import (
	"encoding/base64"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/qube-desktop/qube-desktop/internal/testenv"
)

const root = "../.."

func read(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestFlakeVendorHash checks flake.nix's vendorHash against Nix's own hash
// of `go mod vendor`, which is what buildGoModule computes.
func TestFlakeVendorHash(t *testing.T) {
	testenv.NeedCommands(t, "nix-hash")
	m := regexp.MustCompile(`vendorHash = "([^"]+)"`).FindStringSubmatch(read(t, "flake.nix"))
	if m == nil {
		t.Fatal("flake.nix has no vendorHash")
	}
	vendor := filepath.Join(t.TempDir(), "vendor")
	cmd := exec.Command("go", "mod", "vendor", "-o", vendor)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go mod vendor: %v\n%s", err, out)
	}
	out, err := exec.Command("nix-hash", "--type", "sha256", vendor).Output()
	if err != nil {
		t.Fatalf("nix-hash: %v", err)
	}
	sum, err := hex.DecodeString(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("nix-hash printed %q: %v", out, err)
	}
	want := "sha256-" + base64.StdEncoding.EncodeToString(sum)
	if m[1] != want {
		t.Errorf("flake.nix vendorHash = %s; the module's vendor tree hashes to %s: update flake.nix", m[1], want)
	}
}

// TestFlakeBuildsEveryBinary checks that subPackages lists exactly the
// main packages under app/.
func TestFlakeBuildsEveryBinary(t *testing.T) {
	m := regexp.MustCompile(`subPackages = \[([^\]]*)\]`).FindStringSubmatch(read(t, "flake.nix"))
	if m == nil {
		t.Fatal("flake.nix has no subPackages")
	}
	listed := map[string]bool{}
	for _, q := range regexp.MustCompile(`"([^"]+)"`).FindAllStringSubmatch(m[1], -1) {
		listed[q[1]] = true
	}
	dirs, err := filepath.Glob(filepath.Join(root, "app", "*", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	present := map[string]bool{}
	for _, d := range dirs {
		rel, _ := filepath.Rel(root, filepath.Dir(d))
		present[rel] = true
		if !listed[rel] {
			t.Errorf("%s is a binary but flake.nix does not build it", rel)
		}
	}
	for p := range listed {
		if !present[p] {
			t.Errorf("flake.nix builds %s, which has no main.go", p)
		}
	}
}

// TestDesktopMetadata checks what the KDE menu shows: name, icon,
// categories, and the window class that ties the window to its entry.
func TestDesktopMetadata(t *testing.T) {
	// `fyne package` reads FyneApp.toml from the main package's folder and
	// takes the icon path relative to it.
	const src = "app/qube-manager"
	toml := read(t, filepath.Join(src, "FyneApp.toml"))
	for _, want := range []string{`Name = "Qube Manager"`, `Categories = ["System", "Security"]`, `ID = "org.qubedesktop.QubeManager"`} {
		if !strings.Contains(toml, want) {
			t.Errorf("FyneApp.toml lacks %s", want)
		}
	}
	icon := regexp.MustCompile(`Icon = "([^"]+)"`).FindStringSubmatch(toml)
	if icon == nil {
		t.Fatal("FyneApp.toml names no icon")
	}
	if _, err := os.Stat(filepath.Join(root, src, icon[1])); err != nil {
		t.Errorf("FyneApp.toml icon: %v", err)
	}
	desktop := read(t, "assets/org.qubedesktop.QubeManager.desktop")
	for _, want := range []string{"\nName=Qube Manager\n", "\nCategories=System;Security;\n", "\nExec=qube-manager\n", "\nIcon=org.qubedesktop.QubeManager\n",
		// GLFW names the X11 window class after the window title (Fyne sets no
		// class hint); app/qube-manager's KWin test reads the real WM_CLASS.
		"\nStartupWMClass=Qube Manager\n"} {
		if !strings.Contains(desktop, want) {
			t.Errorf("desktop entry lacks %q", strings.TrimSpace(want))
		}
	}
}
