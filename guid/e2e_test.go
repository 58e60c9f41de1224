package guid_test

import (
	"image/color"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	"github.com/qube-desktop/qube-desktop/guid"
	"github.com/qube-desktop/qube-desktop/internal/testenv"
)

// TestRealAgentOnSway puts the real qube-agent between an X client on Xvfb
// and the guid on sway: the client's window shows with its pixels, the
// label frame, and its sanitized title and class.
func TestRealAgentOnSway(t *testing.T) {
	testenv.NeedCommands(t, "go")
	xv := testenv.StartXvfb(t, 800, 600)
	comp := testenv.StartSway(t, 800, 600)
	a := newAgent(t) // only its socket path and region; the real agent listens
	a.l.Close()

	bin := filepath.Join(t.TempDir(), "qube-agent")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/qube-desktop/qube-desktop/app/qube-agent").CombinedOutput(); err != nil {
		t.Fatalf("build qube-agent: %v\n%s", err, out)
	}

	// An X client: a solid window with a hostile title.
	c, err := xgb.NewConnDisplay(xv.Display)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fill := color.RGBA{0x11, 0xaa, 0x55, 0xff}
	scr := xproto.Setup(c).DefaultScreen(c)
	w, _ := xproto.NewWindowId(c)
	xproto.CreateWindow(c, scr.RootDepth, w, scr.Root, 10, 10, 120, 80, 0, xproto.WindowClassInputOutput,
		scr.RootVisual, xproto.CwBackPixel, []uint32{uint32(fill.R)<<16 | uint32(fill.G)<<8 | uint32(fill.B)})
	title := "e2e\x1b title"
	xproto.ChangeProperty(c, xproto.PropModeReplace, w, xproto.AtomWmName, xproto.AtomString, 8, uint32(len(title)), []byte(title))
	class := "xe2e\x00Xe2e\x00"
	xproto.ChangeProperty(c, xproto.PropModeReplace, w, xproto.AtomWmClass, xproto.AtomString, 8, uint32(len(class)), []byte(class))
	xproto.MapWindow(c, w)
	xproto.GetInputFocus(c).Reply()

	runProc(t, "qube-agent", a.region, nil, bin, "-transport", "unix", "-socket", a.path, "-region-fd", "3", "-display", xv.Display)
	startGuid(t, comp, a, guid.Options{})

	// sway tiles the window; the agent follows the configure and the X
	// window's background fills the new size.
	deadline := time.Now().Add(15 * time.Second)
	for comp.SwayTitles(t)["work:Xe2e"] != "[work] e2e_ title" {
		if time.Now().After(deadline) {
			t.Fatalf("sway views %q, want app_id work:Xe2e titled \"[work] e2e_ title\"", comp.SwayTitles(t))
		}
		time.Sleep(50 * time.Millisecond)
	}
	img, at := find(t, comp, solid(fill), 796, 596)
	checkContent(t, img, at, solid(fill), 796, 596)
	checkFrame(t, img, at, 796, 596, 2, 2, blue)
}
