package testenv

import (
	"encoding/json"
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
// centred. Screenshots come from grim, window titles from SwayViews.
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

// SwayView is a view (a toplevel window) in sway's tree.
type SwayView struct {
	AppID          string
	Title          string
	FullscreenMode int // 0 none, 1 the output, 2 global
}

// SwayViews returns every view in sway's tree, tiled and floating, in tree
// order; sway only.
func (c *Compositor) SwayViews(t testing.TB) []SwayView {
	t.Helper()
	var out []SwayView
	var walk func(raw json.RawMessage) error
	walk = func(raw json.RawMessage) error {
		var n struct {
			Name           string            `json:"name"`
			AppID          *string           `json:"app_id"`
			FullscreenMode int               `json:"fullscreen_mode"`
			Nodes          []json.RawMessage `json:"nodes"`
			FloatingNodes  []json.RawMessage `json:"floating_nodes"`
		}
		if err := json.Unmarshal(raw, &n); err != nil {
			return err
		}
		// Only Wayland views carry an app_id; containers and X11 views do not.
		if n.AppID != nil {
			out = append(out, SwayView{AppID: *n.AppID, Title: n.Name, FullscreenMode: n.FullscreenMode})
		}
		for _, ch := range append(n.Nodes, n.FloatingNodes...) {
			if err := walk(ch); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(json.RawMessage(c.SwayMsg(t, "-t", "get_tree", "-r"))); err != nil {
		t.Fatalf("sway's get_tree: %v", err)
	}
	return out
}

// SwayTitles maps app_id to title for every view in sway's tree; sway only.
func (c *Compositor) SwayTitles(t testing.TB) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, v := range c.SwayViews(t) {
		out[v.AppID] = v.Title
	}
	return out
}
