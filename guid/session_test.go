package guid

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"strings"
	"testing"

	"github.com/qube-desktop/qube-desktop/internal/guiproto"
)

// recDisplay is a Display that records what the session asks of the
// compositor; released callbacks are held until the test releases them.
type recDisplay struct {
	outW, outH int
	views      []*recView
	calls      []string
}

type recView struct {
	d         *recDisplay
	spec      ViewSpec
	title     string
	w, h      int
	destroyed bool
	pending   []func()
	dumps     []guiproto.WindowDump
}

func (d *recDisplay) OutputSize() (int, int) { return d.outW, d.outH }

func (d *recDisplay) NewView(s ViewSpec) (View, error) {
	v := &recView{d: d, spec: s, title: s.Title, w: s.Width, h: s.Height}
	d.views = append(d.views, v)
	kind := "toplevel"
	if s.Parent != nil {
		kind = fmt.Sprintf("popup of %#x at %d,%d", s.Parent.(*recView).spec.ID, s.X, s.Y)
	}
	d.call("new %#x %s %dx%d %q %q", s.ID, kind, s.Width, s.Height, s.Title, s.AppID)
	return v, nil
}

func (d *recDisplay) call(format string, args ...any) {
	d.calls = append(d.calls, fmt.Sprintf(format, args...))
}

func (v *recView) check() {
	if v.destroyed {
		panic("call on a destroyed view")
	}
}
func (v *recView) SetTitle(t string) error { v.check(); v.title = t; return nil }
func (v *recView) SetBuffer(d guiproto.WindowDump, released func()) error {
	v.check()
	v.dumps = append(v.dumps, d)
	v.pending = append(v.pending, released)
	v.d.call("buffer %#x %dx%d@%#x", v.spec.ID, d.Width, d.Height, d.Region.Offset)
	return nil
}
func (v *recView) Damage(x, y, w, h int) error {
	v.check()
	v.d.call("damage %#x %d,%d %dx%d", v.spec.ID, x, y, w, h)
	return nil
}
func (v *recView) Resize(w, h int) error {
	v.check()
	v.w, v.h = w, h
	v.d.call("resize %#x %dx%d", v.spec.ID, w, h)
	return nil
}
func (v *recView) SetFullscreen(on, real bool) error {
	v.check()
	v.d.call("fullscreen %#x on=%v real=%v", v.spec.ID, on, real)
	return nil
}
func (v *recView) Minimize() error                         { v.check(); return nil }
func (v *recView) SetSizeHints(guiproto.WindowHints) error { v.check(); return nil }
func (v *recView) Destroy() {
	v.check()
	v.destroyed = true
	v.d.call("destroy %#x", v.spec.ID)
}

// release lets the compositor drop every buffer the view replaced.
func (v *recView) release() {
	p := v.pending
	v.pending = nil
	for _, f := range p {
		f()
	}
}

type sent struct {
	window uint32
	m      guiproto.Message
}

type harness struct {
	t    testing.TB
	d    *recDisplay
	s    *Session
	sent []sent
	logs bytes.Buffer
}

const regionSize = 8 << 20

func newHarness(t testing.TB, cfg Config) *harness {
	h := &harness{t: t, d: &recDisplay{outW: 1000, outH: 800}}
	h.s = NewSession(cfg, guiproto.ProtocolVersion, regionSize, h.d,
		func(w uint32, m guiproto.Message) { h.sent = append(h.sent, sent{w, m}) }, log.New(&h.logs, "", 0))
	return h
}

// wire encodes messages as an agent sends them.
func wire(t testing.TB, msgs ...any) []byte {
	var b bytes.Buffer
	for i := 0; i < len(msgs); i += 2 {
		if err := guiproto.WriteMessage(&b, msgs[i].(uint32), msgs[i+1].(guiproto.Message)); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

// feed decodes and handles raw agent bytes; it returns the first error.
func (h *harness) feed(raw []byte) error {
	r := bytes.NewReader(raw)
	for {
		u, hdr, err := guiproto.ReadUntrusted(r, guiproto.ProtocolVersion)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := h.s.Handle(u, hdr); err != nil {
			return err
		}
	}
}

func (h *harness) send(msgs ...any) {
	h.t.Helper()
	if err := h.feed(wire(h.t, msgs...)); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) takeSent() []sent {
	s := h.sent
	h.sent = nil
	return s
}

func regionDump(w, h uint32, off uint64) guiproto.WindowDump {
	return guiproto.WindowDump{Kind: guiproto.DumpRegion, Width: w, Height: h, BPP: 24,
		Region: guiproto.RegionBuffer{Offset: off, Stride: 4 * w}}
}

const win = uint32(0x400001)

// mapWindow sends what the agent sends for a new window (spec §1.4).
func (h *harness) mapWindow(id uint32, x, y int32, w, ht uint32, or bool, transientFor uint32) {
	h.send(id, guiproto.Create{X: x, Y: y, Width: w, Height: ht, OverrideRedirect: or},
		id, guiproto.Configure{X: x, Y: y, Width: w, Height: ht},
		id, regionDump(w, ht, 0),
		id, guiproto.WMClass{Class: "XTerm", Name: "xterm"},
		id, guiproto.MapInfo{TransientFor: transientFor, OverrideRedirect: or},
		id, guiproto.WMName{Title: "bash"})
}

func TestWindowLifecycle(t *testing.T) {
	h := newHarness(t, Config{Qube: "work"})
	h.mapWindow(win, 10, 20, 300, 200, false, 0)
	if len(h.d.views) != 1 {
		t.Fatalf("%d views, want 1", len(h.d.views))
	}
	v := h.d.views[0]
	if v.spec.AppID != "work:XTerm" || v.title != "[work] bash" || v.spec.Parent != nil {
		t.Errorf("view app_id %q title %q parent %v", v.spec.AppID, v.title, v.spec.Parent)
	}
	if len(v.dumps) != 1 || v.dumps[0].Width != 300 {
		t.Fatalf("dumps shown: %+v", v.dumps)
	}
	// The dump arrived before MAP: acked at once.
	if got := h.takeSent(); len(got) != 1 || got[0].m != (guiproto.WindowDumpAck{}) || got[0].window != win {
		t.Fatalf("sent %+v, want one WINDOW_DUMP_ACK", got)
	}

	// Damage is clipped to min(image, window).
	h.send(win, guiproto.ShmImage{X: 250, Y: 150, Width: 100, Height: 100},
		win, guiproto.ShmImage{X: 400, Y: 0, Width: 10, Height: 10})
	if last := h.d.calls[len(h.d.calls)-1]; last != "damage 0x400001 250,150 50x50" {
		t.Errorf("last call %q, want the clipped damage (and none for the rectangle outside)", last)
	}

	// A new dump is acked only once the compositor released the old buffer.
	h.send(win, regionDump(300, 200, 0x80000))
	if got := h.takeSent(); len(got) != 0 {
		t.Fatalf("sent %+v before the old buffer was released", got)
	}
	v.release()
	if got := h.takeSent(); len(got) != 1 || got[0].m != (guiproto.WindowDumpAck{}) {
		t.Fatalf("sent %+v after release, want WINDOW_DUMP_ACK", got)
	}

	h.send(win, guiproto.Destroy{})
	if !v.destroyed || h.s.Windows() != 0 {
		t.Error("DESTROY left the view or the table entry")
	}
	if got := h.takeSent(); len(got) != 1 || got[0].m != (guiproto.Destroy{}) || got[0].window != win {
		t.Fatalf("sent %+v, want the DESTROY ack", got)
	}
	// The ID may be reused after the ack.
	h.send(win, guiproto.Create{Width: 10, Height: 10})
}

func TestWindowTableRules(t *testing.T) {
	for _, tc := range []struct {
		name string
		msgs []any
		rule string
	}{
		{"unknown window", []any{uint32(7), guiproto.MapInfo{}}, "unknown window ID"},
		{"unknown window shm", []any{uint32(7), guiproto.ShmImage{Width: 1, Height: 1}}, "unknown window ID"},
		{"duplicate create", []any{win, guiproto.Create{Width: 1, Height: 1}, win, guiproto.Create{Width: 1, Height: 1}}, "already exists"},
		{"destroyed window", []any{win, guiproto.Create{Width: 1, Height: 1}, win, guiproto.Destroy{}, win, guiproto.Unmap{}}, "unknown window ID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{Qube: "work"})
			err := h.feed(wire(t, tc.msgs...))
			if !Fatal(err) || !strings.Contains(err.Error(), tc.rule) {
				t.Fatalf("error %v, want fatal %q", err, tc.rule)
			}
		})
	}
	// CLIPBOARD_DATA is exempt from the window lookup.
	h := newHarness(t, Config{Qube: "work"})
	h.send(uint32(0xdead), guiproto.ClipboardData{Data: []byte("hi")})
	if !strings.Contains(h.logs.String(), "unrequested clipboard") {
		t.Errorf("log %q", h.logs.String())
	}
}

// rawDump builds a region dump with arbitrary (hostile) fields.
func rawDump(window, w, h uint32, off uint64, stride, reserved uint32) []byte {
	le := func(b []byte, v ...uint32) []byte {
		for _, x := range v {
			b = append(b, byte(x), byte(x>>8), byte(x>>16), byte(x>>24))
		}
		return b
	}
	b := le(nil, uint32(guiproto.MsgWindowDump), window, 32, uint32(guiproto.DumpRegion), w, h, 24)
	b = le(b, uint32(off), uint32(off>>32), stride, reserved)
	return b
}

func TestHostileDumps(t *testing.T) {
	create := wire(t, win, guiproto.Create{Width: 100, Height: 100})
	for _, tc := range []struct {
		name string
		raw  []byte
	}{
		{"misaligned", rawDump(win, 100, 100, 100, 400, 0)},
		{"outside the region", rawDump(win, 100, 100, regionSize, 400, 0)},
		{"overflowing end", rawDump(win, 1024, 1024, 0xfffffffffffff000, 4096, 0)},
		{"larger than the region", rawDump(win, 2048, 1024, 4096, 8192, 0)},
		{"oversized", rawDump(win, 20000, 10, 0, 80000, 0)},
		{"wrong stride", rawDump(win, 100, 100, 0, 404, 0)},
		{"reserved set", rawDump(win, 100, 100, 0, 400, 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{Qube: "work"})
			err := h.feed(append(append([]byte{}, create...), tc.raw...))
			if !Fatal(err) {
				t.Fatalf("error %v, want fatal", err)
			}
			t.Log(err)
		})
	}
}

func TestTitlesSanitized(t *testing.T) {
	for _, tc := range []struct {
		utf8  bool
		title string
		want  string
	}{
		{false, "bash\x1b[2J\x07", "[work] bash_[2J_"},
		{false, "evil\u202etxt.exe", "[work] evil___txt.exe"},
		{true, "evil\u202etxt.exe", "[work] evil_txt.exe"},
		{true, "caf\u00e9 \u2066x\u2069", "[work] caf\u00e9 _x_"},
	} {
		h := newHarness(t, Config{Qube: "work", AllowUTF8Titles: tc.utf8})
		h.mapWindow(win, 0, 0, 10, 10, false, 0)
		h.send(win, guiproto.WMName{Title: tc.title})
		if got := h.d.views[0].title; got != tc.want {
			t.Errorf("utf8=%v title %q shown as %q, want %q", tc.utf8, tc.title, got, tc.want)
		}
	}
}

func TestOverrideRedirect(t *testing.T) {
	h := newHarness(t, Config{Qube: "work"})
	h.mapWindow(win, 100, 100, 400, 300, false, 0)
	// A menu of the window: a popup at its position relative to the parent.
	h.mapWindow(win+1, 150, 130, 80, 60, true, win)
	if p := h.d.views[1].spec; p.Parent != h.d.views[0] || p.X != 50 || p.Y != 30 {
		t.Errorf("menu spec %+v, want a popup of the first window at 50,30", p)
	}
	// The menu moves with the agent's configure.
	h.send(win+1, guiproto.Configure{X: 170, Y: 140, Width: 80, Height: 60})
	if v := h.d.views[len(h.d.views)-1]; !h.d.views[1].destroyed || v.spec.Parent != h.d.views[0] || v.spec.X != 70 || v.spec.Y != 40 {
		t.Errorf("moved menu: old view destroyed %v, new spec %+v", h.d.views[1].destroyed, v.spec)
	}
	h.d.views = append(h.d.views[:1], h.d.views[2:]...) // the indices below count the others
	// Covering more than 90 % of the output: a framed toplevel.
	h.mapWindow(win+2, 0, 0, 1000, 800, true, win)
	if h.d.views[2].spec.Parent != nil {
		t.Error("a popup covering the output stayed a popup")
	}
	if !strings.Contains(h.logs.String(), "90%") {
		t.Errorf("no warning logged: %q", h.logs.String())
	}
	// No transient_for and no focused window: a toplevel.
	h.mapWindow(win+3, 0, 0, 50, 50, true, 0)
	if h.d.views[3].spec.Parent != nil {
		t.Error("a parentless popup did not become a toplevel")
	}
	// With keyboard focus on the first window, it becomes the parent.
	h.s.Input(win, guiproto.Focus{Event: guiproto.FocusIn})
	h.mapWindow(win+4, 0, 0, 50, 50, true, 0)
	if h.d.views[4].spec.Parent != h.d.views[0] {
		t.Error("a parentless popup did not hang on the focused window")
	}
	// Unmapping the parent destroys its popups first.
	h.d.calls = nil
	h.send(win, guiproto.Unmap{})
	if n := len(h.d.calls); n < 3 || h.d.calls[n-1] != "destroy 0x400001" {
		t.Errorf("calls %q: the parent must be destroyed after its popups", h.d.calls)
	}
	if !h.d.views[1].destroyed || !h.d.views[4].destroyed {
		t.Error("popups survived their parent")
	}
}

func TestConfigureLoop(t *testing.T) {
	h := newHarness(t, Config{Qube: "work"})
	h.mapWindow(win, 10, 20, 300, 200, false, 0)
	h.takeSent()
	v := h.d.views[0]
	h.s.Configured(win, 640, 480)
	want := guiproto.Configure{X: 10, Y: 20, Width: 640, Height: 480}
	if got := h.takeSent(); len(got) != 1 || got[0].m != want {
		t.Fatalf("sent %+v, want %+v", got, want)
	}
	// A second resize while the first is queued is not sent yet.
	h.s.Configured(win, 800, 600)
	if got := h.takeSent(); len(got) != 0 {
		t.Fatalf("sent %+v while a configure is queued", got)
	}
	// The agent's stale ack makes the daemon repeat its latest values.
	h.send(win, guiproto.Configure{X: 10, Y: 20, Width: 640, Height: 480})
	want = guiproto.Configure{X: 10, Y: 20, Width: 800, Height: 600}
	if got := h.takeSent(); len(got) != 1 || got[0].m != want {
		t.Fatalf("sent %+v, want %+v", got, want)
	}
	h.send(win, guiproto.Configure{X: 10, Y: 20, Width: 800, Height: 600})
	if got := h.takeSent(); len(got) != 0 {
		t.Fatalf("sent %+v after the ack", got)
	}
	// With nothing queued the agent resizes its window.
	h.send(win, guiproto.Configure{X: 10, Y: 20, Width: 500, Height: 400})
	if v.w != 500 || v.h != 400 {
		t.Errorf("view is %dx%d after the agent's configure", v.w, v.h)
	}
	// An empty size is suspicious and dropped.
	h.send(win, guiproto.Configure{Width: 0, Height: 5})
	if v.w != 500 || !strings.Contains(h.logs.String(), "suspicious") {
		t.Errorf("view %dx%d, log %q", v.w, v.h, h.logs.String())
	}
}

func TestFullscreenBecomesMaximize(t *testing.T) {
	h := newHarness(t, Config{Qube: "work"})
	h.mapWindow(win, 0, 0, 300, 200, false, 0)
	h.takeSent()
	h.send(win, guiproto.WindowFlags{Set: guiproto.FlagFullscreen})
	if last := h.d.calls[len(h.d.calls)-1]; last != "fullscreen 0x400001 on=true real=false" {
		t.Fatalf("last call %q", last)
	}
	// Once maximized, the agent hears "fullscreen" (apps wait for it).
	h.s.StateChanged(win, false, true)
	want := guiproto.WindowFlags{Set: guiproto.FlagFullscreen}
	if got := h.takeSent(); len(got) != 1 || got[0].m != want {
		t.Fatalf("sent %+v, want %+v", got, want)
	}
	h2 := newHarness(t, Config{Qube: "work", AllowFullscreen: true})
	h2.mapWindow(win, 0, 0, 300, 200, false, 0)
	h2.send(win, guiproto.WindowFlags{Set: guiproto.FlagFullscreen})
	if last := h2.d.calls[len(h2.d.calls)-1]; last != "fullscreen 0x400001 on=true real=true" {
		t.Fatalf("allowed: last call %q", last)
	}
}

func TestInputAndClose(t *testing.T) {
	h := newHarness(t, Config{Qube: "work"})
	h.mapWindow(win, 0, 0, 300, 200, false, 0)
	h.takeSent()
	h.s.Input(win, guiproto.KeymapNotify{})
	h.s.Input(win, guiproto.Keypress{Event: guiproto.KeyPress, Keycode: 38})
	h.s.Input(0x999, guiproto.Keypress{Event: guiproto.KeyPress, Keycode: 38}) // no such window
	h.s.Closed(win)
	got := h.takeSent()
	if len(got) != 3 || got[0].window != 0 || got[1].window != win || got[2].m != (guiproto.Close{}) {
		t.Fatalf("sent %+v", got)
	}
}

func TestEndDestroysEverything(t *testing.T) {
	h := newHarness(t, Config{Qube: "work"})
	h.mapWindow(win, 100, 100, 400, 300, false, 0)
	h.mapWindow(win+1, 150, 130, 80, 60, true, win)
	h.send(win, regionDump(400, 300, 0x40000)) // an ack still pending
	h.takeSent()
	h.s.End()
	for _, v := range h.d.views {
		if !v.destroyed {
			t.Errorf("view %#x survived the end of the session", v.spec.ID)
		}
	}
	h.d.views[0].release()
	h.s.Input(win, guiproto.Focus{Event: guiproto.FocusIn})
	if got := h.takeSent(); len(got) != 0 {
		t.Errorf("sent %+v after the end", got)
	}
}

func TestLogIsBounded(t *testing.T) {
	h := newHarness(t, Config{Qube: "work"})
	h.send(win, guiproto.Create{Width: 10, Height: 10})
	for range 1000 {
		h.send(win, guiproto.Cursor{ID: 7})
	}
	if n := strings.Count(h.logs.String(), "\n"); n != maxNotes+1 {
		t.Errorf("%d log lines for 1000 bad cursors, want %d", n, maxNotes+1)
	}
}
