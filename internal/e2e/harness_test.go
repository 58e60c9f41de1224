package e2e

import (
	"bufio"
	"fmt"
	"image"
	"image/color"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/qube-desktop/qube-desktop/internal/qube"
	"github.com/qube-desktop/qube-desktop/internal/testenv"
	"github.com/qube-desktop/qube-desktop/internal/transport"
)

func TestMain(m *testing.M) {
	switch {
	case os.Getenv(xclientEnv) != "":
		os.Exit(xclientMain())
	case os.Getenv(shmclientEnv) != "":
		os.Exit(shmclientMain())
	}
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// binaries builds qube-agent and qube-guid once per test binary and
// returns the directory holding them.
func binaries(t testing.TB) string {
	t.Helper()
	testenv.NeedCommands(t, "go")
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "qube-e2e-bin-"); buildErr != nil {
			return
		}
		for _, p := range []string{"qube-agent", "qube-guid"} {
			out, err := exec.Command("go", "build", "-o", filepath.Join(binDir, p),
				"github.com/qube-desktop/qube-desktop/app/"+p).CombinedOutput()
			if err != nil {
				buildErr = fmt.Errorf("build %s: %v\n%s", p, err, out)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binDir
}

const (
	qubeName    = "work"
	regionBytes = 64 << 20
)

// label is the work qube's frame colour (blue).
var label = func() color.RGBA { l, _ := qube.LabelByName("blue"); return l.Color() }()

// proc is a child process with its output in the test log.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
}

func start(t testing.TB, name string, cmd *exec.Cmd) *proc {
	t.Helper()
	w := &logWriter{t: t, prefix: name + ": "}
	if cmd.Stdout == nil {
		cmd.Stdout = w
	}
	cmd.Stderr = w
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.stop(syscall.SIGTERM) })
	return p
}

// stop signals the process and waits for it, killing it after 3 s.
func (p *proc) stop(sig syscall.Signal) {
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(3 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

type logWriter struct {
	t      testing.TB
	prefix string
	mu     sync.Mutex
	buf    []byte
}

func (w *logWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, b...)
	for {
		i := strings.IndexByte(string(w.buf), '\n')
		if i < 0 {
			break
		}
		w.t.Log(w.prefix + string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
	return len(b), nil
}

// qubeStack is one qube's window path: its X server, the region, the
// agent and the daemon showing the windows on a compositor.
type qubeStack struct {
	t      testing.TB
	bin    string
	x      *testenv.Xvfb
	comp   *testenv.Compositor
	region *transport.Region
	socket string
	agent  *proc
	guid   *proc
}

func newStack(t testing.TB, comp *testenv.Compositor, xw, xh int) *qubeStack {
	t.Helper()
	s := &qubeStack{t: t, bin: binaries(t), comp: comp, x: testenv.StartXvfb(t, xw, xh)}
	var err error
	if s.region, err = transport.CreateRegion("qube-"+qubeName, regionBytes); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.region.Close() })
	dir, err := os.MkdirTemp("", "qube-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s.socket = filepath.Join(dir, "gui.sock")
	return s
}

// startAgent runs qube-agent on the qube's display with the region passed
// as fd 3, as qube-hostd does.
func (s *qubeStack) startAgent() {
	cmd := exec.Command(filepath.Join(s.bin, "qube-agent"), "-transport", "unix", "-socket", s.socket,
		"-region-fd", "3", "-display", s.x.Display)
	cmd.ExtraFiles = []*os.File{s.region.File()}
	s.agent = start(s.t, "qube-agent", cmd)
}

// startGuid runs qube-guid for the compositor with the same region.
func (s *qubeStack) startGuid() {
	cmd := exec.Command(filepath.Join(s.bin, "qube-guid"), "-qube", qubeName, "-label", "blue",
		"-socket", s.socket, "-region-fd", "3", "-display", s.comp.SocketPath(), "-border", "2", "-titlebar", "20")
	cmd.ExtraFiles = []*os.File{s.region.File()}
	s.guid = start(s.t, "qube-guid", cmd)
}

// client is a running X client of the qube (this binary run again).
type client struct {
	t     testing.TB
	in    io.WriteCloser
	lines chan string
	p     *proc
}

func (s *qubeStack) startClient() *client {
	s.t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(s.x.Env(), xclientEnv+"=1")
	in, err := cmd.StdinPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	c := &client{t: s.t, in: in, lines: make(chan string, 1024)}
	c.p = start(s.t, "xclient", cmd)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
	}()
	return c
}

// do sends a command and waits for the reply line that starts with want.
func (c *client) do(cmd, want string) string {
	c.t.Helper()
	if _, err := fmt.Fprintln(c.in, cmd); err != nil {
		c.t.Fatalf("xclient %q: %v", cmd, err)
	}
	return c.expect(want, 60*time.Second)
}

// expect waits for an output line starting with prefix; other lines are skipped.
func (c *client) expect(prefix string, within time.Duration) string {
	c.t.Helper()
	timeout := time.After(within)
	var skipped []string
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				c.t.Fatalf("xclient exited while waiting for %q (skipped %q)", prefix, skipped)
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
			skipped = append(skipped, l)
		case <-timeout:
			c.t.Fatalf("xclient: no %q within %v (skipped %q)", prefix, within, skipped)
		}
	}
}

func rgb(c color.Color) color.RGBA {
	r, g, b, _ := c.RGBA()
	return color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 0xff}
}

func rgbOf(v uint32) color.RGBA {
	return color.RGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 0xff}
}

// pat returns the colours of client window id.
func pat(id int) func(x, y int) color.RGBA {
	return func(x, y int) color.RGBA { return rgbOf(pattern(id, x, y)) }
}

// waitFor takes screenshots until ok accepts one.
func waitFor(t testing.TB, comp *testenv.Compositor, what string, ok func(image.Image) bool) image.Image {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		img := comp.Screenshot(t)
		if ok(img) {
			return img
		}
		if time.Now().After(deadline) {
			savePNG(t, img, "timeout")
			t.Fatalf("%s: not on screen within 20 s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// anyColour is a want that matches every pixel: a part of the content
// that something else covers.
var anyColour = color.RGBA{}

// locate finds the top-left pixel of a w×h area showing want, checking its
// top-left and bottom-right corners first and then every pixel.
func locate(img image.Image, want func(x, y int) color.RGBA, w, h int) (image.Point, bool) {
	b := img.Bounds()
	for y := b.Min.Y; y <= b.Max.Y-h; y++ {
		for x := b.Min.X; x <= b.Max.X-w; x++ {
			if rgb(img.At(x, y)) == want(0, 0) && rgb(img.At(x+w-1, y+h-1)) == want(w-1, h-1) &&
				contentIs(img, image.Pt(x, y), want, w, h) == nil {
				return image.Pt(x, y), true
			}
		}
	}
	return image.Point{}, false
}

// contentIs checks every pixel of the w×h area at `at`.
func contentIs(img image.Image, at image.Point, want func(x, y int) color.RGBA, w, h int) error {
	for y := range h {
		for x := range w {
			if got, exp := rgb(img.At(at.X+x, at.Y+y)), want(x, y); got != exp && exp != anyColour {
				return fmt.Errorf("pixel (%d,%d) of the content (screen %d,%d) is %v, want %v", x, y, at.X+x, at.Y+y, got, exp)
			}
		}
	}
	return nil
}

// frameIs checks the label colour on all four sides around a w×h content
// at `at`: border pixels wide, top pixels high above it (a title bar).
func frameIs(img image.Image, at image.Point, w, h, border, top int) error {
	sides := []struct {
		name string
		r    image.Rectangle
	}{
		{"left", image.Rect(at.X-border, at.Y-top, at.X, at.Y+h+border)},
		{"right", image.Rect(at.X+w, at.Y-top, at.X+w+border, at.Y+h+border)},
		{"top", image.Rect(at.X-border, at.Y-top, at.X+w+border, at.Y-top+border)},
		{"bottom", image.Rect(at.X-border, at.Y+h, at.X+w+border, at.Y+h+border)},
	}
	for _, s := range sides {
		if !s.r.In(img.Bounds()) {
			return fmt.Errorf("%s side of the frame %v is off screen %v", s.name, s.r, img.Bounds())
		}
		for y := s.r.Min.Y; y < s.r.Max.Y; y++ {
			for x := s.r.Min.X; x < s.r.Max.X; x++ {
				if got := rgb(img.At(x, y)); got != label {
					return fmt.Errorf("%s side of the frame: pixel (%d,%d) is %v, want the label colour %v", s.name, x, y, got, label)
				}
			}
		}
	}
	return nil
}

// savePNG keeps a screenshot for a person to look at: in $QUBE_E2E_SHOTS
// if set, else in the test's temp dir (logged).
func savePNG(t testing.TB, img image.Image, name string) string {
	dir := os.Getenv("QUBE_E2E_SHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())+"-"+name+".png")
	if err := writePNG(path, img); err != nil {
		t.Errorf("save screenshot: %v", err)
		return ""
	}
	t.Logf("screenshot %s", path)
	return path
}
