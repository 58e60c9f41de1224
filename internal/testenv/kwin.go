package testenv

import (
	"fmt"
	"image"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// StartKWin starts kwin_wayland --virtual (OpenGL on llvmpipe) at
// width×height with a private session bus and isolated config dirs.
// Screenshots come from the kwinshot helper through D-Bus ScreenShot2.
// KWin offers xdg-decoration and the server-decoration palette, so windows
// may get KWin's own title bar.
func StartKWin(t testing.TB, width, height int) *Compositor {
	t.Helper()
	return startKWin(t, width, height, false)
}

// StartKWinXwayland is StartKWin with Xwayland, for X11 clients such as
// Fyne's GLFW build: the Compositor's XDisplay is the DISPLAY KWin gave it
// (the first free one, :0 on an idle machine) and Bus its session bus.
func StartKWinXwayland(t testing.TB, width, height int) *Compositor {
	t.Helper()
	NeedCommands(t, "Xwayland")
	return startKWin(t, width, height, true)
}

func startKWin(t testing.TB, width, height int, xwayland bool) *Compositor {
	t.Helper()
	NeedCommands(t, "kwin_wayland", "dbus-daemon", "go")
	k := t.TempDir()
	for _, d := range []string{"xdg", "home", "config", "cache", "share/applications", "bin"} {
		if err := os.MkdirAll(filepath.Join(k, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	// kwin_wayland carries cap_sys_resource; a copy without the xattr runs in
	// containers whose bounding set lacks that capability.
	kwin := filepath.Join(k, "bin", "kwin_wayland")
	if err := copyFile(kwin, "/usr/bin/kwin_wayland"); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(k, "bin", "kwinshot")
	build := exec.Command("go", "build", "-o", shot, "github.com/qube-desktop/qube-desktop/internal/testenv/kwinshot")
	if err := runTool(build); err != nil {
		t.Fatal(err)
	}
	// KWin authorises ScreenShot2 callers by the .desktop file of their
	// executable; it must exist before KWin builds its sycoca cache.
	desktop := fmt.Sprintf("[Desktop Entry]\nType=Application\nName=kwinshot\nExec=%s\nNoDisplay=true\n"+
		"X-KDE-DBUS-Restricted-Interfaces=org.kde.KWin.ScreenShot2\n", shot)
	if err := os.WriteFile(filepath.Join(k, "share/applications/kwinshot.desktop"), []byte(desktop), 0o644); err != nil {
		t.Fatal(err)
	}

	bus := filepath.Join(k, "bus")
	dbus := exec.Command("dbus-daemon", "--session", "--nofork", "--nopidfile", "--address=unix:path="+bus)
	waitSocket(t, "dbus-daemon", bus, startLogged(t, "dbus-daemon", dbus))

	env := append(os.Environ(),
		"HOME="+filepath.Join(k, "home"), "XDG_CONFIG_HOME="+filepath.Join(k, "config"),
		"XDG_CACHE_HOME="+filepath.Join(k, "cache"), "XDG_DATA_HOME="+filepath.Join(k, "share"),
		"XDG_RUNTIME_DIR="+filepath.Join(k, "xdg"), "DBUS_SESSION_BUS_ADDRESS=unix:path="+bus)
	args := []string{"--virtual", fmt.Sprintf("--width=%d", width), fmt.Sprintf("--height=%d", height),
		"--socket=wl-kwin", "--no-lockscreen", "--no-global-shortcuts", "--no-kactivities"}
	display := filepath.Join(k, "display")
	if xwayland {
		// KWin picks a free X display itself and tells only the programs it
		// starts once Xwayland is up: one of them writes it down.
		args = append(args, "--xwayland", fmt.Sprintf(`sh -c 'echo "$DISPLAY" > %s'`, display))
	}
	cmd := exec.Command(kwin, args...)
	cmd.Env = env
	exited := startLogged(t, "kwin", cmd)
	c := &Compositor{Name: "kwin", RuntimeDir: filepath.Join(k, "xdg"), Display: "wl-kwin", Bus: &Bus{Address: "unix:path=" + escapeAddress(bus)}}
	waitSocket(t, "kwin", c.SocketPath(), exited)
	if xwayland {
		for deadline := time.Now().Add(20 * time.Second); c.XDisplay == ""; time.Sleep(20 * time.Millisecond) {
			b, _ := os.ReadFile(display)
			select {
			case <-exited:
				t.Fatal("kwin exited before its Xwayland was up")
			default:
			}
			if d := strings.TrimSpace(string(b)); strings.HasPrefix(d, ":") && strings.HasSuffix(string(b), "\n") {
				c.XDisplay = d
			} else if time.Now().After(deadline) {
				t.Fatalf("KWin's Xwayland gave no DISPLAY within 20 s (display file: %q)", b)
			}
		}
	}

	n := 0
	c.shoot = func() (image.Image, error) {
		n++
		out := filepath.Join(k, fmt.Sprintf("shot%d.png", n))
		s := exec.Command(shot, out)
		s.Env = env
		if err := runTool(s); err != nil {
			return nil, err
		}
		return readPNG(out)
	}
	// ScreenShot2 registers a little after the Wayland socket.
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := c.shoot()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("KWin ScreenShot2 not ready within 20 s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return c
}

func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
