package guid

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qube-desktop/qube-desktop/compositor/wayland"
	"github.com/qube-desktop/qube-desktop/internal/adminapi"
	"github.com/qube-desktop/qube-desktop/internal/adminapi/adminapitest"
	"github.com/qube-desktop/qube-desktop/internal/clipboard"
	"github.com/qube-desktop/qube-desktop/internal/guiproto"
	"github.com/qube-desktop/qube-desktop/internal/notify"
	"github.com/qube-desktop/qube-desktop/internal/policy"
)

// clipQubes are guids of several qubes sharing one global clipboard and
// one policy directory, as on a desktop.
type clipQubes struct {
	t         *testing.T
	dir       string // the global clipboard
	policyDir string
	lookup    policy.Lookup
	notes     []string
}

// newClipQubes: the guids look qubes up through an Admin API socket where
// nothing listens, as when qubesd is not running.
func newClipQubes(t *testing.T) *clipQubes {
	noQubesd := adminapi.New(adminapi.UnixTransport{Path: filepath.Join(t.TempDir(), "qubesd.sock")})
	return &clipQubes{t: t, dir: t.TempDir(), policyDir: t.TempDir(), lookup: AdminLookup(noQubesd, time.Second)}
}

// guid starts a session of qube name with a mapped window win.
func (q *clipQubes) guid(name string, maxClipboard int) *harness {
	st, err := clipboard.Open(q.dir)
	if err != nil {
		q.t.Fatal(err)
	}
	c := &Clipboard{Store: st, Copy: clipboard.DefaultCopy, Paste: clipboard.DefaultPaste,
		Policy: policy.ClipboardPaste{Dir: q.policyDir, Qubes: q.lookup},
		Notify: func(n notify.Notification) { q.notes = append(q.notes, n.Body) }}
	h := newHarness(q.t, Config{Qube: name, MaxClipboard: maxClipboard, Clipboard: c})
	h.mapWindow(win, 0, 0, 100, 100, false, 0)
	h.takeSent()
	return h
}

func (q *clipQubes) policy(rules string) {
	if err := os.WriteFile(filepath.Join(q.policyDir, "30-test.policy"), []byte(rules), 0o644); err != nil {
		q.t.Fatal(err)
	}
}

// expectNote checks the notifications since the last call.
func (q *clipQubes) expectNote(want ...string) {
	q.t.Helper()
	if strings.Join(q.notes, "|") != strings.Join(want, "|") {
		q.t.Errorf("notifications %q, want %q", q.notes, want)
	}
	q.notes = nil
}

func (q *clipQubes) file(name string) string {
	b, err := os.ReadFile(filepath.Join(q.dir, name))
	if err != nil && !os.IsNotExist(err) {
		q.t.Fatal(err)
	}
	return string(b)
}

func (q *clipQubes) global() (source, data string) {
	return q.file(clipboard.SourceFile), q.file(clipboard.DataFile)
}

// sentClipboard returns the clipboard messages sent since the last call
// and fails on any other message.
func sentClipboard(t *testing.T, h *harness) []sent {
	t.Helper()
	out := h.takeSent()
	for _, s := range out {
		switch s.m.(type) {
		case guiproto.ClipboardReq, guiproto.ClipboardData:
		default:
			t.Errorf("unexpected %T to %#x", s.m, s.window)
		}
	}
	return out
}

func TestSecureCopyPaste(t *testing.T) {
	q := newClipQubes(t)
	work, personal := q.guid("work", 0), q.guid("personal", 0)

	// Copy: the hotkey asks the focused window's qube for its clipboard.
	work.s.SecureCopy(win, 1000)
	if s := sentClipboard(t, work); len(s) != 1 || s[0].window != win || s[0].m != (guiproto.ClipboardReq{}) {
		t.Fatalf("copy hotkey sent %+v, want one CLIPBOARD_REQ for %#x", s, win)
	}
	work.send(uint32(0), guiproto.ClipboardData{Data: []byte("report\x00text")})
	q.expectNote("Copied 11 bytes from work")
	if src, data := q.global(); src != "work" || data != "report\x00text" {
		t.Fatalf("global clipboard %q from %q", data, src)
	}
	// The request is used up: more data is discarded and logged.
	work.send(uint32(0), guiproto.ClipboardData{Data: []byte("injected")})
	if _, data := q.global(); data != "report\x00text" || !strings.Contains(work.logs.String(), "discarded unrequested clipboard data (8 bytes)") {
		t.Fatalf("unrequested data: clipboard %q, log %q", data, work.logs.String())
	}
	q.expectNote()

	// Pasting back into the source qube is refused and keeps the buffer.
	work.s.SecurePaste(win, 1050)
	q.expectNote(clipboard.SameQubeText("work"))
	if s := sentClipboard(t, work); len(s) != 0 {
		t.Fatalf("paste into the source qube sent %+v", s)
	}

	// Paste: the data goes to the focused window of the other qube, once.
	personal.s.SecurePaste(win, 1100)
	if s := sentClipboard(t, personal); len(s) != 1 || s[0].window != win ||
		!bytes.Equal(s[0].m.(guiproto.ClipboardData).Data, []byte("report\x00text")) {
		t.Fatalf("paste sent %+v", s)
	}
	q.expectNote("Pasted to personal; global clipboard wiped")
	if src, data := q.global(); src != "" || data != "" {
		t.Fatalf("after the paste the global clipboard holds %q from %q", data, src)
	}
	personal.s.SecurePaste(win, 1150)
	q.expectNote(clipboard.EmptyPasteText())
	if s := sentClipboard(t, personal); len(s) != 0 {
		t.Fatalf("second paste sent %+v", s)
	}

	// A denied paste sends nothing and keeps the buffer.
	q.policy("qubes.ClipboardPaste * work personal deny\n")
	work.s.SecureCopy(win, 1200)
	work.send(uint32(0), guiproto.ClipboardData{Data: []byte("secret")})
	q.expectNote("Copied 6 bytes from work")
	personal.s.SecurePaste(win, 1300)
	q.expectNote("Pasting from work to personal is denied by policies")
	if s := sentClipboard(t, personal); len(s) != 0 {
		t.Fatalf("denied paste sent %+v", s)
	}
	if src, data := q.global(); src != "work" || data != "secret" {
		t.Fatalf("denied paste left %q from %q", data, src)
	}
	// A policy that does not parse denies too, and the log says why.
	q.policy("qubes.ClipboardPaste * work personal maybe\n")
	personal.s.SecurePaste(win, 1310)
	q.expectNote("Pasting from work to personal is denied by policies")
	if !strings.Contains(personal.logs.String(), "30-test.policy:1") {
		t.Errorf("the log does not name the broken policy line: %q", personal.logs.String())
	}
	// A rule needing a qube's tags denies when qubesd cannot be asked;
	// rules naming qubes need no lookup.
	q.policy("qubes.ClipboardPaste * @tag:secret @anyvm deny\n")
	personal.s.SecurePaste(win, 1320)
	q.expectNote("Pasting from work to personal is denied by policies")
	if src, _ := q.global(); src != "work" || len(sentClipboard(t, personal)) != 0 ||
		!strings.Contains(personal.logs.String(), "connect to qubesd") {
		t.Fatalf("a paste needing tags without qubesd: log %q", personal.logs.String())
	}

	// Stale: a copy answered after a newer copy is dropped.
	q.policy("")
	work.s.SecureCopy(win, 1150) // before the copy at 1200
	work.send(uint32(0), guiproto.ClipboardData{Data: []byte("late")})
	q.expectNote()
	if _, data := q.global(); data != "secret" || !strings.Contains(work.logs.String(), "secure copy dropped") {
		t.Fatalf("stale copy: clipboard %q, log %q", data, work.logs.String())
	}

	// No window, no request; an ended session asks nothing.
	work.takeSent()
	work.s.SecureCopy(0x999, 1400)
	work.s.SecurePaste(0x999, 1400)
	work.s.End()
	work.s.SecureCopy(win, 1400)
	if s := sentClipboard(t, work); len(s) != 0 {
		t.Fatalf("sent %+v for an unknown window or an ended session", s)
	}
	if c, p := work.s.Hotkeys(); !c.Disabled || !p.Disabled {
		t.Error("an ended session still has hotkeys")
	}
}

func TestSecureCopyOversized(t *testing.T) {
	q := newClipQubes(t)
	work := q.guid("work", 256)
	work.s.SecureCopy(win, 10)
	work.send(uint32(0), guiproto.ClipboardData{Data: []byte("kept")})
	q.notes = nil

	// Above the qube's limit: the data is dropped, the buffer cleared.
	work.s.SecureCopy(win, 20)
	work.send(uint32(0), guiproto.ClipboardData{Data: make([]byte, 257)})
	q.expectNote(clipboard.OversizedText("work", 257, 256))
	if src, data := q.global(); src != "" || data != "" {
		t.Fatalf("oversized copy left %q from %q", data, src)
	}
	if m := q.file(clipboard.MetadataFile); !strings.Contains(m, `"oversized_request":1`) || !strings.Contains(m, `"sent_size":257`) {
		t.Errorf("metadata after an oversized copy:\n%s", m)
	}
	// The agent's "too big" marker.
	work.s.SecureCopy(win, 30)
	work.send(uint32(0), guiproto.ClipboardData{Data: make([]byte, guiproto.ClipboardTooBig)})
	q.expectNote(clipboard.TooBigText("work"))
	// Unrequested oversized data changes nothing.
	work.send(uint32(0), guiproto.ClipboardData{Data: make([]byte, 1000)})
	q.expectNote()
	if m := q.file(clipboard.MetadataFile); !strings.Contains(m, `"xevent_timestamp":30`) {
		t.Errorf("unrequested data touched the metadata:\n%s", m)
	}
	// An empty selection empties the global clipboard.
	work.s.SecureCopy(win, 40)
	work.send(uint32(0), guiproto.ClipboardData{})
	q.expectNote(clipboard.EmptyCopyText("work"))
}

func TestNoClipboardDiscards(t *testing.T) {
	h := newHarness(t, Config{Qube: "work"})
	h.mapWindow(win, 0, 0, 100, 100, false, 0)
	h.takeSent()
	h.s.SecureCopy(win, 1)
	h.s.SecurePaste(win, 2)
	if s := h.takeSent(); len(s) != 0 {
		t.Fatalf("without a clipboard the hotkeys sent %+v", s)
	}
	h.send(uint32(0), guiproto.ClipboardData{Data: []byte("x")})
	if !strings.Contains(h.logs.String(), "discarded unrequested clipboard data") {
		t.Errorf("log %q", h.logs.String())
	}
}

// Evdev codes the seat test types.
const (
	evC, evV, evX = 46, 47, 45
	modCtrlShift  = clipboard.ControlMask | clipboard.ShiftMask
)

// seatHarness is a seat wired to a session as on the compositor, without
// a compositor: the test calls the wl_keyboard handlers itself.
type seatHarness struct {
	*harness
	q       *clipQubes
	s       *seat
	surface *wayland.WlSurface
	time    uint32
}

func newSeatHarness(t *testing.T) *seatHarness { return newSeat(t, newClipQubes(t), "work") }

// newSeat is qube name's guid with its own seat, on q's global clipboard.
func newSeat(t *testing.T, q *clipQubes, name string) *seatHarness {
	h := q.guid(name, 0)
	surface := new(wayland.WlSurface)
	d := &WaylandDisplay{handler: h.s, surfaces: map[*wayland.WlSurface]surfaceRef{}}
	d.surfaces[surface] = surfaceRef{v: &wlView{d: d, id: win}, content: true}
	s := &seat{d: d, kbd: new(wayland.WlKeyboard)}
	s.keyboardHandlers()

	f, err := os.CreateTemp(t.TempDir(), "keymap")
	if err != nil {
		t.Fatal(err)
	}
	km := swayKeymap(t)
	if _, err := f.Write(km); err != nil {
		t.Fatal(err)
	}
	s.kbd.OnKeymap(wayland.WlKeyboardKeymapEvent{Format: wayland.WlKeyboardKeymapFormatXkbV1, Fd: f, Size: uint32(len(km))})
	if s.hk.keymap == nil {
		t.Fatal("the keymap was not read")
	}
	return &seatHarness{harness: h, q: q, s: s, surface: surface}
}

func (sh *seatHarness) enter(held ...uint32) {
	keys := make([]byte, 4*len(held))
	for i, k := range held {
		binary.LittleEndian.PutUint32(keys[4*i:], k)
	}
	sh.s.kbd.OnEnter(wayland.WlKeyboardEnterEvent{Surface: sh.surface, Keys: keys})
}

func (sh *seatHarness) mods(m uint32) {
	sh.s.kbd.OnModifiers(wayland.WlKeyboardModifiersEvent{ModsDepressed: m})
}

func (sh *seatHarness) key(evdev uint32, down bool) {
	sh.time += 10
	st := wayland.WlKeyboardKeyStateReleased
	if down {
		st = wayland.WlKeyboardKeyStatePressed
	}
	sh.s.kbd.OnKey(wayland.WlKeyboardKeyEvent{Time: sh.time, Key: evdev, State: st})
}

func TestSeatSwallowsHotkeys(t *testing.T) {
	sh := newSeatHarness(t)
	sh.enter()
	sh.takeSent() // KEYMAP_NOTIFY, FOCUS

	// Ctrl+Shift+C: the modifiers reach the qube, C neither pressed nor
	// released, even when Ctrl goes up before C.
	sh.mods(modCtrlShift)
	sh.key(evC, true)
	sh.mods(clipboard.ShiftMask)
	sh.key(evC, false)
	got := sh.takeSent()
	if len(got) != 1 || got[0].m != (guiproto.ClipboardReq{}) || got[0].window != win {
		t.Fatalf("Ctrl+Shift+C sent %+v, want only CLIPBOARD_REQ", got)
	}
	sh.send(uint32(0), guiproto.ClipboardData{Data: []byte("hello")})
	if src, data := sh.q.global(); src != "work" || data != "hello" {
		t.Fatalf("global clipboard %q from %q", data, src)
	}
	// The press time is the request's: the metadata has the key event's.
	if m := sh.q.file(clipboard.MetadataFile); !strings.Contains(m, `"xevent_timestamp":10`) {
		t.Errorf("metadata:\n%s", m)
	}

	// Plain C, Ctrl+C, Ctrl+Shift+Alt+C and Ctrl+Shift+X reach the qube.
	for _, c := range []struct {
		mods uint32
		key  uint32
	}{{0, evC}, {clipboard.ControlMask, evC}, {modCtrlShift | clipboard.Mod1Mask, evC}, {modCtrlShift, evX}} {
		sh.mods(c.mods)
		sh.key(c.key, true)
		sh.key(c.key, false)
		if s := sh.takeSent(); len(s) != 2 || s[0].m.(guiproto.Keypress).Keycode != c.key+8 {
			t.Errorf("mods %#x key %d: sent %+v, want the press and release", c.mods, c.key, s)
		}
	}
	// NumLock and CapsLock do not matter (SPECIAL_KEYS_MASK).
	sh.mods(modCtrlShift | clipboard.Mod2Mask | clipboard.LockMask)
	sh.key(evV, true)
	sh.key(evV, false)
	if s := sh.takeSent(); len(s) != 0 {
		t.Errorf("Ctrl+Shift+V with NumLock and CapsLock sent %+v; the clipboard came from this qube, so nothing", s)
	}
	sh.q.expectNote("Copied 5 bytes from work", clipboard.SameQubeText("work"))

	// A hotkey key held while the focus leaves and comes back is not down
	// for the qube; its release is still swallowed.
	sh.mods(modCtrlShift)
	sh.key(evC, true)
	sh.takeSent()
	sh.s.kbd.OnLeave(wayland.WlKeyboardLeaveEvent{Surface: sh.surface})
	sh.takeSent() // FOCUS out
	sh.enter(evC, evX)
	got = sh.takeSent()
	km, ok := got[0].m.(guiproto.KeymapNotify)
	if !ok || km.Keys[(evC+8)/8]&(1<<((evC+8)%8)) != 0 || km.Keys[(evX+8)/8]&(1<<((evX+8)%8)) == 0 {
		t.Fatalf("KEYMAP_NOTIFY after re-entering: %+v", got)
	}
	sh.key(evC, false)
	if s := sh.takeSent(); len(s) != 0 {
		t.Errorf("the held hotkey's release reached the qube: %+v", s)
	}
}

func TestSeatWithoutHotkeys(t *testing.T) {
	sh := newSeatHarness(t)
	sh.setHotkeys(clipboard.Hotkey{Disabled: true})
	sh.enter()
	sh.takeSent()
	sh.mods(modCtrlShift)
	sh.key(evC, true)
	sh.key(evC, false)
	if s := sh.takeSent(); len(s) != 2 {
		t.Fatalf("with the hotkey off, Ctrl+Shift+C sent %+v, want the key", s)
	}
}

// A qube's own sequence replaces the default one.
func TestSeatConfiguredHotkey(t *testing.T) {
	const evInsert = 110
	sh := newSeatHarness(t)
	h, err := clipboard.ParseHotkey("Mod4-Insert")
	if err != nil {
		t.Fatal(err)
	}
	sh.setHotkeys(h)
	sh.enter()
	sh.takeSent()
	sh.mods(modCtrlShift)
	sh.key(evC, true)
	sh.key(evC, false)
	if s := sh.takeSent(); len(s) != 2 {
		t.Fatalf("Ctrl+Shift+C with the copy sequence Mod4-Insert sent %+v, want the key", s)
	}
	sh.mods(clipboard.Mod4Mask)
	sh.key(evInsert, true)
	sh.key(evInsert, false)
	if s := sh.takeSent(); len(s) != 1 || s[0].m != (guiproto.ClipboardReq{}) {
		t.Fatalf("Mod4+Insert sent %+v, want only CLIPBOARD_REQ", s)
	}
}

// setHotkeys replaces the copy and paste hotkeys.
func (sh *seatHarness) setHotkeys(h clipboard.Hotkey) {
	sh.s.d.handler.(*Session).cfg.Clipboard.Copy = h
	sh.s.d.handler.(*Session).cfg.Clipboard.Paste = h
}

// AdminLookup against a qubesd stand-in: a tagged qube's paste is denied
// by an @tag: rule, a disposable's by its template, others pass.
func TestAdminLookupInPolicy(t *testing.T) {
	srv := adminapitest.NewServer(t, func(raw []byte, c net.Conn) {
		req, err := adminapi.ParseRequest(raw)
		if err != nil {
			return
		}
		class := map[string]string{"vault": "AppVM", "work": "AppVM", "personal": "AppVM", "disp7": "DispVM"}[req.Dest]
		switch {
		case class == "":
			adminapi.WriteException(c, "QubesVMNotFoundError", "No such domain: "+req.Dest)
		case req.Method == "admin.vm.List":
			adminapi.WriteOK(c, []byte(req.Dest+" class="+class+" state=Running\n"))
		case req.Method == "admin.vm.tag.List" && req.Dest == "vault":
			adminapi.WriteOK(c, []byte("created-by-dom0\nsecret\n"))
		case req.Method == "admin.vm.tag.List":
			adminapi.WriteOK(c, []byte("created-by-dom0\n"))
		case req.Method == "admin.vm.property.Get" && req.Arg == "template":
			adminapi.WriteOK(c, []byte("default=False type=vm fedora-dvm"))
		default:
			adminapi.WriteException(c, "PermissionDenied", "")
		}
	})
	lookup := AdminLookup(adminapi.New(adminapi.UnixTransport{Path: srv.Path}), 5*time.Second)
	dir := t.TempDir()
	rules := "qubes.ClipboardPaste * @tag:secret @anyvm deny\nqubes.ClipboardPaste * @dispvm:fedora-dvm @anyvm deny\n" +
		"qubes.ClipboardPaste * @type:AppVM @anyvm allow\n"
	if err := os.WriteFile(filepath.Join(dir, "10-test.policy"), []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	d := policy.ClipboardPaste{Dir: dir, Qubes: lookup}
	for _, c := range []struct {
		src, dst string
		want     bool
	}{{"work", "personal", true}, {"vault", "personal", false}, {"disp7", "work", false},
		{"ghost", "work", true}, // matches no token: the built-in default allows
	} {
		if ok, err := d.AllowPaste(c.src, c.dst); ok != c.want || err != nil {
			t.Errorf("paste %s -> %s: %v, %v; want %v", c.src, c.dst, ok, err, c.want)
		}
	}
	if q, err := lookup("disp7"); err != nil || q.Type != "DispVM" || q.Template != "fedora-dvm" {
		t.Errorf("lookup(disp7) = %+v, %v", q, err)
	}
	if _, err := lookup("ghost"); !errors.Is(err, policy.ErrNoQube) {
		t.Errorf("lookup(ghost) = %v, want ErrNoQube", err)
	}
}
