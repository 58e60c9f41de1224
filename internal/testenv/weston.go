package testenv

import (
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

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
// debug protocol (for weston-screenshooter) at width×height, background
// #204060. Windows are placed at random positions; there is no wl_seat.
func StartWeston(t testing.TB, width, height int) *Compositor {
	t.Helper()
	NeedCommands(t, "weston", "weston-screenshooter")
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
	c.shoot = func() (image.Image, error) {
		shots, err := os.MkdirTemp(dir, "shot-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(shots)
		sc := exec.Command("weston-screenshooter")
		sc.Dir, sc.Env = shots, c.Env()
		if err := runTool(sc); err != nil {
			return nil, err
		}
		files, _ := filepath.Glob(filepath.Join(shots, "*.png"))
		if len(files) != 1 {
			return nil, fmt.Errorf("weston-screenshooter wrote %d PNG files", len(files))
		}
		return readPNG(files[0])
	}
	return c
}
