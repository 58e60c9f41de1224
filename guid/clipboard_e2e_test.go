package guid_test

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	"github.com/qube-desktop/qube-desktop/internal/clipboard"
	"github.com/qube-desktop/qube-desktop/internal/notify/notifytest"
	"github.com/qube-desktop/qube-desktop/internal/testenv"
	"github.com/qube-desktop/qube-desktop/internal/transport"
)

// Evdev codes the test types through sway's virtual keyboard.
const (
	keyLeftCtrl  = 29
	keyLeftShift = 42
	keyC         = 46
	keyV         = 47
	keyX         = 45
	// xkb's modifier bits in sway's keymap: Shift 0, Control 2.
	modsCtrlShift = 1<<0 | 1<<2
)

// TestSecureCopyPasteOnSway is issue 8's end-to-end test: two qubes, each
// an Xvfb with the real qube-agent and the real qube-guid, on one sway.
// Text an X client of alpha owns as CLIPBOARD is copied with Ctrl+Shift+C
// in alpha's window and pasted with Ctrl+Shift+V in beta's, where an X
// client reads it back; the global clipboard is then empty. Neither qube
// sees the C or V of a hotkey. A denied paste keeps the buffer and sends
// nothing.
func TestSecureCopyPasteOnSway(t *testing.T) {
	testenv.NeedCommands(t, "go")
	comp := testenv.StartSway(t, 800, 600)
	bus := testenv.StartDBus(t)
	notes, err := notifytest.Serve(bus.Conn(t))
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	for _, p := range []string{"qube-agent", "qube-guid"} {
		if out, err := exec.Command("go", "build", "-o", filepath.Join(bin, p),
			"github.com/qube-desktop/qube-desktop/app/"+p).CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", p, err, out)
		}
	}
	clipDir, policyDir := t.TempDir(), t.TempDir()
	start := func(name, label, class string) *xClient {
		x := testenv.StartXvfb(t, 640, 480)
		region, err := transport.CreateRegion("qube-"+name, regionBytes)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { region.Close() })
		dir, err := os.MkdirTemp("", "clip-e2e-") // short: a socket path
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		sock := filepath.Join(dir, "gui.sock")
		runProc(t, name+" qube-agent", region, nil, filepath.Join(bin, "qube-agent"),
			"-transport", "unix", "-socket", sock, "-region-fd", "3", "-display", x.Display)
		runProc(t, name+" qube-guid", region, bus.Env(), filepath.Join(bin, "qube-guid"),
			"-qube", name, "-label", label, "-socket", sock, "-region-fd", "3", "-display", comp.SocketPath(),
			"-clipboard-dir", clipDir, "-policy-dir", policyDir)
		return newXClient(t, x.Display, class)
	}
	alpha := start("alpha", "blue", "ClipA")
	beta := start("beta", "green", "ClipB")
	in := testenv.VirtualInput(t, comp)
	// sway focuses a window as it maps it: beta's, mapped late, would take
	// the keys meant for alpha.
	waitSwayView(t, comp, "beta:ClipB")

	const text = "quarterly report\nline two \u00e9"
	alpha.own(text)

	// Copy in alpha: the agent converts alpha's CLIPBOARD for the guid.
	alpha.focus(t, comp, "alpha:ClipA")
	chord(in, keyC)
	waitGlobal(t, clipDir, "alpha", text)
	expectNote(t, notes, clipboard.CopiedText("alpha", len(text)))
	alpha.keysUntil(t, in, keyC+8)

	// Paste in beta: beta's agent owns CLIPBOARD with the text.
	beta.focus(t, comp, "beta:ClipB")
	chord(in, keyV)
	expectNote(t, notes, "Pasted to beta; global clipboard wiped")
	if got := beta.readClipboard(t, text); got != text {
		t.Fatalf("beta's CLIPBOARD is %q, want %q", got, text)
	}
	for _, f := range []string{clipboard.DataFile, clipboard.SourceFile} {
		if b, err := os.ReadFile(filepath.Join(clipDir, f)); err != nil || len(b) != 0 {
			t.Errorf("after the paste %s holds %q (%v), want it empty", f, b, err)
		}
	}
	beta.keysUntil(t, in, keyV+8)

	// A denied paste: the buffer stays, beta keeps what it had.
	if err := os.WriteFile(filepath.Join(policyDir, "30-user.policy"), []byte("qubes.ClipboardPaste * alpha beta deny\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const second = "second secret"
	alpha.own(second)
	alpha.focus(t, comp, "alpha:ClipA")
	chord(in, keyC)
	waitGlobal(t, clipDir, "alpha", second)
	expectNote(t, notes, clipboard.CopiedText("alpha", len(second)))
	beta.focus(t, comp, "beta:ClipB")
	chord(in, keyV)
	expectNote(t, notes, "Pasting from alpha to beta is denied by policies")
	waitGlobal(t, clipDir, "alpha", second)
	beta.keysUntil(t, in, keyV+8) // what a paste sends arrives before this key
	if got := beta.readClipboard(t, text); got != text {
		t.Fatalf("after a denied paste beta's CLIPBOARD is %q, want still %q", got, text)
	}
}

// runProc starts a helper process with the region as fd 3 and stops it
// when the test ends, logging its output; env nil is the test's own.
func runProc(t *testing.T, what string, region *transport.Region, env []string, name string, args ...string) *testenv.LogBuffer {
	cmd := exec.Command(name, args...)
	cmd.ExtraFiles = []*os.File{region.File()}
	cmd.Env = env
	logs := &testenv.LogBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
		t.Logf("%s output:\n%s", what, logs.String())
	})
	return logs
}

// chord presses Ctrl+Shift+key and lets everything go again; sway's
// virtual keyboard leaves the modifier state to its client.
func chord(in *testenv.VInput, key uint32) {
	in.Key(keyLeftCtrl, true)
	in.Key(keyLeftShift, true)
	in.Modifiers(modsCtrlShift)
	in.Key(key, true)
	in.Key(key, false)
	in.Key(keyLeftShift, false)
	in.Key(keyLeftCtrl, false)
	in.Modifiers(0)
	in.Sync()
}

// waitGlobal waits until the global clipboard holds data from source.
func waitGlobal(t *testing.T, dir, source, data string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		src, _ := os.ReadFile(filepath.Join(dir, clipboard.SourceFile))
		got, _ := os.ReadFile(filepath.Join(dir, clipboard.DataFile))
		if string(src) == source && string(got) == data {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the global clipboard holds %q from %q, want %q from %q", got, src, data, source)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func expectNote(t *testing.T, notes *notifytest.Server, body string) {
	t.Helper()
	select {
	case n := <-notes.C:
		if n.App != "qube-guid" || n.Summary != clipboard.Summary || n.Body != body {
			t.Fatalf("notification %+v, want %q", n, body)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("no notification %q", body)
	}
}

// xClient is an X client of a qube: one window that records its key
// events, owns CLIPBOARD on demand and reads it.
type xClient struct {
	c     *xgb.Conn
	win   xproto.Window
	atoms map[string]xproto.Atom
	keys  chan xgb.Event // KeyPress, KeyRelease
	sel   chan xproto.SelectionNotifyEvent
	owned chan string // the text to serve, replaced by own
}

func newXClient(t *testing.T, display, class string) *xClient {
	c, err := xgb.NewConnDisplay(display)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	x := &xClient{c: c, atoms: map[string]xproto.Atom{}, keys: make(chan xgb.Event, 256),
		sel: make(chan xproto.SelectionNotifyEvent, 4), owned: make(chan string, 1)}
	for _, name := range []string{"CLIPBOARD", "TARGETS", "UTF8_STRING", "QUBE_TEST_SEL"} {
		r, err := xproto.InternAtom(c, false, uint16(len(name)), name).Reply()
		if err != nil {
			t.Fatal(err)
		}
		x.atoms[name] = r.Atom
	}
	scr := xproto.Setup(c).DefaultScreen(c)
	x.win, _ = xproto.NewWindowId(c)
	xproto.CreateWindow(c, scr.RootDepth, x.win, scr.Root, 0, 0, 200, 150, 0, xproto.WindowClassInputOutput,
		scr.RootVisual, xproto.CwBackPixel|xproto.CwEventMask, []uint32{0x3366aa,
			xproto.EventMaskKeyPress | xproto.EventMaskKeyRelease})
	wmClass := class + "\x00" + class + "\x00"
	xproto.ChangeProperty(c, xproto.PropModeReplace, x.win, xproto.AtomWmClass, xproto.AtomString, 8, uint32(len(wmClass)), []byte(wmClass))
	xproto.ChangeProperty(c, xproto.PropModeReplace, x.win, xproto.AtomWmName, xproto.AtomString, 8, uint32(len(class)), []byte(class))
	xproto.MapWindow(c, x.win)
	x.owned <- ""
	go x.events()
	return x
}

func (x *xClient) events() {
	for {
		ev, err := x.c.WaitForEvent()
		if ev == nil && err == nil {
			return // closed
		}
		switch e := ev.(type) {
		case xproto.KeyPressEvent, xproto.KeyReleaseEvent:
			select {
			case x.keys <- e:
			default:
			}
		case xproto.SelectionRequestEvent:
			x.serve(e)
		case xproto.SelectionNotifyEvent:
			x.sel <- e
		}
	}
}

// own makes the client the CLIPBOARD owner with text.
func (x *xClient) own(text string) {
	<-x.owned
	x.owned <- text
	xproto.SetSelectionOwner(x.c, x.win, x.atoms["CLIPBOARD"], xproto.TimeCurrentTime)
	_, _ = xproto.GetInputFocus(x.c).Reply()
}

// serve answers a conversion of CLIPBOARD: TARGETS, UTF8_STRING or STRING.
func (x *xClient) serve(e xproto.SelectionRequestEvent) {
	text := <-x.owned
	x.owned <- text
	prop := e.Property
	if prop == xproto.AtomNone {
		prop = e.Target
	}
	switch e.Target {
	case x.atoms["TARGETS"]:
		b := make([]byte, 12)
		for i, a := range []xproto.Atom{x.atoms["TARGETS"], x.atoms["UTF8_STRING"], xproto.AtomString} {
			binary.LittleEndian.PutUint32(b[4*i:], uint32(a))
		}
		xproto.ChangeProperty(x.c, xproto.PropModeReplace, e.Requestor, prop, xproto.AtomAtom, 32, 3, b)
	case x.atoms["UTF8_STRING"], xproto.AtomString:
		xproto.ChangeProperty(x.c, xproto.PropModeReplace, e.Requestor, prop, e.Target, 8, uint32(len(text)), []byte(text))
	default:
		prop = xproto.AtomNone
	}
	ev := xproto.SelectionNotifyEvent{Time: e.Time, Requestor: e.Requestor, Selection: e.Selection, Target: e.Target, Property: prop}
	xproto.SendEvent(x.c, false, e.Requestor, xproto.EventMaskNoEvent, string(ev.Bytes()))
}

// readClipboard converts CLIPBOARD to UTF8_STRING until it reads want or
// 15 s have passed, and returns the last text read.
func (x *xClient) readClipboard(t *testing.T, want string) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var got string
	for time.Now().Before(deadline) {
		xproto.ConvertSelection(x.c, x.win, x.atoms["CLIPBOARD"], x.atoms["UTF8_STRING"], x.atoms["QUBE_TEST_SEL"], xproto.TimeCurrentTime)
		select {
		case e := <-x.sel:
			if e.Property != xproto.AtomNone {
				r, err := xproto.GetProperty(x.c, true, x.win, e.Property, xproto.AtomAny, 0, 1<<20).Reply()
				if err != nil {
					t.Fatal(err)
				}
				got = string(r.Value)
			}
		case <-time.After(2 * time.Second):
		}
		if got == want {
			return got
		}
		time.Sleep(50 * time.Millisecond)
	}
	return got
}

// waitSwayView waits until sway shows a view of appID.
func waitSwayView(t *testing.T, comp *testenv.Compositor, appID string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, ok := comp.SwayTitles(t)[appID]; ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no sway view %s: %q", appID, comp.SwayTitles(t))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// focus gives the client's window the keyboard focus in sway and waits
// until the agent gave it the X input focus.
func (x *xClient) focus(t *testing.T, comp *testenv.Compositor, appID string) {
	t.Helper()
	waitSwayView(t, comp, appID)
	deadline := time.Now().Add(20 * time.Second)
	comp.SwayMsg(t, `[app_id="`+appID+`"] focus`)
	for {
		r, err := xproto.GetInputFocus(x.c).Reply()
		if err != nil {
			t.Fatal(err)
		}
		if r.Focus == x.win {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never got the X input focus (it is on %#x; sway views %q)", appID, r.Focus, comp.SwayTitles(t))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// keysUntil types X, waits for the client to see it, and fails if a key
// event of keycode came first: everything typed before X has arrived by
// then, so a hotkey key would have too. The hotkey's modifiers must have
// arrived.
func (x *xClient) keysUntil(t *testing.T, in *testenv.VInput, keycode uint32) {
	t.Helper()
	in.Tap(keyX)
	var seen []string
	timeout := time.After(15 * time.Second)
	for {
		select {
		case ev := <-x.keys:
			var code xproto.Keycode
			switch e := ev.(type) {
			case xproto.KeyPressEvent:
				code = e.Detail
				seen = append(seen, "+"+strconv.Itoa(int(code)))
			case xproto.KeyReleaseEvent:
				code = e.Detail
				seen = append(seen, "-"+strconv.Itoa(int(code)))
			}
			if uint32(code) == keycode {
				t.Fatalf("the qube saw the hotkey's keycode %d: key events %q", keycode, seen)
			}
			if _, ok := ev.(xproto.KeyReleaseEvent); ok && code == keyX+8 {
				// The chord was typed into this qube: it saw the modifiers.
				if !slices.Contains(seen, "+37") || !slices.Contains(seen, "+50") {
					t.Fatalf("the qube did not see the hotkey's Ctrl and Shift (X keycodes 37, 50): %q", seen)
				}
				return
			}
		case <-timeout:
			t.Fatalf("the qube never saw X typed (key events %q)", seen)
		}
	}
}
