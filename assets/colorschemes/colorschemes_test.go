package colorschemes_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qube-desktop/qube-desktop/assets/colorschemes"
	"github.com/qube-desktop/qube-desktop/compositor/frame"
	"github.com/qube-desktop/qube-desktop/internal/qube"
)

// groups parses a KDE .colors file (an INI file with "[A][B]" groups).
func groups(t *testing.T, b []byte) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	var cur map[string]string
	s := bufio.NewScanner(bytes.NewReader(b))
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		switch {
		case line == "":
		case strings.HasPrefix(line, "["):
			cur = map[string]string{}
			out[line] = cur
		case cur != nil && strings.Contains(line, "="):
			k, v, _ := strings.Cut(line, "=")
			cur[k] = v
		default:
			t.Fatalf("line %q is neither a group nor a key", line)
		}
	}
	return out
}

// TestSchemePerLabel: every default label has a scheme whose title-bar
// colours are the label colour with the frame's readable text colour.
func TestSchemePerLabel(t *testing.T) {
	for _, l := range qube.Labels {
		name, ok := colorschemes.ForColor(l.Color())
		if !ok || name != "qubes-"+l.Name {
			t.Fatalf("label %s: scheme %q, %v", l.Name, name, ok)
		}
		b, err := colorschemes.Data(name)
		if err != nil {
			t.Fatal(err)
		}
		g := groups(t, b)
		c, fg := l.Color(), frame.TextColor(l.Color())
		bg, text := fmt.Sprintf("%d,%d,%d", c.R, c.G, c.B), fmt.Sprintf("%d,%d,%d", fg.R, fg.G, fg.B)
		for group, keys := range map[string]map[string]string{
			"[WM]": {"activeBackground": bg, "inactiveBackground": bg, "frame": bg, "inactiveFrame": bg,
				"activeForeground": text, "inactiveForeground": text},
			"[Colors:Header]":           {"BackgroundNormal": bg, "ForegroundNormal": text},
			"[Colors:Header][Inactive]": {"BackgroundNormal": bg, "ForegroundNormal": text},
			"[General]":                 {"ColorScheme": name},
		} {
			for k, want := range keys {
				if got := g[group][k]; got != want {
					t.Errorf("%s: %s %s = %q, want %q", name, group, k, got, want)
				}
			}
		}
	}
	if _, ok := colorschemes.ForColor(qube.Label{RGB: 0x123456}.Color()); ok {
		t.Error("a custom label colour has a scheme")
	}
}

func TestInstall(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "color-schemes")
	path, err := colorschemes.Install(dir, "qubes-blue")
	if err != nil {
		t.Fatal(err)
	}
	if path != filepath.Join(dir, "qubes-blue.colors") {
		t.Errorf("installed at %s", path)
	}
	want, _ := colorschemes.Data("qubes-blue")
	// A stale file is replaced.
	if err := os.WriteFile(path, []byte("[WM]\nactiveBackground=1,2,3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := colorschemes.Install(dir, "qubes-blue"); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, want) {
		t.Errorf("installed file %q (%v), want the embedded scheme", got, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the scheme", len(entries))
	}
	if _, err := colorschemes.Install(dir, "../evil"); err == nil {
		t.Error("unknown scheme installed")
	}

	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	p, err := colorschemes.InstallRuntime(qube.Labels[0].Color())
	if err != nil || p != filepath.Join(os.Getenv("XDG_RUNTIME_DIR"), "qube-desktop/color-schemes/qubes-red.colors") {
		t.Errorf("InstallRuntime: %q, %v", p, err)
	}
}
