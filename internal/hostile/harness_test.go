package hostile_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/qube-desktop/qube-desktop/internal/guiproto"
	"github.com/qube-desktop/qube-desktop/internal/qube"
	"github.com/qube-desktop/qube-desktop/internal/testenv"
	"github.com/qube-desktop/qube-desktop/internal/transport"
)

// regionBytes is each qube's shared region.
const regionBytes = 32 << 20

// maxHWM bounds the daemon's peak resident memory over the whole suite:
// the region is mapped but never touched by the daemon, so this is its
// heap, which no agent may make grow without limit.
const maxHWM = 64 << 20

var (
	blue    = qube.Labels[5].Color() // the hostile qube "work"
	green   = qube.Labels[3].Color() // the bystander "personal"
	magenta = color.RGBA{0xff, 0x00, 0xff, 0xff}
	yellow  = color.RGBA{0xff, 0xff, 0x00, 0xff}
)

// daemon is a running qube-guid process.
type daemon struct {
	qube   string
	cmd    *exec.Cmd
	out    *testenv.LogBuffer
	exited chan struct{}
	once   sync.Once // stop
}

// buildGuid builds app/qube-guid once for the suite.
func buildGuid(t *testing.T) string {
	testenv.NeedCommands(t, "go")
	bin := filepath.Join(t.TempDir(), "qube-guid")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/qube-desktop/qube-desktop/app/qube-guid").CombinedOutput()
	if err != nil {
		t.Fatalf("build qube-guid: %v\n%s", err, out)
	}
	return bin
}

// startDaemon runs the binary for one qube with the agent's region
// inherited as fd 3, as qube-hostd starts it.
func startDaemon(t *testing.T, bin string, comp *testenv.Compositor, a *agent, name, label string, flags ...string) *daemon {
	fd, err := syscall.Dup(int(a.region.File().Fd()))
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "region")
	defer f.Close()
	args := append([]string{"-qube", name, "-label", label, "-socket", a.path, "-region-fd", "3",
		"-display", comp.SocketPath()}, flags...)
	d := &daemon{qube: name, cmd: exec.Command(bin, args...), out: &testenv.LogBuffer{}, exited: make(chan struct{})}
	d.cmd.ExtraFiles = []*os.File{f}
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = d.cmd.Wait(); close(d.exited) }()
	t.Cleanup(func() { d.stop(t) })
	return d
}

// stop ends the daemon with SIGTERM and checks it exited cleanly.
func (d *daemon) stop(t *testing.T) { d.once.Do(func() { d.terminate(t) }) }

func (d *daemon) terminate(t *testing.T) {
	select {
	case <-d.exited:
	default:
		_ = d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.exited:
		case <-time.After(5 * time.Second):
			_ = d.cmd.Process.Kill()
			<-d.exited
			t.Errorf("qube-guid[%s] ignored SIGTERM for 5 s", d.qube)
		}
		if code := d.cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("qube-guid[%s] exited with status %d on SIGTERM", d.qube, code)
		}
	}
	t.Logf("qube-guid[%s] output:\n%s", d.qube, d.out)
}

// healthy fails the test if the daemon died or panicked.
func (d *daemon) healthy(t *testing.T) {
	t.Helper()
	select {
	case <-d.exited:
		t.Fatalf("qube-guid[%s] exited (%v):\n%s", d.qube, d.cmd.ProcessState, d.out)
	default:
	}
	if s := d.out.String(); strings.Contains(s, "panic:") || strings.Contains(s, "fatal error:") || strings.Contains(s, "goroutine ") {
		t.Fatalf("qube-guid[%s] panicked:\n%s", d.qube, s)
	}
}

// memory returns the daemon's VmRSS and VmHWM in bytes.
func (d *daemon) memory(t *testing.T) (rss, hwm int64) {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", d.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			t.Fatalf("/proc status %s: %v", k, err)
		}
		if k == "VmRSS" {
			rss = kb << 10
		} else {
			hwm = kb << 10
		}
	}
	return rss, hwm
}

// received is one message from the daemon.
type received struct {
	h guiproto.Header
	m guiproto.Message
}

// agent is a GUI agent under the test's control: it listens where the
// daemon dials, owns the qube's region, and can send any bytes at all.
type agent struct {
	t      testing.TB
	l      *transport.Listener
	path   string
	region *transport.Region
	alloc  *transport.PageAllocator

	mu   sync.Mutex // serialises writes
	conn net.Conn
	in   chan received
	// follow makes the agent ack the daemon's configures, as X clients do.
	follow bool
}

func newAgent(t *testing.T, name string) *agent {
	dir, err := os.MkdirTemp("", "hostile-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	a := &agent{t: t, path: filepath.Join(dir, "gui.sock")}
	if a.l, err = transport.Listen(a.path); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.l.Close() })
	if a.region, err = transport.CreateRegion("qube-"+name, regionBytes); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.region.Close() })
	return a
}

// accept waits for the daemon to dial and runs the handshake; the region
// starts empty again, as after an agent restart.
func (a *agent) accept(t testing.TB) {
	t.Helper()
	a.t = t
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := a.l.Accept(ctx)
	if err != nil {
		t.Fatalf("the daemon did not connect to the agent: %v", err)
	}
	v, _, err := guiproto.AgentHandshake(conn, guiproto.ProtocolVersion)
	if err != nil {
		t.Fatal(err)
	}
	in := make(chan received, 1<<16)
	a.mu.Lock()
	a.conn, a.in = conn, in
	a.alloc = transport.NewPageAllocator(a.region.Size())
	a.mu.Unlock()
	go func() {
		defer close(in)
		for {
			m, h, err := guiproto.ReadFromDaemon(conn, v)
			if err != nil {
				return
			}
			if c, ok := m.(guiproto.Configure); ok && a.follow {
				a.send(h.Window, c)
			}
			select {
			case in <- received{h, m}:
			default: // nobody reads: drop rather than block the connection
			}
		}
	}()
}

// acceptRaw waits for the daemon to dial and leaves the handshake to the
// test: the daemon's bytes are read and dropped until it hangs up.
func (a *agent) acceptRaw(t testing.TB) {
	t.Helper()
	a.t = t
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := a.l.Accept(ctx)
	if err != nil {
		t.Fatalf("the daemon did not connect to the agent: %v", err)
	}
	in := make(chan received)
	a.mu.Lock()
	a.conn, a.in = conn, in
	a.mu.Unlock()
	go func() {
		defer close(in)
		_, _ = io.Copy(io.Discard, conn)
	}()
}

// hangup closes the connection, as an agent that exits.
func (a *agent) hangup() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.conn != nil {
		a.conn.Close()
		a.conn = nil
	}
}

// send writes encoded messages; a write error shows up later as a hangup.
func (a *agent) send(id uint32, msgs ...guiproto.Message) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, m := range msgs {
		if a.conn != nil {
			_ = guiproto.WriteMessage(a.conn, id, m)
		}
	}
}

// raw writes bytes that no encoder would produce.
func (a *agent) raw(b []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.conn != nil {
		_, _ = a.conn.Write(b)
	}
}

// hdr is a message header with any type and length.
func hdr(t guiproto.Type, window, length uint32) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(t))
	b = binary.LittleEndian.AppendUint32(b, window)
	return binary.LittleEndian.AppendUint32(b, length)
}

// msg is a header with the body's true length followed by the body.
func msg(t guiproto.Type, window uint32, body []byte) []byte {
	return append(hdr(t, window, uint32(len(body))), body...)
}

// u32s is a body of little-endian words.
func u32s(vs ...uint32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	return b
}

// regionDump is a MSG_WINDOW_DUMP of type region with any field values.
func regionDump(window, w, h uint32, off uint64, stride, reserved uint32) []byte {
	body := u32s(uint32(guiproto.DumpRegion), w, h, 24)
	body = binary.LittleEndian.AppendUint64(body, off)
	return msg(guiproto.MsgWindowDump, window, append(body, u32s(stride, reserved)...))
}

// paint fills a fresh w×h buffer with c and returns its dump.
func (a *agent) paint(w, h uint32, c color.RGBA) guiproto.WindowDump {
	a.t.Helper()
	n := uint64(w) * uint64(h) * 4
	off, err := a.alloc.Alloc(n)
	if err != nil {
		a.t.Fatalf("agent region: %v", err)
	}
	pix, err := a.region.Slice(off, n)
	if err != nil {
		a.t.Fatal(err)
	}
	for i := 0; i < len(pix); i += 4 {
		pix[i], pix[i+1], pix[i+2], pix[i+3] = c.B, c.G, c.R, 0xff
	}
	return guiproto.WindowDump{Kind: guiproto.DumpRegion, Width: w, Height: h, BPP: 24,
		Region: guiproto.RegionBuffer{Offset: off, Stride: 4 * w}}
}

// win describes a window the agent shows the Linux agent's way (spec §1.4).
type win struct {
	x, y         int32
	w, h         uint32
	or           bool
	transientFor uint32
	title, class string
	fill         color.RGBA
}

func (a *agent) window(id uint32, s win) {
	a.send(id,
		guiproto.Create{X: s.x, Y: s.y, Width: s.w, Height: s.h, OverrideRedirect: s.or},
		guiproto.Configure{X: s.x, Y: s.y, Width: s.w, Height: s.h},
		a.paint(s.w, s.h, s.fill),
		guiproto.WMClass{Class: s.class, Name: strings.ToLower(s.class)},
		guiproto.MapInfo{TransientFor: s.transientFor, OverrideRedirect: s.or},
		guiproto.WMName{Title: s.title},
		guiproto.ShmImage{Width: s.w, Height: s.h})
}

// expect waits for a message of type typ for window id.
func (a *agent) expect(typ guiproto.Type, id uint32) received {
	a.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case r, ok := <-a.in:
			if !ok {
				a.t.Fatalf("the daemon hung up while the agent waited for %s for %#x", typ, id)
			}
			if r.h.Type == typ && r.h.Window == id {
				return r
			}
		case <-timeout:
			a.t.Fatalf("no %s for %#x from the daemon within 10 s", typ, id)
		}
	}
}

// errAlive is what waitHangup returns when the connection stays open.
var errAlive = errors.New("the daemon kept the session")

// waitHangup waits up to d for the daemon to close the connection.
func (a *agent) waitHangup(d time.Duration) error {
	timeout := time.After(d)
	for {
		select {
		case _, ok := <-a.in:
			if !ok {
				return nil
			}
		case <-timeout:
			return errAlive
		}
	}
}

// pingID is a window ID no attack uses.
const pingID = 0x7fff_fff0

// ping proves the session is alive and has handled everything sent before
// it: a CREATE and DESTROY of a fresh window must be acknowledged.
func (a *agent) ping() error {
	a.send(pingID, guiproto.Create{Width: 1, Height: 1}, guiproto.Destroy{})
	timeout := time.After(10 * time.Second)
	for {
		select {
		case r, ok := <-a.in:
			if !ok {
				return errors.New("the daemon ended the session")
			}
			if r.h.Type == guiproto.MsgDestroy && r.h.Window == pingID {
				return nil
			}
		case <-timeout:
			return errors.New("no DESTROY ack for the ping within 10 s")
		}
	}
}

// views returns sway's views whose app_id is the qube's name or starts
// with "qube:".
func views(t testing.TB, comp *testenv.Compositor, qubeName string) []testenv.SwayView {
	t.Helper()
	var out []testenv.SwayView
	for _, v := range comp.SwayViews(t) {
		if v.AppID == qubeName || strings.HasPrefix(v.AppID, qubeName+":") {
			out = append(out, v)
		}
	}
	return out
}

// waitViews polls sway's tree until ok accepts the qube's views.
func waitViews(t testing.TB, comp *testenv.Compositor, qubeName, what string, ok func([]testenv.SwayView) bool) []testenv.SwayView {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		vs := views(t, comp, qubeName)
		if ok(vs) {
			return vs
		}
		if time.Now().After(deadline) {
			t.Fatalf("sway never showed %s; %s's views: %+v", what, qubeName, vs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func rgb(c color.Color) color.RGBA {
	r, g, b, _ := c.RGBA()
	return color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 0xff}
}

// area returns the bounding box of the pixels of colour c and their count.
func area(img image.Image, c color.RGBA) (image.Rectangle, int) {
	var r image.Rectangle
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if rgb(img.At(x, y)) == c {
				r = r.Union(image.Rect(x, y, x+1, y+1))
				n++
			}
		}
	}
	return r, n
}

// waitArea waits until exactly n pixels of colour c form a filled
// rectangle on screen and returns it with the screenshot.
func waitArea(t testing.TB, comp *testenv.Compositor, c color.RGBA, n int) (image.Image, image.Rectangle) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		img := comp.Screenshot(t)
		r, got := area(img, c)
		if got == n && r.Dx()*r.Dy() == n {
			return img, r
		}
		if time.Now().After(deadline) {
			t.Fatalf("want a filled rectangle of %d pixels of %v on screen, got %d pixels in %v", n, c, got, r)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// framed asserts that the border-pixel ring around r has colour label on
// every side that lies on screen.
func framed(t testing.TB, img image.Image, r image.Rectangle, border int, label color.RGBA) {
	t.Helper()
	outer := r.Inset(-border).Intersect(img.Bounds())
	for y := outer.Min.Y; y < outer.Max.Y; y++ {
		for x := outer.Min.X; x < outer.Max.X; x++ {
			if image.Pt(x, y).In(r) {
				continue
			}
			if got := rgb(img.At(x, y)); got != label {
				t.Fatalf("frame pixel (%d,%d) around the content %v is %v, want the label colour %v", x, y, r, got, label)
			}
		}
	}
}
