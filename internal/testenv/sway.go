package testenv

import (
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// nobody is the uid and gid sway runs as: it refuses to run as root.
const nobody = 65534

// StartSway starts sway headless (pixman renderer, no input devices) as
// uid 65534 with one width×height output at 0,0, background #204060 and no
// borders. A single tiled window gets the whole output; a smaller buffer is
// centred. Screenshots come from grim, window titles from SwayTree.
func StartSway(t testing.TB, width, height int) *Compositor {
	t.Helper()
	NeedCommands(t, "sway", "swaymsg", "grim", "setpriv")
	if os.Geteuid() != 0 {
		Missing(t, "sway tests start sway as uid %d and need root", nobody)
	}
	// Not t.TempDir: its parent is private to root, and sway must reach this one.
	rt, err := os.MkdirTemp("", "sway-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(rt) })
	cfg := filepath.Join(rt, "sway.cfg")
	conf := fmt.Sprintf("output HEADLESS-1 resolution %dx%d position 0 0 bg #204060 solid_color\ndefault_border none\n", width, height)
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{rt, cfg} {
		if err := os.Chown(p, nobody, nobody); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("setpriv", fmt.Sprintf("--reuid=%d", nobody), fmt.Sprintf("--regid=%d", nobody),
		"--clear-groups", "env", "-i", "HOME="+rt, "XDG_RUNTIME_DIR="+rt, "WLR_BACKENDS=headless",
		"WLR_LIBINPUT_NO_DEVICES=1", "WLR_RENDERER=pixman", "PATH=/usr/bin:/bin", "sway", "-c", cfg)
	exited := startLogged(t, "sway", cmd)
	// sway skips wayland-0 on purpose.
	c := &Compositor{Name: "sway", RuntimeDir: rt, Display: "wayland-1"}
	waitSocket(t, "sway", c.SocketPath(), exited)
	deadline := time.Now().Add(10 * time.Second)
	for c.swaySock == "" && time.Now().Before(deadline) {
		socks, _ := filepath.Glob(filepath.Join(rt, "sway-ipc.*.sock"))
		if len(socks) == 1 {
			c.swaySock = socks[0]
		} else {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if c.swaySock == "" {
		t.Fatal("sway IPC socket did not appear")
	}
	shots := t.TempDir()
	n := 0
	c.shoot = func() (image.Image, error) {
		n++
		out := filepath.Join(shots, fmt.Sprintf("shot%d.png", n))
		g := exec.Command("grim", out)
		g.Env = c.Env()
		if err := runTool(g); err != nil {
			return nil, err
		}
		return readPNG(out)
	}
	return c
}

// SwayMsg runs swaymsg against this sway and returns its output; sway only.
func (c *Compositor) SwayMsg(t testing.TB, args ...string) string {
	t.Helper()
	if c.swaySock == "" {
		t.Fatalf("SwayMsg on %s", c.Name)
	}
	cmd := exec.Command("swaymsg", append([]string{"-s", c.swaySock}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("swaymsg %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}
