package vmtest

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qube-desktop/qube-desktop/internal/guiproto"
	"github.com/qube-desktop/qube-desktop/internal/testenv"
	"github.com/qube-desktop/qube-desktop/internal/transport"
)

// The guest's X screen and the test client's window.
const (
	screenW, screenH = 640, 480
	winW, winH       = 96, 64
	regionSize       = 16 << 20
	bootLimit        = 3 * time.Minute
)

// guestScript starts the qube's X server and client, then the agent on
// its virtio transport, which waits for the host to connect to qubes.gui.
// The agent needs a display when it starts, so the script waits up to 30 s
// for the X socket.
var guestScript = fmt.Sprintf(`
Xvfb :0 -nolisten tcp -noreset -screen 0 %dx%dx24 &
i=0; while [ ! -S /tmp/.X11-unix/X0 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
echo "GUEST-X-READY uptime=$(cut -d' ' -f1 /proc/uptime)"
/bin/xpattern -display :0 -width %d -height %d &
/bin/qube-agent -transport virtio -display :0
echo "GUEST: qube-agent exited with status $?"
`, screenW, screenH, winW, winH)

// guest is a built image, ready to boot any number of times.
type guest struct {
	qemu, kernel, initrd string
}

// buildGuest finds QEMU and the Debian parts, builds the static agent and
// test client, and packs the initramfs. A missing part skips the test, or
// fails it under CI=true.
func buildGuest(tb testing.TB) *guest {
	tb.Helper()
	cmds := testenv.NeedCommands(tb, "qemu-system-x86_64", "Xvfb", "xkbcomp", "apt-cache", "apt-get", "dpkg-deb", "go")
	busybox := "/bin/busybox"
	if !isStatic(busybox) {
		testenv.Missing(tb, "a static %s (Debian package busybox-static)", busybox)
	}
	if _, err := os.Stat("/usr/share/X11/xkb/rules/evdev"); err != nil {
		testenv.Missing(tb, "XKB data for Xvfb (Debian package xkb-data): %v", err)
	}
	kvm, why := KVMStatus()
	tb.Logf("hardware KVM usable: %v (%s); the guest runs with -accel tcg", kvm, why)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	cache := os.Getenv("QUBE_VMTEST_CACHE")
	if cache == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			tb.Fatal(err)
		}
		cache = filepath.Join(dir, "qube-desktop", "vmtest")
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		tb.Fatal(err)
	}
	k, err := FetchKernel(ctx, cache)
	if err != nil {
		testenv.Missing(tb, "the Debian kernel for the guest: %v", err)
	}
	tb.Logf("kernel %s ready in %v (cache %s)", k.Package, time.Since(start).Round(time.Millisecond), cache)

	dir := tb.TempDir()
	start = time.Now()
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", dir+"/",
		"github.com/qube-desktop/qube-desktop/app/qube-agent",
		"github.com/qube-desktop/qube-desktop/internal/vmtest/xpattern")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		tb.Fatalf("build the guest programs: %v\n%s", err, out)
	}
	img := &Image{
		Busybox: busybox,
		Kernel:  k,
		Programs: map[string]string{
			"bin/qube-agent": filepath.Join(dir, "qube-agent"),
			"bin/xpattern":   filepath.Join(dir, "xpattern"),
			"usr/bin/Xvfb":   cmds[1],
			// Xvfb runs xkbcomp by this fixed path to compile its keymap.
			"usr/bin/xkbcomp": cmds[2],
		},
		Trees:  []string{"/usr/share/X11/xkb"},
		Script: guestScript,
	}
	for _, p := range []string{"bin/qube-agent", "bin/xpattern"} {
		if !isStatic(img.Programs[p]) {
			tb.Fatalf("%s is not static: CGO_ENABLED=0 did not hold", p)
		}
	}
	initrd := filepath.Join(dir, "initrd.gz")
	if err := img.Write(initrd); err != nil {
		tb.Fatal(err)
	}
	st, _ := os.Stat(initrd)
	tb.Logf("agent built and initramfs packed (%d KiB) in %v", st.Size()>>10, time.Since(start).Round(time.Millisecond))
	return &guest{qemu: cmds[0], kernel: k.Vmlinuz, initrd: initrd}
}

// vm is a booted guest whose agent waits for a daemon on socket.
type vm struct {
	region *os.File // the ivshmem backing file, in /dev/shm as for a KVM qube
	socket string   // QEMU's unix socket for the qubes.gui port
	start  time.Time
	stop   func() // kills the guest; also done when the test ends
}

// boot starts QEMU on the image; the guest is killed when the test ends.
func (g *guest) boot(tb testing.TB) *vm {
	tb.Helper()
	rf, err := os.CreateTemp("/dev/shm", "vmtest-region-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { rf.Close(); os.Remove(rf.Name()) })
	if err := rf.Truncate(regionSize); err != nil {
		tb.Fatal(err)
	}
	v := &vm{region: rf, socket: filepath.Join(tb.TempDir(), "gui.sock"), start: time.Now()}
	console := &consoleLog{tb: tb, start: v.start}
	m := &Machine{
		QEMU: g.qemu, Accel: "tcg", Kernel: g.kernel, Initrd: g.initrd, MemoryMiB: 512,
		Append: "console=ttyS0 quiet panic=-1", Region: rf.Name(), RegionSize: regionSize,
		GUISocket: v.socket, Console: console,
	}
	qemu, err := m.Start(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	v.stop = sync.OnceFunc(func() {
		qemu.Process.Kill()
		qemu.Wait()
		console.flush()
	})
	tb.Cleanup(v.stop)
	return v
}

// bootTimes are the moments of one boot, from QEMU's start.
type bootTimes struct {
	connected, handshake, pixels time.Duration
}

// playDaemon plays the GUI daemon on the host: it completes the handshake
// over the virtio-serial socket, acknowledges the window dump, and reads
// the window's pixels back from the region's backing file at the
// page-aligned offset the agent announced.
func (v *vm) playDaemon(tb testing.TB) bootTimes {
	tb.Helper()
	// Generous bounds: a boot takes 10-60 s under TCG on a loaded 2-core
	// machine (docs/benchmarks.md); they only keep a hung guest from
	// holding the test until go test's own timeout.
	ctx, cancel := context.WithTimeout(context.Background(), bootLimit)
	defer cancel()
	var t bootTimes
	conn, err := transport.Dial(ctx, v.socket)
	if err != nil {
		tb.Fatalf("connect to QEMU's qubes.gui socket: %v", err)
	}
	defer conn.Close()
	t.connected = time.Since(v.start)
	conn.SetDeadline(time.Now().Add(bootLimit))
	ver, err := guiproto.DaemonHandshake(conn, guiproto.ProtocolVersion, guiproto.NewXConf(screenW, screenH, 24))
	if err != nil {
		tb.Fatalf("handshake with the agent in the guest: %v", err)
	}
	t.handshake = time.Since(v.start)
	tb.Logf("handshake done at +%v: protocol %s", t.handshake.Round(time.Millisecond), ver)
	if err := checkWindow(conn, ver, v.region); err != nil {
		tb.Fatal(err)
	}
	t.pixels = time.Since(v.start)
	return t
}

// checkWindow reads the agent's messages until the test client's window
// has been created, titled, dumped and shown, and its pixels in the region
// file equal Pattern.
func checkWindow(conn io.ReadWriter, v guiproto.Version, region *os.File) error {
	limits := guiproto.Limits{RegionSize: regionSize}
	var (
		win          uint32 // the test client's window, once created
		title        string
		dump         guiproto.WindowDump
		mismatch     string
		images, acks int
	)
	for {
		u, h, err := guiproto.ReadUntrusted(conn, v)
		if err != nil {
			return fmt.Errorf("reading the agent (window %#x, title %q, %d images, last check: %s): %w", win, title, images, mismatch, err)
		}
		switch u := u.(type) {
		case guiproto.UntrustedCreate:
			c, err := u.Validate(limits)
			if err != nil {
				return err
			}
			if c.Width == winW && c.Height == winH && !c.OverrideRedirect {
				win = h.Window
			}
			continue
		}
		if h.Window != win || win == 0 {
			continue
		}
		switch u := u.(type) {
		case guiproto.UntrustedWMName:
			n, err := u.Validate(limits)
			if err != nil {
				return err
			}
			title = n.Title
		case guiproto.UntrustedWindowDump:
			if dump, err = u.Validate(limits); err != nil {
				return err
			}
			if dump.Kind != guiproto.DumpRegion || dump.Region.Offset%transport.PageSize != 0 {
				return fmt.Errorf("window dump %+v: want a region buffer at a page-aligned offset", dump)
			}
			if err := guiproto.WriteMessage(conn, win, guiproto.WindowDumpAck{}); err != nil {
				return err
			}
			acks++
		case guiproto.UntrustedShmImage:
			if acks == 0 {
				return fmt.Errorf("MSG_SHMIMAGE before any MSG_WINDOW_DUMP")
			}
			images++
			if mismatch = comparePattern(region, dump); mismatch == "" {
				if title != "vmtest pattern" {
					return fmt.Errorf("the pixels arrived but the title is %q", title)
				}
				return nil
			}
		}
	}
}

// comparePattern reads the dump's bytes from the region's backing file
// (not a mapping: what QEMU's memory-backend holds) and describes the first
// pixel that differs from Pattern, or returns "".
func comparePattern(region *os.File, d guiproto.WindowDump) string {
	if d.Width != winW || d.Height != winH || d.Region.Stride != winW*4 {
		return fmt.Sprintf("dump is %dx%d stride %d, want %dx%d", d.Width, d.Height, d.Region.Stride, winW, winH)
	}
	buf := make([]byte, winW*winH*4)
	if _, err := region.ReadAt(buf, int64(d.Region.Offset)); err != nil {
		return fmt.Sprintf("read region file at %#x: %v", d.Region.Offset, err)
	}
	for y := 0; y < winH; y++ {
		for x := 0; x < winW; x++ {
			got := binary.LittleEndian.Uint32(buf[(y*winW+x)*4:]) & 0xffffff
			if want := Pattern(x, y); got != want {
				return fmt.Sprintf("pixel (%d,%d) at region offset %#x is %06x, want %06x", x, y, d.Region.Offset, got, want)
			}
		}
	}
	return ""
}

// TestAgentOverVirtio boots a TCG guest running the real qube-agent with
// -transport virtio and checks the GUI protocol end to end against it:
// first with this test as the daemon, then, after it hangs up, with the
// real qube-guid on sway, which the agent must serve from scratch.
func TestAgentOverVirtio(t *testing.T) {
	if testing.Short() {
		t.Skip("boots a QEMU guest (10-30 s)")
	}
	g := buildGuest(t)
	v := g.boot(t)
	t.Run("daemon", func(t *testing.T) {
		bt := v.playDaemon(t)
		t.Logf("from QEMU start: socket connected +%v, handshake +%v, window pixels verified +%v",
			bt.connected.Round(time.Millisecond), bt.handshake.Round(time.Millisecond), bt.pixels.Round(time.Millisecond))
	})
	t.Run("qube-guid", func(t *testing.T) { v.showOnSway(t) })
}

// BenchmarkBootHandshake measures one boot of the guest up to the completed
// handshake and up to the first verified window pixels.
func BenchmarkBootHandshake(b *testing.B) {
	g := buildGuest(b)
	var hs, px time.Duration
	for b.Loop() {
		v := g.boot(b)
		bt := v.playDaemon(b)
		v.stop()
		hs += bt.handshake
		px += bt.pixels
	}
	b.ReportMetric(hs.Seconds()/float64(b.N), "s-to-handshake/op")
	b.ReportMetric(px.Seconds()/float64(b.N), "s-to-pixels/op")
}

// consoleLog sends the guest's serial console to the test log, one line at
// a time with the time since QEMU started; it keeps only whole lines.
type consoleLog struct {
	tb    testing.TB
	start time.Time
	mu    sync.Mutex
	buf   bytes.Buffer
}

func (c *consoleLog) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf.Write(b)
	for {
		line, err := c.buf.ReadString('\n')
		if err != nil {
			c.buf.WriteString(line) // incomplete: keep for the next write
			return len(b), nil
		}
		c.tb.Logf("guest +%5.2fs: %s", time.Since(c.start).Seconds(), strings.TrimRight(line, "\r\n"))
	}
}

func (c *consoleLog) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.buf.Len() > 0 {
		c.tb.Logf("guest: %s", c.buf.String())
		c.buf.Reset()
	}
}
