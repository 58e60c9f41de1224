package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	"github.com/qube-desktop/qube-desktop/internal/guiproto"
	"github.com/qube-desktop/qube-desktop/internal/testenv"
	"github.com/qube-desktop/qube-desktop/internal/transport"
)

// TestAgentBinary runs the built qube-agent as the host would (region
// memfd inherited as fd 3, unix socket) and plays the daemon: the window of
// an X client arrives with its pixels in the region.
func TestAgentBinary(t *testing.T) {
	xv := testenv.StartXvfb(t, 320, 240)
	bin := filepath.Join(t.TempDir(), "qube-agent")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}

	// An X client with a solid blue window.
	c, err := xgb.NewConnDisplay(xv.Display)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	scr := xproto.Setup(c).DefaultScreen(c)
	win, _ := xproto.NewWindowId(c)
	xproto.CreateWindow(c, scr.RootDepth, win, scr.Root, 10, 10, 64, 32, 0, xproto.WindowClassInputOutput,
		scr.RootVisual, xproto.CwBackPixel, []uint32{0x0000ff})
	xproto.MapWindow(c, win)
	xproto.GetInputFocus(c).Reply()

	region, err := transport.CreateRegion("qube-gui", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer region.Close()
	for _, inherited := range []bool{false, true} {
		t.Run(fmt.Sprintf("listen-fd=%v", inherited), func(t *testing.T) {
			socket := filepath.Join(t.TempDir(), "gui.sock")
			cmd := exec.Command(bin, "-transport", "unix", "-socket", socket, "-region-fd", "3", "-display", xv.Display)
			cmd.ExtraFiles = []*os.File{region.File()}
			if inherited {
				// As qube-hostd does: the host binds, the agent only accepts.
				l, err := net.ListenUnix("unix", &net.UnixAddr{Name: socket, Net: "unix"})
				if err != nil {
					t.Fatal(err)
				}
				defer l.Close()
				lf, err := l.File()
				if err != nil {
					t.Fatal(err)
				}
				defer lf.Close()
				cmd = exec.Command(bin, "-transport", "unix", "-listen-fd", "4", "-region-fd", "3", "-display", xv.Display)
				cmd.ExtraFiles = []*os.File{region.File(), lf}
			}
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }()
			checkWindow(t, socket, region, win)
		})
	}
}

// checkWindow plays the daemon on socket: the blue window arrives with its
// pixels in the region.
func checkWindow(t *testing.T, socket string, region *transport.Region, win xproto.Window) {

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := transport.Dial(ctx, socket)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	v, err := guiproto.DaemonHandshake(conn, guiproto.ProtocolVersion, guiproto.NewXConf(320, 240, 24))
	if err != nil {
		t.Fatal(err)
	}
	limits := guiproto.Limits{RegionSize: uint64(region.Size())}
	var dump guiproto.WindowDump
	for {
		u, h, err := guiproto.ReadUntrusted(conn, v)
		if err != nil {
			t.Fatal(err)
		}
		if h.Window != uint32(win) {
			continue
		}
		switch u := u.(type) {
		case guiproto.UntrustedWindowDump:
			if dump, err = u.Validate(limits); err != nil {
				t.Fatal(err)
			}
			guiproto.WriteMessage(conn, h.Window, guiproto.WindowDumpAck{})
		case guiproto.UntrustedShmImage:
			if dump.Width != 64 || dump.Height != 32 {
				t.Fatalf("dump %+v before the first image", dump)
			}
			px, err := region.Slice(dump.Region.Offset, uint64(dump.Region.Stride)*uint64(dump.Height))
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < len(px); i += 4 {
				if px[i] != 0xff || px[i+1] != 0 || px[i+2] != 0 {
					t.Fatalf("pixel %d = % x, want blue (ff 00 00 in B,G,R order)", i/4, px[i:i+4])
				}
			}
			return
		}
	}
}

func TestFlagErrors(t *testing.T) {
	for _, c := range []struct{ transport, socket string }{
		{"bogus", ""},
		{"unix", ""},            // no socket
		{"unix", "/tmp/x.sock"}, // no region
	} {
		if err := run(c.transport, c.socket, -1, -1, "", "/sys", ":0"); err == nil {
			t.Errorf("run with %+v succeeded", c)
		}
	}
}

// -listen-fd must name a listening socket, and excludes -socket.
func TestListenFdErrors(t *testing.T) {
	region, err := transport.CreateRegion("qube-gui", 1<<16)
	if err != nil {
		t.Fatal(err)
	}
	defer region.Close()
	regionFd, err := syscall.Dup(int(region.File().Fd()))
	if err != nil {
		t.Fatal(err)
	}
	null, err := syscall.Open(os.DevNull, syscall.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	err = run("unix", "", null, regionFd, "", "/sys", ":0")
	if err == nil || !strings.Contains(err.Error(), "not a listening socket") {
		t.Errorf("/dev/null as -listen-fd: %v", err)
	}
	if err := run("unix", "/tmp/x.sock", 3, 3, "", "/sys", ":0"); err == nil {
		t.Error("-socket together with -listen-fd was accepted")
	}
}
