package testenv

import (
	"fmt"
	"image"
	"image/color"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// westonBackground is background-color in westonINI.
var westonBackground = color.RGBA{0x20, 0x40, 0x60, 0xff}

const westonINI = `[core]
idle-time=0
[shell]
background-color=0xff204060
panel-position=none
locking=false
animation=none
startup-animation=none
close-animation=none
focus-animation=none
`

// StartWeston starts weston headless with the pixman renderer and the
// debug protocol (for its screenshooter, see westonShoot) at
// width×height, background #204060. Windows are placed at random positions; there is no wl_seat.
func StartWeston(t testing.TB, width, height int) *Compositor {
	t.Helper()
	NeedCommands(t, "weston")
	dir := t.TempDir()
	rt := filepath.Join(dir, "xdg")
	if err := os.Mkdir(rt, 0o700); err != nil {
		t.Fatal(err)
	}
	ini := filepath.Join(dir, "weston.ini")
	if err := os.WriteFile(ini, []byte(westonINI), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("weston", "--backend=headless-backend.so", "--use-pixman",
		fmt.Sprintf("--width=%d", width), fmt.Sprintf("--height=%d", height),
		"--socket=wl-test", "--idle-time=0", "--debug", "-c", ini)
	cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+rt)
	exited := startLogged(t, "weston", cmd)
	c := &Compositor{Name: "weston", RuntimeDir: rt, Display: "wl-test"}
	waitSocket(t, "weston", c.SocketPath(), exited)
	c.shoot = func() (image.Image, error) { return westonShoot(c.SocketPath()) }
	// The socket is up before weston-desktop-shell has drawn the
	// background; tests expect it (and a shell to place their windows).
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		img, err := c.shoot()
		if err != nil {
			t.Fatalf("weston screenshot: %v", err)
		}
		if color.RGBAModel.Convert(img.At(0, 0)) == westonBackground {
			break
		}
		select {
		case <-exited:
			t.Fatal("weston exited before its desktop shell drew the background")
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("weston's desktop shell drew no background within 20 s: (0,0) is %v", img.At(0, 0))
		}
	}
	return c
}
