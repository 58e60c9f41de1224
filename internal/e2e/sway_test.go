package e2e

import (
	"encoding/json"
	"fmt"
	"image"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/qube-desktop/qube-desktop/compositor/wayland"
	"github.com/qube-desktop/qube-desktop/compositor/wire"
	"github.com/qube-desktop/qube-desktop/internal/testenv"
)

// TestTitlesAndInputOnSway: titles reach sway's tree as "[qube] title",
// and a click and a key made on the host (wlroots virtual pointer and
// keyboard) reach the X client at the right place.
func TestTitlesAndInputOnSway(t *testing.T) {
	const outW, outH = 800, 600
	comp := testenv.StartSway(t, outW, outH)
	s := newStack(t, comp, outW, outH)
	s.startAgent()
	s.startGuid()
	c := s.startClient()
	c.do("window 1 0 0 300 200", "mapped 1")

	// sway tiles the window over the output; the daemon configures the X
	// window to the content size (the output less the 2-px frame) and the
	// client redraws its pattern at that size.
	const w, h = outW - 2*border, outH - 2*border
	deadline := time.Now().Add(20 * time.Second)
	for g := c.do("geom 1", "geom 1"); !strings.HasSuffix(g, fmt.Sprintf(" %d %d", w, h)); g = c.do("geom 1", "geom 1") {
		if time.Now().After(deadline) {
			t.Fatalf("the X window was not resized to sway's tile: %s", g)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var at image.Point
	img := waitFor(t, comp, "the tiled window", func(img image.Image) bool {
		var ok bool
		at, ok = locate(img, pat(1), w, h)
		return ok
	})
	savePNG(t, img, "tiled")
	if err := frameIs(img, at, w, h, border, border); err != nil {
		t.Error(err)
	}

	c.do("title 1 Hello e2e", "ok")
	waitView(t, comp, "work:E2EClient", "[work] Hello e2e")

	v := newVInput(t, comp, outW, outH)
	v.moveTo(at.X+10, at.Y+7)
	v.click(btnLeft)
	if got := c.expect("button", 10*time.Second); got != "button 1 1 10 7" {
		t.Errorf("X client got %q, want a button-1 press at 10,7", got)
	}
	v.key(keyA)
	// X keycodes are evdev codes + 8.
	if got := c.expect("key", 10*time.Second); !strings.HasPrefix(got, fmt.Sprintf("key 1 %d ", keyA+8)) {
		t.Errorf("X client got %q, want keycode %d", got, keyA+8)
	}

	// A real X application: xterm's title and class.
	testenv.NeedCommands(t, "xterm")
	xt := exec.Command("xterm", "-T", "e2e xterm", "-geometry", "40x10+0+0")
	xt.Env = s.x.Env()
	start(t, "xterm", xt)
	waitView(t, comp, "work:XTerm", "[work] e2e xterm")
}

// waitView waits until sway shows a view with this app_id and title.
func waitView(t *testing.T, comp *testenv.Compositor, appID, title string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		views := swayViews(t, comp)
		if views[appID] == title {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("sway has no view %s titled %q: %q", appID, title, views)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// swayViews maps app_id to title for every view in sway's tree.
func swayViews(t *testing.T, comp *testenv.Compositor) map[string]string {
	out := map[string]string{}
	collect([]byte(comp.SwayMsg(t, "-t", "get_tree", "-r")), out)
	return out
}

func collect(raw []byte, out map[string]string) {
	var n struct {
		Name          string            `json:"name"`
		AppID         *string           `json:"app_id"`
		Nodes         []json.RawMessage `json:"nodes"`
		FloatingNodes []json.RawMessage `json:"floating_nodes"`
	}
	if json.Unmarshal(raw, &n) != nil {
		return
	}
	if n.AppID != nil {
		out[*n.AppID] = n.Name
	}
	for _, c := range append(n.Nodes, n.FloatingNodes...) {
		collect(c, out)
	}
}

const (
	btnLeft = 0x110 // linux/input-event-codes.h
	keyA    = 30
)

// A keymap as setxkbmap -print gives it; libxkbcommon resolves the includes.
const usKeymap = `xkb_keymap {
	xkb_keycodes  { include "evdev+aliases(qwerty)" };
	xkb_types     { include "complete" };
	xkb_compat    { include "complete" };
	xkb_symbols   { include "pc+us+inet(evdev)" };
};
`

// vinput is a host-side input device: wlroots' virtual pointer and
// keyboard, encoded with wayland.Raw (Debian ships no XML for them).
type vinput struct {
	t          *testing.T
	c          *wayland.Client
	ptr, kbd   *wayland.Raw
	outW, outH int
}

func newVInput(t *testing.T, comp *testenv.Compositor, outW, outH int) *vinput {
	c, err := wayland.Connect(comp.SocketPath())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	v := &vinput{t: t, c: c, outW: outW, outH: outH}
	seat := new(wayland.WlSeat)
	v.must(c.Bind(seat, 1))
	vpm := &wayland.Raw{Name: "zwlr_virtual_pointer_manager_v1", Max: 1}
	if err := c.Bind(vpm, 1); err != nil {
		testenv.Missing(t, "sway without virtual pointer: %v", err)
	}
	v.ptr = &wayland.Raw{Name: "zwlr_virtual_pointer_v1", Max: 1}
	id, err := vpm.NewChild(v.ptr)
	v.must(err)
	v.must(vpm.Request(0, 1, false, func(b *wire.Builder) { b.Object(seat.ID()); b.Object(id) }))

	vkm := &wayland.Raw{Name: "zwp_virtual_keyboard_manager_v1", Max: 1}
	if err := c.Bind(vkm, 1); err != nil {
		testenv.Missing(t, "sway without virtual keyboard: %v", err)
	}
	v.kbd = &wayland.Raw{Name: "zwp_virtual_keyboard_v1", Max: 1}
	id, err = vkm.NewChild(v.kbd)
	v.must(err)
	v.must(vkm.Request(0, 1, false, func(b *wire.Builder) { b.Object(seat.ID()); b.Object(id) }))
	km, err := wayland.NewMemfd("keymap", len(usKeymap)+1)
	v.must(err)
	defer km.Close()
	copy(km.Data, usKeymap)
	v.must(v.kbd.Request(0, 1, false, func(b *wire.Builder) {
		b.Uint(uint32(wayland.WlKeyboardKeymapFormatXkbV1))
		b.FD(int(km.File.Fd()))
		b.Uint(uint32(len(usKeymap) + 1))
	}))
	v.must(c.Roundtrip())
	return v
}

func (v *vinput) must(err error) {
	v.t.Helper()
	if err != nil {
		v.t.Fatal(err)
	}
}

func ms() uint32 { return uint32(time.Now().UnixMilli()) }

// moveTo puts the pointer at output coordinates x, y.
func (v *vinput) moveTo(x, y int) {
	v.must(v.ptr.Request(1, 1, false, func(b *wire.Builder) { // motion_absolute
		b.Uint(ms())
		b.Uint(uint32(x))
		b.Uint(uint32(y))
		b.Uint(uint32(v.outW))
		b.Uint(uint32(v.outH))
	}))
	v.frame()
}

// click presses and releases an evdev button.
func (v *vinput) click(button uint32) {
	for _, state := range []uint32{1, 0} {
		v.must(v.ptr.Request(2, 1, false, func(b *wire.Builder) { b.Uint(ms()); b.Uint(button); b.Uint(state) }))
		v.frame()
	}
}

// key presses and releases an evdev key.
func (v *vinput) key(evdev uint32) {
	for _, state := range []uint32{1, 0} {
		v.must(v.kbd.Request(1, 1, false, func(b *wire.Builder) { b.Uint(ms()); b.Uint(evdev); b.Uint(state) }))
	}
	v.must(v.c.Roundtrip())
}

func (v *vinput) frame() {
	v.must(v.ptr.Request(4, 1, false, func(*wire.Builder) {}))
	v.must(v.c.Roundtrip())
}
