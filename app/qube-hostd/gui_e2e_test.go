package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/qube-desktop/qube-desktop/internal/adminapi"
	"github.com/qube-desktop/qube-desktop/internal/testenv"
)

var red = color.RGBA{0xcc, 0x00, 0x00, 0xff}

// nobody is the user sway runs as in testenv.
const nobody = 65534

// gui is a running qube-hostd with the GUI on one headless compositor,
// driven through the built qvm.
type gui struct {
	bin, sock string
	comp      *testenv.Compositor
	log       *testenv.LogBuffer
	events    chan adminapi.Event
}

// startGUI builds the four programs, starts comp and qube-hostd on it,
// and subscribes to admin.Events.
// With asUser (root only), qube-hostd runs as uid 65534, the user sway
// runs as: a user daemon on the user's own compositor.
func startGUI(t *testing.T, startComp func(testing.TB, int, int) *testenv.Compositor, asUser bool) *gui {
	testenv.NeedCommands(t, "go", "bwrap", "Xvfb", "xterm")
	bin := buildGUIPrograms(t)
	comp := startComp(t, 1024, 768)
	dir, err := os.MkdirTemp("", "hostd-gui-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// A root daemon runs qubes as nobody, who must reach the homes.
	os.Chmod(dir, 0o711)
	g := &gui{bin: bin, sock: filepath.Join(dir, "run", "qubesd.sock"), comp: comp, log: &testenv.LogBuffer{}}
	data := filepath.Join(dir, "data")
	args := []string{"-socket", g.sock, "-data", data, "-gui", "on", "-gui-screen", "1024x768x24",
		"-gui-palette", "/usr/share/color-schemes/Qube{label}.colors"}
	cmd := exec.Command(filepath.Join(bin, "qube-hostd"), args...)
	if asUser {
		testenv.NeedCommands(t, "setpriv")
		for _, d := range []string{dir, filepath.Dir(g.sock), data} {
			os.MkdirAll(d, 0o700)
			os.Chown(d, nobody, nobody)
		}
		cmd = exec.Command("setpriv", append([]string{fmt.Sprintf("--reuid=%d", nobody), fmt.Sprintf("--regid=%d", nobody),
			"--clear-groups", filepath.Join(bin, "qube-hostd")}, args...)...)
	}
	cmd.Env = comp.Env()
	cmd.Stdout, cmd.Stderr = g.log, g.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		t.Logf("qube-hostd output:\n%s", g.log)
		for _, f := range []string{"untrusted.qube-agent.log", "untrusted.qube-guid.log", "untrusted.xvfb.log"} {
			if b, err := os.ReadFile(filepath.Join(data, "logs", f)); err == nil {
				t.Logf("%s:\n%s", f, b)
			}
		}
	})
	waitSocket(t, g.sock)

	c, err := net.Dial("unix", g.sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.Write(adminapi.Request{Method: "admin.Events", Source: "dom0", Dest: "dom0"}.Bytes())
	c.(*net.UnixConn).CloseWrite()
	g.events = make(chan adminapi.Event, 256)
	go func() {
		defer close(g.events)
		r := adminapi.NewEventReader(c)
		for {
			ev, err := r.Next()
			if err != nil {
				return
			}
			g.events <- ev
		}
	}()
	return g
}

var buildOnce struct {
	sync.Once
	dir string
	err error
}

// buildGUIPrograms builds qube-hostd, qvm, qube-agent and qube-guid into
// one directory, where qube-hostd finds the GUI programs by default.
func buildGUIPrograms(t *testing.T) string {
	buildOnce.Do(func() {
		buildOnce.dir, buildOnce.err = os.MkdirTemp("", "hostd-gui-bin-")
		if buildOnce.err != nil {
			return
		}
		os.Chmod(buildOnce.dir, 0o755)
		out, err := exec.Command("go", "build", "-o", buildOnce.dir+"/",
			"github.com/qube-desktop/qube-desktop/app/qube-hostd",
			"github.com/qube-desktop/qube-desktop/app/qvm",
			"github.com/qube-desktop/qube-desktop/app/qube-agent",
			"github.com/qube-desktop/qube-desktop/app/qube-guid").CombinedOutput()
		if err != nil {
			buildOnce.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildOnce.err != nil {
		t.Fatal(buildOnce.err)
	}
	return buildOnce.dir
}

// qvm runs the built qvm against the daemon.
func (g *gui) qvm(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(g.bin, "qvm"), append([]string{"-socket", g.sock}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("qvm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// expectLifecycle checks the qube's start and stop events arrived in
// order, with nothing else of that kind in between.
func (g *gui) expectLifecycle(t *testing.T, name string) {
	t.Helper()
	want := []string{"domain-add", "domain-pre-start", "domain-start", "domain-pre-shutdown", "domain-shutdown"}
	var got []string
	timeout := time.After(10 * time.Second)
	for len(got) < len(want) {
		select {
		case ev, ok := <-g.events:
			if !ok {
				t.Fatalf("admin.Events ended after %v", got)
			}
			if ev.Name == "domain-add" && ev.Subject == "" && slices.Contains(ev.Args, adminapi.Arg{Key: "vm", Value: name}) ||
				ev.Subject == name && (slices.Contains(want, ev.Name) || strings.HasPrefix(ev.Name, "domain-start")) {
				got = append(got, ev.Name)
			}
		case <-timeout:
			t.Fatalf("events of %s: %v, want %v", name, got, want)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("events of %s: %v, want %v", name, got, want)
	}
}

// The whole path on weston: qvm creates and starts a red qube, runs xterm
// in it, and the xterm shows in a red frame with a title bar; shutdown
// takes it away.
func TestXtermInRedFrameOnWeston(t *testing.T) {
	g := startGUI(t, testenv.StartWeston, false)
	g.createAndRunXterm(t)
	img, frame := g.waitFrame(t, showsXterm)
	checkRedFrame(t, img, frame, true)

	g.qvm(t, "shutdown", "--wait", "untrusted")
	g.waitNoFrame(t)
	g.expectLifecycle(t, "untrusted")
}

// On sway, with qube-hostd as the compositor's user: the xterm's white page and text show inside a 2-px red frame
// (sway draws the title bar), the title carries [untrusted]; a killed
// qube-guid and a killed qube-agent are both restarted and the window
// comes back; shutdown removes it.
func TestXtermOnSway(t *testing.T) {
	g := startGUI(t, testenv.StartSway, true)
	g.createAndRunXterm(t)
	g.waitTitle(t, "[untrusted] xterm")
	img, frame := g.waitFrame(t, showsXterm)
	checkRedFrame(t, img, frame, false)

	// KWin would colour its title bar with the label's scheme.
	if findPidOrZero(append(g.victimPattern("qube-guid"), "-palette\x00/usr/share/color-schemes/Qubered.colors\x00")) == 0 {
		t.Error("qube-guid did not get the red label's -palette")
	}
	// The qube's GUI features, dom0's defaults and the daemon's own socket.
	if findPidOrZero(append(g.victimPattern("qube-guid"), "\x00-allow-utf8-titles=true\x00",
		"\x00-max-clipboard\x004096\x00", "\x00-admin-socket\x00"+g.sock+"\x00")) == 0 {
		t.Error("qube-guid did not get the features, or -admin-socket, as flags")
	}
	if !strings.Contains(g.log.String(), "untrusted: feature gui-allow-fullscreen = \"maybe\" is not a boolean") {
		t.Error("no log line for the invalid gui-allow-fullscreen")
	}
	for _, victim := range []string{"qube-guid", "qube-agent"} {
		pid := g.findPid(t, victim)
		syscall.Kill(pid, syscall.SIGKILL)
		g.waitTitle(t, "")
		g.waitTitle(t, "[untrusted] xterm")
		if again := g.findPid(t, victim); again == pid {
			t.Fatalf("%s pid %d was not replaced", victim, pid)
		}
		if !strings.Contains(g.log.String(), victim+" of untrusted ended") {
			t.Errorf("no log line for the restart of %s", victim)
		}
	}

	g.qvm(t, "shutdown", "--wait", "untrusted")
	g.waitTitle(t, "")
	g.waitNoFrame(t)
	g.expectLifecycle(t, "untrusted")
	if pid := findPidOrZero(g.victimPattern("qube-guid")); pid != 0 {
		t.Errorf("qube-guid (pid %d) still runs after shutdown", pid)
	}
}

// showsXterm reports whether in shows the xterm's pixels: mostly its
// white page, and some dark text.
func showsXterm(img image.Image, in image.Rectangle) bool {
	white := count(img, in, func(c color.NRGBA) bool { return c.R == 0xff && c.G == 0xff && c.B == 0xff })
	dark := count(img, in, func(c color.NRGBA) bool { return c.R < 0x40 && c.G < 0x40 && c.B < 0x40 })
	return white > in.Dx()*in.Dy()/2 && dark > 20
}

func (g *gui) createAndRunXterm(t *testing.T) {
	g.qvm(t, "create", "--class", "TemplateVM", "--label", "black", "tpl")
	g.qvm(t, "create", "--label", "red", "--template", "tpl", "untrusted")
	// GUI features: the qube's own, dom0's default, and a bad value that
	// must not stop the qube.
	c := adminapi.New(adminapi.UnixTransport{Path: g.sock})
	for _, f := range [][3]string{{"untrusted", "gui-allow-utf8-titles", "1"}, {"untrusted", "gui-allow-fullscreen", "maybe"},
		{"dom0", "gui-default-max-clipboard-size", "4096"}} {
		if err := c.FeatureSet(context.Background(), f[0], f[1], f[2]); err != nil {
			t.Fatal(err)
		}
	}
	g.qvm(t, "start", "untrusted")
	g.qvm(t, "run", "untrusted", "xterm")
}

// waitFrame waits for a red frame whose inside (at least 100×100) passes
// ok, and returns the screenshot, saved for a look, and the frame.
func (g *gui) waitFrame(t *testing.T, ok func(image.Image, image.Rectangle) bool) (image.Image, image.Rectangle) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		img := g.comp.Screenshot(t)
		frame, found := redFrame(img)
		if in := inside(img, frame); found && in.Dx() >= 100 && in.Dy() >= 100 && ok(img, in) {
			t.Logf("xterm framed at %v; screenshot %s", frame, saveShot(img, "hostd-gui-"+g.comp.Name+".png"))
			return img, frame
		}
		if time.Now().After(deadline) {
			t.Fatalf("no red-framed xterm on %s within 20 s (red box %v; screenshot %s)",
				g.comp.Name, frame, saveShot(img, "hostd-gui-fail.png"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (g *gui) waitNoFrame(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		img := g.comp.Screenshot(t)
		if _, ok := redFrame(img); !ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the red frame is still on screen after shutdown (screenshot %s)", saveShot(img, "hostd-gui-fail.png"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitTitle waits until sway shows exactly one view of untrusted with
// title want, or none if want is "".
func (g *gui) waitTitle(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var titles []string
		for app, title := range g.comp.SwayTitles(t) {
			if strings.HasPrefix(app, "untrusted:") {
				titles = append(titles, title)
			}
		}
		if want == "" && len(titles) == 0 || len(titles) == 1 && titles[0] == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("sway views of untrusted %q, want %q", titles, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// victimPattern is how a GUI process of this daemon's untrusted shows in
// /proc: the guid by its flags and socket, the agent by the memfd it runs
// from.
func (g *gui) victimPattern(name string) []string {
	if name == "qube-guid" {
		return []string{"qube-guid", "-qube\x00untrusted\x00", "-socket\x00" + filepath.Dir(g.sock) + "/gui/untrusted."}
	}
	return []string{"/proc/self/fd/5\x00-transport\x00unix\x00-listen-fd"}
}

func (g *gui) findPid(t *testing.T, name string) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if pid := findPidOrZero(g.victimPattern(name)); pid != 0 {
			return pid
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s process", name)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// findPidOrZero finds the one process whose command line holds every part.
func findPidOrZero(parts []string) int {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		all := true
		for _, p := range parts {
			all = all && bytes.Contains(b, []byte(p))
		}
		if all {
			return pid
		}
	}
	return 0
}

// px is the colour of a screen pixel. The alpha channel of a screenshot is
// meaningless: an XRGB buffer's unused byte lands there (qube pixels carry
// 0), so only red, green and blue count.
func px(img image.Image, x, y int) color.RGBA {
	if n, ok := img.(*image.NRGBA); ok {
		c := n.NRGBAAt(x, y)
		return color.RGBA{c.R, c.G, c.B, 0xff}
	}
	r, g, b, _ := img.At(x, y).RGBA()
	return color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 0xff}
}

// redFrame is the bounding box of the label-red pixels, if there are many.
func redFrame(img image.Image) (image.Rectangle, bool) {
	box, n := image.Rectangle{}, 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if px(img, x, y) == red {
				box = box.Union(image.Rect(x, y, x+1, y+1))
				n++
			}
		}
	}
	return box, n > 400
}

// inside is the content area of a frame: below the title bar (the first
// non-red row at the frame's middle column) and within the side borders.
func inside(img image.Image, f image.Rectangle) image.Rectangle {
	top := f.Min.Y
	for top < f.Max.Y && px(img, (f.Min.X+f.Max.X)/2, top) == red {
		top++
	}
	left := f.Min.X
	for left < f.Max.X && px(img, left, (top+f.Max.Y)/2) == red {
		left++
	}
	return image.Rect(left, top, f.Max.X-(left-f.Min.X), f.Max.Y-(left-f.Min.X))
}

// count counts the pixels of r that match.
func count(img image.Image, r image.Rectangle, match func(color.NRGBA) bool) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if c := px(img, x, y); match(color.NRGBA{c.R, c.G, c.B, 0xff}) {
				n++
			}
		}
	}
	return n
}

// checkRedFrame: every pixel of the frame around the content is red; the
// borders are 2 px, the top one taller when the guid draws a title bar.
func checkRedFrame(t *testing.T, img image.Image, f image.Rectangle, titleBar bool) {
	t.Helper()
	in := inside(img, f)
	sides := map[string]image.Rectangle{
		"top":    image.Rect(f.Min.X, f.Min.Y, f.Max.X, in.Min.Y),
		"bottom": image.Rect(f.Min.X, in.Max.Y, f.Max.X, f.Max.Y),
		"left":   image.Rect(f.Min.X, f.Min.Y, in.Min.X, f.Max.Y),
		"right":  image.Rect(in.Max.X, f.Min.Y, f.Max.X, f.Max.Y),
	}
	if top := in.Min.Y - f.Min.Y; in.Min.X-f.Min.X != 2 || f.Max.Y-in.Max.Y != 2 || (top > 2) != titleBar {
		t.Errorf("frame %v around content %v: want 2-px borders, title bar %v", f, in, titleBar)
	}
	for name, r := range sides {
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				// The title bar carries its text; its edges are red.
				if name == "top" && y > r.Min.Y+1 && y < r.Max.Y-2 && x > r.Min.X+1 && x < r.Max.X-2 {
					continue
				}
				if c := px(img, x, y); c != red {
					t.Fatalf("%s frame pixel (%d,%d) is %v, want red", name, x, y, c)
				}
			}
		}
	}
}

func saveShot(img image.Image, name string) string {
	p := filepath.Join(os.TempDir(), name)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err == nil {
		os.WriteFile(p, buf.Bytes(), 0o644)
	}
	return p
}
