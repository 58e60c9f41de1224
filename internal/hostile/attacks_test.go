package hostile_test

import (
	"bytes"
	"fmt"
	"image/color"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/qube-desktop/qube-desktop/internal/guiproto"
	"github.com/qube-desktop/qube-desktop/internal/testenv"
)

// outcome is what the daemon must do about an attack.
type outcome string

const (
	// disconnect: the session ends, every window of the qube is destroyed,
	// and the daemon waits for the agent to connect again.
	disconnect outcome = "disconnect"
	// drop: the message is dropped, the session goes on.
	drop outcome = "drop"
	// clamp: the values are clamped or sanitized, the session goes on.
	clamp outcome = "clamp"
	// confine: the request is honoured only inside the trusted limits
	// (label frame, "[qube]" title, no real fullscreen, one window per ID).
	confine outcome = "confine"
	// bound: a flood is absorbed with bounded memory, the session goes on.
	bound outcome = "bound"
)

// attack is one row of the suite: docs/security.md lists the same rows.
type attack struct {
	name    string
	rule    string // the spec §3.2 row or issue 8 item it breaks
	outcome outcome
	expect  string // what the daemon must do, in words
	run     func(e *env)
}

// handshakeRule marks the attacks on the version handshake: the suite
// accepts their connection without a handshake (acceptRaw).
const handshakeRule = "§1 version handshake"

// Window IDs of the attacks.
const (
	w1 = uint32(0x100 + iota)
	w2
	w3
	w4
	w5
)

// env is what an attack works with: the hostile agent and the compositor.
type env struct {
	t    *testing.T
	a    *agent
	comp *testenv.Compositor
}

// std shows a 160×96 magenta window, floating in the middle of the output.
func (e *env) std(id uint32, title string) {
	e.a.window(id, win{w: 160, h: 96, title: title, class: "XTerm", fill: magenta})
}

// titled waits until sway shows one view of work with exactly title.
func (e *env) titled(title string) {
	e.t.Helper()
	waitViews(e.t, e.comp, "work", "the title "+title, func(vs []testenv.SwayView) bool { return len(vs) == 1 && vs[0].Title == title })
}

// shown waits until sway shows n views of work.
func (e *env) shown(n int) []testenv.SwayView {
	e.t.Helper()
	return waitViews(e.t, e.comp, "work", "the qube's windows", func(vs []testenv.SwayView) bool { return len(vs) == n })
}

// stays asserts that, once the daemon has handled everything sent so
// far, sway shows n views of work.
func (e *env) stays(n int) {
	e.t.Helper()
	if err := e.a.ping(); err != nil {
		e.t.Fatal(err)
	}
	e.shown(n)
}

// dumpBody is a MSG_WINDOW_DUMP with any dump header and body.
func dumpBody(window, kind, w, h uint32, body []byte) []byte {
	return msg(guiproto.MsgWindowDump, window, append(u32s(kind, w, h, 24), body...))
}

// flood sends n copies of one message in a burst.
func (e *env) flood(what string, m []byte, n int) { e.burst(what, bytes.Repeat(m, n), n) }

// burst sends a stream of n messages in writes of 64 KiB, waits until
// the daemon has handled them all, and logs the rate.
func (e *env) burst(what string, stream []byte, n int) {
	start := time.Now()
	for len(stream) > 0 {
		k := min(len(stream), 64<<10)
		e.a.raw(stream[:k])
		stream = stream[k:]
	}
	if err := e.a.ping(); err != nil {
		e.t.Fatal(err)
	}
	d := time.Since(start)
	e.t.Logf("%d %s handled in %v (%.0f per second)", n, what, d.Round(time.Millisecond), float64(n)/d.Seconds())
}

// framedArea waits for a w×h area of colour c and checks its label frame.
func (e *env) framedArea(c color.RGBA, w, h int) {
	e.t.Helper()
	img, r := waitArea(e.t, e.comp, c, w*h)
	if r.Dx() != w || r.Dy() != h {
		e.t.Fatalf("content of %v is %v, want %dx%d", c, r, w, h)
	}
	framed(e.t, img, r, 2, blue)
}

// gone waits until no pixel of colour c is on screen.
func (e *env) gone(c color.RGBA) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, n := area(e.comp.Screenshot(e.t), c)
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%d pixels of %v still on screen", n, c)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkTitle asserts a title as sway shows it is the daemon's prefix and
// then printable, bidi-free, valid UTF-8.
func checkTitle(t *testing.T, title string) {
	t.Helper()
	if !strings.HasPrefix(title, "[work] ") {
		t.Fatalf("title %q does not start with [work]", title)
	}
	if !utf8.ValidString(title) {
		t.Fatalf("title %q is not valid UTF-8", title)
	}
	for _, r := range title {
		if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 ||
			r == 0x200e || r == 0x200f || r == 0x061c {
			t.Fatalf("title %q contains %U", title, r)
		}
	}
}

// handshakeAttack is an agent that offers protocol version v.
func handshakeAttack(name, expect string, v uint32) attack {
	return attack{name: name, rule: handshakeRule, outcome: disconnect, expect: expect,
		run: func(e *env) { e.a.raw(u32s(v)) }}
}

var attacks = []attack{
	// Spec §3.2: any message.
	{"unknown-type", "§3.2 any: type known", disconnect, "a header type outside 124..149 ends the session",
		func(e *env) { e.a.raw(hdr(200, w1, 0)) }},
	{"daemon-only-type", "§3.2 any: type valid A→D", disconnect, "MSG_KEYPRESS, a daemon-to-agent type, ends the session",
		func(e *env) { e.a.raw(msg(guiproto.MsgKeypress, w1, make([]byte, 20))) }},
	{"obsolete-type", "§3.2 any: type valid A→D", disconnect, "the obsolete MSG_EXECUTE ends the session",
		func(e *env) { e.a.raw(msg(guiproto.MsgExecute, w1, make([]byte, 255))) }},
	{"unknown-window", "§3.2 any: window exists", disconnect, "MSG_MAP for a window never created ends the session",
		func(e *env) { e.a.send(0x999, guiproto.MapInfo{}) }},
	{"create-existing", "§3.2 CREATE: window must not exist", disconnect, "a second CREATE of a mapped window ends the session and removes the window",
		func(e *env) {
			e.std(w1, "term")
			e.shown(1)
			e.a.send(w1, guiproto.Create{Width: 10, Height: 10})
		}},
	{"length-short", "§3.2 fixed-size: untrusted_len exact", disconnect, "MSG_MAP with a 4-byte body ends the session",
		func(e *env) {
			e.a.send(w1, guiproto.Create{Width: 10, Height: 10})
			e.a.raw(msg(guiproto.MsgMap, w1, make([]byte, 4)))
		}},
	{"length-long", "§3.2 fixed-size: untrusted_len exact", disconnect, "MSG_CONFIGURE with a 24-byte body ends the session",
		func(e *env) {
			e.a.send(w1, guiproto.Create{Width: 10, Height: 10})
			e.a.raw(msg(guiproto.MsgConfigure, w1, make([]byte, 24)))
		}},
	{"length-4gib", "§3.2 fixed-size: untrusted_len exact", disconnect, "MSG_DESTROY claiming a 4 GiB body ends the session before any allocation",
		func(e *env) {
			e.a.send(w1, guiproto.Create{Width: 10, Height: 10})
			e.a.raw(hdr(guiproto.MsgDestroy, w1, 0xffffffff))
		}},

	// Spec §3.2: CREATE and CONFIGURE.
	{"create-negative-size", "§3.2 CREATE: width, height < 2³¹", drop, "the CREATE is dropped: the same ID can then be created",
		func(e *env) {
			e.a.raw(msg(guiproto.MsgCreate, w1, u32s(0, 0, 0x80000000, 0xffffffff, 0, 0)))
			e.std(w1, "term")
			e.shown(1)
		}},
	{"create-oversize", "§3.2 CREATE: size and position clamped", clamp, "a 100000×100000 window at −10⁹ is clamped to 16384×6144 inside ±max and shown",
		func(e *env) {
			e.a.raw(msg(guiproto.MsgCreate, w1, u32s(uint32(0xc4653600), uint32(0xc4653600), 100000, 100000, 0, 0)))
			e.a.send(w1, guiproto.MapInfo{}, guiproto.WMName{Title: "huge"})
			e.titled("[work] huge")
		}},
	{"configure-empty", "§3.2 CONFIGURE: width, height > 0", drop, "a 0×0 CONFIGURE is dropped; the window stays",
		func(e *env) {
			e.std(w1, "term")
			e.a.raw(msg(guiproto.MsgConfigure, w1, u32s(0, 0, 0, 0, 0)))
			e.stays(1)
		}},
	{"configure-oversize", "§3.2 CONFIGURE: size and position clamped", clamp, "a 10⁶×10⁶ CONFIGURE at −10⁹ is clamped; the window stays",
		func(e *env) {
			e.std(w1, "term")
			e.shown(1)
			e.a.raw(msg(guiproto.MsgConfigure, w1, u32s(uint32(0xc4653600), uint32(0xc4653600), 1000000, 1000000, 1)))
			e.stays(1)
		}},
	{"configure-docked", "§3.2 CONFIGURE, docked window", drop, "a docked window ignores CONFIGURE and is never shown",
		func(e *env) {
			e.a.send(w1, guiproto.Create{Width: 22, Height: 22}, guiproto.Dock{},
				guiproto.Configure{X: 5, Y: 5, Width: 500, Height: 500}, guiproto.MapInfo{})
			e.stays(0)
		}},
	{"configure-flood", "§3.2 CONFIGURE, issue 8: message floods", bound, "1000 resizes in a burst: frame repaints are coalesced (the sizes in between are never painted), the window stays, and its frame is intact at the size that follows",
		func(e *env) {
			e.std(w1, "term")
			e.shown(1)
			var b []byte
			for i := range uint32(1000) {
				b = append(b, msg(guiproto.MsgConfigure, w1, u32s(i, i, 100+i%300, 100+i%200, 0))...)
			}
			e.burst("resizes", b, 1000)
			e.stays(1)
			e.a.send(w1, guiproto.Configure{X: 200, Y: 150, Width: 160, Height: 96})
			e.framedArea(magenta, 160, 96)
		}},

	{"configure-during-pending", "§3.2 CONFIGURE while a daemon configure is pending", drop, "a different size while the daemon's own CONFIGURE is unanswered is dropped; the daemon repeats its own",
		func(e *env) {
			e.std(w1, "term")
			e.shown(1)
			e.comp.SwayMsg(e.t, `[app_id="^work:XTerm$"] resize set 300 200`)
			ours := e.a.expect(guiproto.MsgConfigure, w1).m.(guiproto.Configure)
			e.a.send(w1, guiproto.Configure{X: ours.X, Y: ours.Y, Width: 50, Height: 50})
			again := e.a.expect(guiproto.MsgConfigure, w1).m.(guiproto.Configure)
			if again.Width != ours.Width || again.Height != ours.Height {
				e.t.Fatalf("daemon configured %dx%d, then %dx%d after the agent's 50x50", ours.Width, ours.Height, again.Width, again.Height)
			}
			e.a.send(w1, again)
			e.stays(1)
		}},

	// Spec §3.2: MAP, UNMAP, DOCK.
	{"map-twice", "§3.2 MAP: ignored if already mapped", drop, "a second MAP does not make a second window",
		func(e *env) {
			e.std(w1, "term")
			e.a.send(w1, guiproto.MapInfo{})
			e.stays(1)
		}},
	{"map-transient-unknown", "§3.2 MAP: transient_for looked up", clamp, "transient_for naming no window of the qube is cleared; a framed window",
		func(e *env) {
			e.a.window(w1, win{w: 160, h: 96, transientFor: 0xdead, title: "term", class: "XTerm", fill: magenta})
			e.titled("[work] term")
		}},
	{"map-transient-self", "§3.2 MAP: transient_for looked up", clamp, "transient_for naming the window itself is cleared",
		func(e *env) {
			e.a.window(w1, win{w: 160, h: 96, transientFor: w1, or: true, title: "self", class: "XTerm", fill: magenta})
			e.titled("[work] self")
		}},
	{"unmap-unmapped", "§3.2 UNMAP", drop, "UNMAP of a window never mapped is harmless",
		func(e *env) {
			e.a.send(w1, guiproto.Create{Width: 10, Height: 10}, guiproto.Unmap{}, guiproto.Unmap{})
			e.stays(0)
		}},
	{"draw-after-unmap", "§3.2 UNMAP: unmap and release", drop, "an unmapped window's pixels leave the screen and SHMIMAGE no longer shows them",
		func(e *env) {
			e.std(w1, "term")
			e.framedArea(magenta, 160, 96)
			e.a.send(w1, guiproto.Unmap{}, guiproto.ShmImage{Width: 160, Height: 96})
			e.stays(0)
			e.gone(magenta)
		}},
	{"dock-mapped", "§3.2 DOCK: refused if mapped", drop, "DOCK of a mapped window is refused; the window stays",
		func(e *env) {
			e.std(w1, "term")
			e.shown(1)
			e.a.send(w1, guiproto.Dock{})
			e.stays(1)
		}},
	{"dock-hidden", "§3.2 DOCK", confine, "a docked window is not shown (no tray embedding yet), its MAP ignored",
		func(e *env) {
			e.a.send(w1, guiproto.Create{Width: 22, Height: 22}, guiproto.Dock{}, guiproto.MapInfo{})
			e.stays(0)
		}},

	// Spec §3.2: SHMIMAGE.
	{"shmimage-unmapped", "§3.2 SHMIMAGE: ignored unless mapped", drop, "pixels of an unmapped window never reach the screen",
		func(e *env) {
			e.a.send(w1, guiproto.Create{Width: 160, Height: 96}, e.a.paint(160, 96, magenta), guiproto.ShmImage{Width: 160, Height: 96})
			e.stays(0)
			if _, n := area(e.comp.Screenshot(e.t), magenta); n != 0 {
				e.t.Fatalf("%d pixels of the unmapped window on screen", n)
			}
		}},
	{"shmimage-negative", "§3.2 SHMIMAGE: negative x/y/w/h", drop, "a rectangle with negative fields is dropped",
		func(e *env) {
			e.std(w1, "term")
			e.a.raw(msg(guiproto.MsgShmImage, w1, u32s(0xffffffff, 0xfffffff0, 0x80000000, 0xffffffff)))
			e.stays(1)
		}},
	{"shmimage-outside", "§3.2 SHMIMAGE: intersected with the image", clamp, "a rectangle far outside the image is clipped to it",
		func(e *env) {
			e.std(w1, "term")
			e.a.raw(msg(guiproto.MsgShmImage, w1, u32s(0x7fffff00, 0x7fffff00, 0x7fffffff, 0x7fffffff)))
			e.a.raw(msg(guiproto.MsgShmImage, w1, u32s(0, 0, 0x7fffffff, 0x7fffffff)))
			e.stays(1)
		}},

	// Spec §3.2: WMNAME, WMCLASS.
	{"wmname-no-nul", "§3.2 WMNAME: NUL forced at byte 127", clamp, "a title of 128 bytes without NUL is cut at 127",
		func(e *env) {
			e.std(w1, "term")
			e.a.raw(msg(guiproto.MsgWMName, w1, bytes.Repeat([]byte{'A'}, 128)))
			e.titled("[work] " + strings.Repeat("A", 127))
		}},
	{"wmclass-after-map", "§3.2 WMCLASS: ignored if mapped", drop, "a class change of a mapped window is ignored: app_id stays",
		func(e *env) {
			e.std(w1, "term")
			e.a.send(w1, guiproto.WMClass{Class: "Evil", Name: "evil"})
			e.stays(1)
			if vs := views(e.t, e.comp, "work"); vs[0].AppID != "work:XTerm" {
				e.t.Fatalf("app_id %q, want work:XTerm", vs[0].AppID)
			}
		}},
	{"wmclass-spoof", "§3.2 WMCLASS: sanitized, prefixed vmname:", clamp, "a class naming another qube, with control bytes, stays under work:",
		func(e *env) {
			body := append(append([]byte("personal\x1b\n"), make([]byte, 54)...), make([]byte, 64)...)
			e.a.send(w1, guiproto.Create{Width: 160, Height: 96})
			e.a.raw(msg(guiproto.MsgWMClass, w1, body))
			e.a.send(w1, guiproto.MapInfo{}, guiproto.WMName{Title: "spoof"})
			vs := e.shown(1)
			if vs[0].AppID != "work:personal__" {
				e.t.Fatalf("app_id %q, want work:personal__", vs[0].AppID)
			}
		}},

	// Spec §3.2: WINDOW_HINTS, WINDOW_FLAGS, CURSOR.
	{"hints-out-of-range", "§3.2 WINDOW_HINTS: fields in range", drop, "hints with every bit set and 2³²−1 values are dropped field by field",
		func(e *env) {
			e.std(w1, "term")
			e.a.raw(msg(guiproto.MsgWindowHints, w1, bytes.Repeat([]byte{0xff}, 36)))
			e.a.send(w1, guiproto.WindowHints{Flags: guiproto.HintPMinSize | guiproto.HintPMaxSize,
				MinWidth: 16384, MinHeight: 6144, MaxWidth: 1, MaxHeight: 1})
			e.stays(1)
		}},
	{"flags-set-and-unset", "§3.2 WINDOW_FLAGS: set & unset == 0", drop, "setting and unsetting fullscreen at once is dropped",
		func(e *env) {
			e.std(w1, "term")
			e.a.raw(msg(guiproto.MsgWindowFlags, w1, u32s(guiproto.FlagFullscreen, guiproto.FlagFullscreen)))
			e.stays(1)
			if vs := views(e.t, e.comp, "work"); vs[0].FullscreenMode != 0 {
				e.t.Fatal("the window went fullscreen")
			}
		}},
	{"flags-unknown-bits", "§3.2 WINDOW_FLAGS: masked", clamp, "unknown flag bits are masked off",
		func(e *env) {
			e.std(w1, "term")
			e.a.raw(msg(guiproto.MsgWindowFlags, w1, u32s(0xfffffff8, 0xfffffff8)))
			e.stays(1)
		}},
	{"cursor-invalid", "§3.2 CURSOR: 0 or 0x100..0x199", drop, "cursor 0xffffffff is dropped",
		func(e *env) {
			e.std(w1, "term")
			e.a.send(w1, guiproto.Cursor{ID: 0xffffffff})
			e.stays(1)
		}},

	// Spec §3.2: WINDOW_DUMP and MFNDUMP.
	{"dump-short", "§3.2 WINDOW_DUMP: untrusted_len ≥ 16", disconnect, "a dump of 8 bytes ends the session",
		func(e *env) {
			e.std(w1, "term")
			e.a.raw(msg(guiproto.MsgWindowDump, w1, make([]byte, 8)))
		}},
	{"dump-grant-refs", "§3.2 WINDOW_DUMP: type 0 (grant refs)", drop, "grant refs cannot be mapped without Xen: the window stays blank, the dump is still acked",
		func(e *env) {
			e.std(w1, "term")
			e.a.expect(guiproto.MsgWindowDumpAck, w1)
			e.a.raw(dumpBody(w1, 0, 32, 32, u32s(1, 2, 3, 4)))
			e.a.expect(guiproto.MsgWindowDumpAck, w1)
			e.stays(1)
		}},
	{"dump-unknown-type", "§3.2 WINDOW_DUMP: type known", disconnect, "dump type 7 ends the session",
		func(e *env) {
			e.std(w1, "term")
			e.a.raw(dumpBody(w1, 7, 32, 32, make([]byte, 16)))
		}},
	{"dump-too-wide", "§3.2 WINDOW_DUMP: width ≤ 16384, height ≤ 6144", disconnect, "a 16385-pixel-wide dump ends the session",
		func(e *env) {
			e.std(w1, "term")
			e.a.raw(regionDump(w1, 16385, 1, 0, 16385*4, 0))
		}},
	{"dump-refs-not-whole", "§3.2 WINDOW_DUMP: body a multiple of 4", disconnect, "grant refs in a 5-byte body end the session",
		func(e *env) {
			e.std(w1, "term")
			e.a.raw(dumpBody(w1, 0, 1, 1, make([]byte, 5)))
		}},
	{"dump-refs-too-few", "§3.2 WINDOW_DUMP: n·4096 ≥ w·h·4", disconnect, "one grant ref for a 100×100 image ends the session",
		func(e *env) {
			e.std(w1, "term")
			e.a.raw(dumpBody(w1, 0, 100, 100, u32s(1)))
		}},
	{"dump-body-too-long", "§3.2 WINDOW_DUMP: body ≤ 98304·4", disconnect, "a dump longer than the maximum ends the session before its body is read",
		func(e *env) {
			e.std(w1, "term")
			e.a.raw(hdr(guiproto.MsgWindowDump, w1, guiproto.MaxWindowDumpLen))
		}},
	{"mfndump-outside-dom0", "§3.2 MFNDUMP: daemon in dom0", disconnect, "a well-formed MFNDUMP ends the session: only dom0 maps MFNs",
		func(e *env) {
			e.std(w1, "term")
			e.a.raw(msg(guiproto.MsgMFNDump, w1, u32s(0, 32, 32, 24, 0, 1, 0, 42)))
		}},
	{"mfndump-too-many", "§3.2 MFNDUMP: num_mfn ≤ 98304", disconnect, "num_mfn 98305 ends the session before the MFNs are read",
		func(e *env) {
			e.std(w1, "term")
			e.a.raw(append(hdr(guiproto.MsgMFNDump, w1, 28+4*98305), u32s(0, 32, 32, 24, 0, 98305, 0)...))
		}},
	{"mfndump-length-mismatch", "§3.2 MFNDUMP: length = 28 + 4·num_mfn", disconnect, "an MFNDUMP whose length disagrees with num_mfn ends the session",
		func(e *env) {
			e.std(w1, "term")
			e.a.raw(append(hdr(guiproto.MsgMFNDump, w1, 28+4*2), u32s(0, 32, 32, 24, 0, 1, 0, 42)...))
		}},

	// Spec §3.2: CLIPBOARD_DATA.
	{"clipboard-over-protocol", "§3.2 CLIPBOARD_DATA: length limits", disconnect, "a length of 256002 ends the session before the body is read",
		func(e *env) { e.a.raw(hdr(guiproto.MsgClipboardData, 0, guiproto.ClipboardTooBig+1)) }},
	{"clipboard-unrequested", "§3.2 CLIPBOARD_DATA: unrequested data", drop, "clipboard data nobody asked for is read and discarded",
		func(e *env) { e.a.send(0, guiproto.ClipboardData{Data: []byte("exfiltrate me")}) }},
	{"clipboard-oversize", "§5.3 per-qube limit", drop, "200000 bytes, above the qube's 64000 limit, are discarded",
		func(e *env) { e.a.send(0, guiproto.ClipboardData{Data: bytes.Repeat([]byte{'x'}, 200000)}) }},
	{"clipboard-too-big-marker", "§5.3 the 256001 marker", drop, "the 256001-byte “too big” marker is discarded",
		func(e *env) {
			e.a.send(0, guiproto.ClipboardData{Data: bytes.Repeat([]byte{'x'}, guiproto.ClipboardTooBig)})
		}},
	{"clipboard-flood", "issue 8: clipboard floods", bound, "500 unrequested 64000-byte clipboard messages are discarded with bounded memory",
		func(e *env) {
			e.flood("64000-byte CLIPBOARD_DATA", msg(guiproto.MsgClipboardData, 0, bytes.Repeat([]byte{'x'}, 64000)), 500)
		}},

	// Issue 8: region dumps out of bounds, integer overflow.
	{"dump-outside-region", "issue 8: dump outside the region", disconnect, "a dump at the region's end ends the session",
		func(e *env) {
			e.std(w1, "term")
			e.a.raw(regionDump(w1, 64, 64, regionBytes, 256, 0))
		}},
	{"dump-straddles-region-end", "issue 8: dump straddling the region end", disconnect, "a 64×64 dump in the region's last page ends the session",
		func(e *env) {
			e.std(w1, "term")
			e.a.raw(regionDump(w1, 64, 64, regionBytes-4096, 256, 0))
		}},
	{"dump-offset-overflow", "issue 8: integer overflow in offset", disconnect, "offset 2⁶⁴−4096, which wraps when the image size is added, ends the session",
		func(e *env) {
			e.std(w1, "term")
			e.a.raw(regionDump(w1, 1024, 1024, 0xffff_ffff_ffff_f000, 4096, 0))
		}},
	{"dump-stride-overflow", "issue 8: integer overflow in stride", disconnect, "width 2³⁰ with stride 0 (width·4 wraps to 0 in 32 bits) ends the session",
		func(e *env) {
			e.std(w1, "term")
			e.a.raw(regionDump(w1, 1<<30, 1, 0, 0, 0))
		}},
	{"dump-stride-mismatch", "design §5: stride = width·4", disconnect, "a stride other than width·4 ends the session",
		func(e *env) {
			e.std(w1, "term")
			e.a.raw(regionDump(w1, 64, 64, 0, 0xfffffffc, 0))
		}},
	{"dump-height-overflow", "issue 8: integer overflow in height", disconnect, "height 2³²−1 ends the session",
		func(e *env) {
			e.std(w1, "term")
			e.a.raw(regionDump(w1, 64, 0xffffffff, 0, 256, 0))
		}},
	{"dump-misaligned", "design §5: offset a multiple of 4096", disconnect, "offset 100 ends the session",
		func(e *env) {
			e.std(w1, "term")
			e.a.raw(regionDump(w1, 64, 64, 100, 256, 0))
		}},
	{"dump-reserved-set", "design §5: reserved = 0", disconnect, "a non-zero reserved field ends the session",
		func(e *env) {
			e.std(w1, "term")
			e.a.raw(regionDump(w1, 64, 64, 0, 256, 1))
		}},
	{"dump-wrong-length", "design §5: region dump length 32", disconnect, "a region dump with a 20-byte body ends the session",
		func(e *env) {
			e.std(w1, "term")
			e.a.raw(dumpBody(w1, uint32(guiproto.DumpRegion), 64, 64, make([]byte, 20)))
		}},

	// Issue 8: window IDs.
	{"id-reuse-before-destroy-ack", "§2.5: no reuse before the DESTROY ack", confine, "an ID reused before the ack is a new window; the old one is gone",
		func(e *env) {
			e.std(w1, "first")
			e.shown(1)
			e.a.send(w1, guiproto.Destroy{})
			e.std(w1, "second")
			e.titled("[work] second")
			e.a.expect(guiproto.MsgDestroy, w1)
			e.stays(1)
		}},
	{"use-after-destroy", "§3.2 any: window exists", disconnect, "SHMIMAGE for a destroyed window ends the session",
		func(e *env) {
			e.std(w1, "term")
			e.a.send(w1, guiproto.Destroy{}, guiproto.ShmImage{Width: 1, Height: 1})
		}},

	// Issue 8: floods.
	{"shmimage-flood", "issue 8: message floods", bound, "20000 SHMIMAGEs in a burst are all handled with bounded memory",
		func(e *env) {
			e.std(w1, "term")
			e.shown(1)
			e.flood("SHMIMAGEs", msg(guiproto.MsgShmImage, w1, u32s(0, 0, 160, 96)), 20000)
		}},
	{"dump-flood", "issue 8: message floods", bound, "2000 dumps of one buffer are acked in order with bounded memory",
		func(e *env) {
			e.std(w1, "term")
			e.shown(1)
			d := e.a.paint(160, 96, magenta)
			e.flood("WINDOW_DUMPs", regionDump(w1, 160, 96, d.Region.Offset, 640, 0), 2000)
			e.stays(1)
		}},
	{"window-flood", "issue 8: message floods", bound, "5000 windows created and destroyed are all acked with bounded memory",
		func(e *env) {
			var b []byte
			for i := range uint32(5000) {
				b = append(b, msg(guiproto.MsgCreate, 0x10000+i, u32s(0, 0, 10, 10, 0, 0))...)
				b = append(b, hdr(guiproto.MsgDestroy, 0x10000+i, 0)...)
			}
			e.burst("CREATE+DESTROY pairs", b, 5000)
			e.stays(0)
		}},

	{"window-hoard", "issue 8: message floods", bound, "20000 windows created and never destroyed cost bounded memory",
		func(e *env) {
			var b []byte
			for i := range uint32(20000) {
				b = append(b, msg(guiproto.MsgCreate, 0x10000+i, u32s(0, 0, 10, 10, 0, 0))...)
			}
			e.burst("CREATEs", b, 20000)
			e.stays(0)
		}},
	{"title-flood", "issue 8: message floods", bound, "2000 title changes of a shown window in a burst; the last one wins",
		func(e *env) {
			e.std(w1, "term")
			e.shown(1)
			var b []byte
			for i := range 2000 {
				b = append(b, msg(guiproto.MsgWMName, w1, append([]byte(fmt.Sprintf("t%d", i)), make([]byte, 128-len(fmt.Sprintf("t%d", i)))...))...)
			}
			e.burst("WMNAMEs", b, 2000)
			e.titled("[work] t1999")
		}},
	{"popup-flood", "issue 8: message floods", bound, "200 menus mapped at once on one window are all framed popups, none a toplevel",
		func(e *env) {
			e.std(w1, "term")
			e.shown(1)
			for i := range uint32(200) {
				e.a.window(0x1000+i, win{x: int32(i), y: int32(i), w: 40, h: 30, or: true, transientFor: w1, class: "XTerm", fill: yellow})
			}
			e.stays(1)
		}},

	// Issue 8: title spoofing.
	{"title-control-chars", "§3.5 titles sanitized", clamp, "escape sequences, BEL, CR and LF in a title become _",
		func(e *env) {
			e.std(w1, "\x1b]0;root\x07\r\n\x7fls")
			e.titled("[work] _]0;root____ls")
		}},
	{"title-bidi-overrides", "§3.5 titles sanitized", clamp, "U+202A..U+202E, U+2066..U+2069, U+200E/F and U+061C in a UTF-8 title become _",
		func(e *env) {
			e.std(w1, "a\u202ab\u202bc\u202cd\u202de\u202ef\u2066g\u2067h\u2068i\u2069j\u200ek\u200fl\u061cm")
			e.titled("[work] a_b_c_d_e_f_g_h_i_j_k_l_m")
		}},
	{"title-fake-qube-prefix", "issue 8: a title starting with another qube's [name]", confine, "the daemon's [work] prefix always comes first",
		func(e *env) {
			e.std(w1, "[personal] bank")
			e.titled("[work] [personal] bank")
		}},
	{"title-invalid-utf8", "§3.5 titles sanitized", clamp, "overlong, surrogate and truncated UTF-8 sequences become _",
		func(e *env) {
			e.std(w1, "a\xc0\xafb\xed\xa0\x80c\xe2\x82")
			vs := e.shown(1)
			checkTitle(e.t, vs[0].Title)
		}},

	// Issue 8: override-redirect windows, popups, frames, fullscreen.
	{"or-covers-output", "§3.3 override_redirect_protection", confine, "an override-redirect window covering the output becomes a framed, titled window",
		func(e *env) {
			e.a.window(w1, win{w: 800, h: 600, or: true, title: "login", class: "Cover", fill: magenta})
			e.titled("[work] login")
		}},
	{"or-cover-together", "§3.3 known gap #7085: OR windows covering together", confine, "four menus that together cover the output stay popups of their window, framed in the label colour",
		func(e *env) {
			e.std(w1, "term")
			e.shown(1)
			fills := []color.RGBA{{0x10, 0x10, 0x10, 0xff}, {0x20, 0x20, 0x20, 0xff}, {0x30, 0x30, 0x30, 0xff}, {0x40, 0x40, 0x40, 0xff}}
			for i, f := range fills {
				e.a.window(w2+uint32(i), win{x: int32(i%2) * 400, y: int32(i/2) * 300, w: 396, h: 296, or: true, transientFor: w1, class: "XTerm", fill: f})
			}
			e.stays(1)
			img := e.comp.Screenshot(e.t)
			for _, f := range fills {
				if _, n := area(img, f); n == 0 {
					e.t.Fatalf("menu %v not on screen", f)
				}
			}
			// The topmost menu shows its frame wherever it is on screen.
			img = e.comp.Screenshot(e.t)
			r, _ := area(img, fills[3])
			framed(e.t, img, r, 2, blue)
		}},
	{"popup-without-parent", "design §6: OR windows become popups of a parent", confine, "an override-redirect window with no parent becomes a framed toplevel",
		func(e *env) {
			e.a.window(w1, win{w: 100, h: 80, or: true, title: "menu", class: "Menu", fill: magenta})
			e.titled("[work] menu")
			e.framedArea(magenta, 100, 80)
		}},
	{"popup-parent-destroyed", "design §6: popups hang on their parent", drop, "a popup whose parent is destroyed disappears; drawing to it is ignored",
		func(e *env) {
			e.std(w1, "term")
			e.a.window(w2, win{x: 10, y: 10, w: 50, h: 40, or: true, transientFor: w1, class: "XTerm", fill: yellow})
			e.framedArea(yellow, 50, 40)
			e.a.send(w1, guiproto.Destroy{})
			e.a.send(w2, guiproto.ShmImage{Width: 50, Height: 40})
			e.stays(0)
			e.gone(yellow)
		}},
	{"draw-over-frame", "§3.2 SHMIMAGE: never drawn over the frame", clamp, "a 400×300 image in a 160×96 window shows only 160×96 pixels; the frame stays",
		func(e *env) {
			e.std(w1, "term")
			e.shown(1)
			e.a.send(w1, e.a.paint(400, 300, yellow), guiproto.ShmImage{Width: 400, Height: 300})
			e.framedArea(yellow, 160, 96)
		}},
	{"popup-draw-over-frame", "§3.3 the 2-px OR frame", clamp, "a menu's oversized image stays inside its 2-px label frame",
		func(e *env) {
			e.std(w1, "term")
			e.a.window(w2, win{x: 20, y: 20, w: 60, h: 40, or: true, transientFor: w1, class: "XTerm", fill: magenta})
			e.a.send(w2, e.a.paint(300, 300, yellow), guiproto.ShmImage{Width: 300, Height: 300})
			e.framedArea(yellow, 60, 40)
		}},
	{"fullscreen-request", "§3.6 fullscreen policy", confine, "a fullscreen request without gui-allow-fullscreen never makes the window fullscreen",
		func(e *env) {
			e.std(w1, "term")
			e.shown(1)
			e.a.send(w1, guiproto.WindowFlags{Set: guiproto.FlagFullscreen})
			e.stays(1)
			time.Sleep(200 * time.Millisecond)
			if vs := views(e.t, e.comp, "work"); vs[0].FullscreenMode != 0 {
				e.t.Fatalf("the window is fullscreen (mode %d)", vs[0].FullscreenMode)
			}
		}},
	{"fullscreen-popup", "§3.6 fullscreen policy", drop, "a fullscreen request of a menu is ignored; its frame stays",
		func(e *env) {
			e.std(w1, "term")
			e.a.window(w2, win{x: 20, y: 20, w: 60, h: 40, or: true, transientFor: w1, class: "XTerm", fill: yellow})
			e.a.send(w2, guiproto.WindowFlags{Set: guiproto.FlagFullscreen})
			e.stays(1)
			e.framedArea(yellow, 60, 40)
		}},

	// The connection itself.
	handshakeAttack("handshake-wrong-major", "an agent claiming protocol 2.0 is refused before any message", 0x00020000),
	handshakeAttack("handshake-too-old", "an agent claiming protocol 1.3 is refused before any message", 0x00010003),
	{"hangup-mid-message", "§3 a truncated stream", disconnect, "an agent that dies in the middle of a message ends only its session",
		func(e *env) {
			e.std(w1, "term")
			e.shown(1)
			e.a.raw(append(hdr(guiproto.MsgWMName, w1, 128), "half"...))
			e.a.hangup()
		}},
}
