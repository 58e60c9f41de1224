package testenv

import (
	"fmt"
	"image"
	"image/png"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Compositor is a running headless Wayland compositor owned by one test.
type Compositor struct {
	Name       string // "weston", "sway"
	RuntimeDir string // XDG_RUNTIME_DIR of the compositor
	Display    string // WAYLAND_DISPLAY, relative to RuntimeDir
	XDisplay   string // DISPLAY of the compositor's Xwayland, if it runs one
	Bus        *Bus   // the compositor's own session bus, if it has one (KWin); not restartable
	shoot      func() (image.Image, error)
	swaySock   string
}

// SocketPath is the compositor's Wayland socket.
func (c *Compositor) SocketPath() string { return filepath.Join(c.RuntimeDir, c.Display) }

// Env returns os.Environ with WAYLAND_DISPLAY and XDG_RUNTIME_DIR set for
// clients of this compositor.
func (c *Compositor) Env() []string {
	return append(os.Environ(), "WAYLAND_DISPLAY="+c.Display, "XDG_RUNTIME_DIR="+c.RuntimeDir)
}

// Screenshot captures the whole output.
func (c *Compositor) Screenshot(t testing.TB) image.Image {
	t.Helper()
	img, err := c.shoot()
	if err != nil {
		t.Fatalf("%s screenshot: %v", c.Name, err)
	}
	return img
}

// waitSocket waits until the compositor accepts connections on path.
func waitSocket(t testing.TB, name, path string, exited <-chan struct{}) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			t.Fatalf("%s exited before its socket %s appeared", name, path)
		default:
		}
		if c, err := net.Dial("unix", path); err == nil {
			c.Close()
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s socket %s did not appear within 20 s", name, path)
}

// startLogged starts cmd with its output in the test log and stops it on
// cleanup. The returned channel closes when the process has exited and its
// output is copied, so nothing is logged after the test ends.
func startLogged(t testing.TB, name string, cmd *exec.Cmd) <-chan struct{} {
	t.Helper()
	w := &prefixWriter{t: t, prefix: name + ": "}
	cmd.Stdout, cmd.Stderr = w, w
	// Children that inherited the output pipe must not hold up Wait.
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(3 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	return exited
}

// readPNG decodes a PNG file.
func readPNG(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	return img, nil
}

// runTool runs a helper program and reports its output on failure.
func runTool(cmd *exec.Cmd) error {
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", strings.Join(cmd.Args, " "), err, out)
	}
	return nil
}
