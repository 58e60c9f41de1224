// Package guid is the trusted per-qube GUI daemon: it speaks the Qubes GUI
// protocol with one qube's agent, validates everything the agent sends,
// keeps the qube's window table and shows each window on the host's
// Wayland compositor with a frame in the qube's label colour.
//
// Session holds the protocol logic (window table, validation outcomes,
// configure loop, dump acks) and drives a Display; it needs no compositor,
// so tests and the fuzz target run it against a recording Display. The
// Wayland Display is in wl.go, the process around both in daemon.go.
package guid

import (
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/qube-desktop/qube-desktop/internal/clipboard"
	"github.com/qube-desktop/qube-desktop/internal/guiproto"
)

// Config is what the daemon knows about its qube.
type Config struct {
	Qube            string // the qube's name, shown as "[qube]"
	AllowFullscreen bool   // gui-allow-fullscreen: otherwise fullscreen becomes maximize
	AllowUTF8Titles bool   // gui-allow-utf8-titles
	MaxClipboard    int    // per-qube clipboard limit; 0 for the default
	// EventsMaxDelay delays each input message randomly by up to this
	// (gui-events-max-delay, 0..MaxEventsDelay; 0 is off).
	EventsMaxDelay time.Duration
	// Clipboard is secure copy and paste (clipboard.go); nil turns them off.
	Clipboard *Clipboard
}

// ViewSpec describes a view the Session asks the Display for.
type ViewSpec struct {
	ID            uint32 // the agent's window ID
	Title         string // complete, "[qube] ..."
	AppID         string
	Width, Height int // content size
	// Parent, if set, makes the view a popup of Parent at X, Y relative to
	// Parent's content, with the 2-px popup frame.
	Parent View
	X, Y   int
}

// View is one window on the host compositor.
type View interface {
	SetTitle(title string) error
	// SetBuffer shows the dump (zero copy, clipped to the content size).
	// released runs once the buffer it replaces is no longer read by the
	// compositor (at once if there was none).
	SetBuffer(d guiproto.WindowDump, released func()) error
	// Damage redraws a rectangle of the current buffer.
	Damage(x, y, w, h int) error
	// Resize sets the content size the agent chose (toplevels).
	Resize(w, h int) error
	// SetFullscreen asks for fullscreen (real) or maximize (real false).
	SetFullscreen(on, real bool) error
	Minimize() error
	SetSizeHints(h guiproto.WindowHints) error
	Destroy()
}

// Display makes views. Its methods run on the session's goroutine.
type Display interface {
	// OutputSize is the size of the output windows appear on.
	OutputSize() (w, h int)
	NewView(s ViewSpec) (View, error)
}

// Sender delivers a message to the agent without blocking. With
// Config.EventsMaxDelay it must be safe to call from any goroutine.
type Sender func(window uint32, m guiproto.Message)

// window is one entry of the table, keyed by the agent's window ID.
type window struct {
	id           uint32
	x, y         int32
	w, h         uint32
	or           bool
	mapped       bool
	docked       bool
	transientFor uint32
	title        string
	class        string // "" until a WMCLASS arrives
	hints        guiproto.WindowHints
	dump         *guiproto.WindowDump
	// queued is the reference daemon's have_queued_configure: the daemon
	// sent a configure that the agent has not echoed yet.
	queued bool
	// fullscreenWanted remembers a fullscreen request turned into maximize.
	fullscreenWanted bool
	fullscreen       bool
	acks             []*pendingAck
	view             View
	parent           uint32 // window whose view is this popup's parent
}

type pendingAck struct{ ready bool }

// Session is one connection with an agent.
type Session struct {
	cfg     Config
	limits  guiproto.Limits
	version guiproto.Version
	disp    Display
	send    Sender
	log     *log.Logger
	wins    map[uint32]*window
	focused uint32 // toplevel with keyboard focus, 0 for none
	warned  bool   // the 90 % warning is logged once per session
	ended   bool
	notes   int // log lines about the agent's messages so far
	// clip is the outstanding copy hotkey, if any.
	clip clipboard.Request
	// delay holds back input messages (inputdelay.go); nil when off.
	delay *inputDelay
}

// maxNotes bounds what one session logs about dropped messages, so an agent
// cannot flood the host's log.
const maxNotes = 100

// note logs something about the agent's messages, up to maxNotes lines.
func (s *Session) note(format string, args ...any) {
	s.notes++
	switch {
	case s.notes <= maxNotes:
		s.log.Printf(format, args...)
	case s.notes == maxNotes+1:
		s.log.Printf("more than %d dropped or refused messages; no longer logging them in this session", maxNotes)
	}
}

// NewSession starts a session speaking version v with an agent whose
// shared region has regionSize bytes.
func NewSession(cfg Config, v guiproto.Version, regionSize uint64, disp Display, send Sender, lg *log.Logger) *Session {
	return &Session{
		cfg:     cfg,
		limits:  guiproto.Limits{MaxClipboard: cfg.MaxClipboard, AllowUTF8Titles: cfg.AllowUTF8Titles, RegionSize: regionSize},
		version: v, disp: disp, send: send, log: lg,
		wins:  map[uint32]*window{},
		delay: newInputDelay(cfg.EventsMaxDelay, send),
	}
}

// Windows returns how many windows the agent has created.
func (s *Session) Windows() int { return len(s.wins) }

// RuleError is a fatal violation of a session rule (window table) that
// guiproto cannot check.
type RuleError struct {
	Type   guiproto.Type
	Window uint32
	Rule   string
}

func (e *RuleError) Error() string {
	return fmt.Sprintf("gui protocol %s for window %#x (fatal): %s", e.Type, e.Window, e.Rule)
}

// Fatal reports whether err from Handle ends the session.
func Fatal(err error) bool {
	var re *RuleError
	return errors.As(err, &re) || guiproto.KindOf(err) == guiproto.Fatal
}

// Handle applies one message from the agent. It returns an error only for
// a fatal violation; suspicious or harmless invalid messages are logged
// and dropped.
func (s *Session) Handle(u guiproto.Untrusted, h guiproto.Header) error {
	if s.ended {
		return nil
	}
	t := u.Type()
	w := s.wins[h.Window]
	switch t.WindowRule() {
	case guiproto.WindowMustExist:
		if w == nil {
			return &RuleError{t, h.Window, "unknown window ID (spec §2.5: only CREATE may name a new window)"}
		}
	case guiproto.WindowMustNotExist:
		if w != nil {
			return &RuleError{t, h.Window, "window ID already exists (spec §2.5: CREATE of an existing window)"}
		}
	}
	err := s.apply(u, h, w)
	switch guiproto.KindOf(err) {
	case 0:
		return nil
	case guiproto.Fatal:
		return err
	default:
		s.note("dropped: %v", err)
		return nil
	}
}

func (s *Session) apply(u guiproto.Untrusted, h guiproto.Header, w *window) error {
	switch u := u.(type) {
	case guiproto.UntrustedCreate:
		m, err := u.Validate(s.limits)
		if err != nil {
			return err
		}
		s.wins[h.Window] = &window{id: h.Window, x: m.X, y: m.Y, w: m.Width, h: m.Height, or: m.OverrideRedirect}
	case guiproto.UntrustedDestroy:
		if _, err := u.Validate(s.limits); err != nil {
			return err
		}
		s.hide(w)
		delete(s.wins, w.id)
		if s.focused == w.id {
			s.focused = 0
		}
		if s.version >= guiproto.VersionDestroyAck {
			s.send(w.id, guiproto.Destroy{})
		}
	case guiproto.UntrustedMap:
		m, err := u.Validate(s.limits)
		if err != nil {
			return err
		}
		return s.mapWindow(w, m)
	case guiproto.UntrustedUnmap:
		if _, err := u.Validate(s.limits); err != nil {
			return err
		}
		if !w.docked {
			s.hide(w)
		}
	case guiproto.UntrustedConfigure:
		m, err := u.Validate(s.limits)
		if err != nil {
			return err
		}
		return s.configure(w, m)
	case guiproto.UntrustedMFNDump:
		_, err := u.Validate(s.limits)
		return err // never valid outside dom0
	case guiproto.UntrustedShmImage:
		m, err := u.Validate(s.limits)
		if err != nil || w.view == nil || w.dump == nil {
			return err // ignored unless mapped, as the reference daemon
		}
		// Clip to min(image, window).
		x0, y0 := int64(m.X), int64(m.Y)
		x1 := min(x0+int64(m.Width), int64(w.dump.Width), int64(w.w))
		y1 := min(y0+int64(m.Height), int64(w.dump.Height), int64(w.h))
		if x1 <= x0 || y1 <= y0 {
			return nil
		}
		return s.viewErr(w, w.view.Damage(int(x0), int(y0), int(x1-x0), int(y1-y0)))
	case guiproto.UntrustedClipboardData:
		return s.clipboardData(u, h) // clipboard.go
	case guiproto.UntrustedWMName:
		m, err := u.Validate(s.limits)
		if err != nil {
			return err
		}
		w.title = m.Title // sanitized, bidi controls included, by guiproto
		if w.view != nil {
			return s.viewErr(w, w.view.SetTitle(s.title(w)))
		}
	case guiproto.UntrustedDock:
		if _, err := u.Validate(s.limits); err != nil {
			return err
		}
		if w.mapped {
			s.note("refused MSG_DOCK for mapped window %#x", w.id)
			return nil
		}
		// No tray on the host yet: the icon stays hidden.
		w.docked, w.or = true, false
		s.note("window %#x asked to be a tray icon; tray icons are not shown", w.id)
	case guiproto.UntrustedWindowHints:
		m, err := u.Validate(s.limits)
		if err != nil {
			return err
		}
		w.hints = m
		if w.view != nil {
			return s.viewErr(w, w.view.SetSizeHints(m))
		}
	case guiproto.UntrustedWindowFlags:
		m, err := u.Validate(s.limits)
		if err != nil {
			return err
		}
		return s.flags(w, m)
	case guiproto.UntrustedWMClass:
		m, err := u.Validate(s.limits)
		if err != nil || w.mapped {
			return err // ICCCM: only a withdrawn window changes its class
		}
		w.class = m.Class
	case guiproto.UntrustedWindowDump:
		m, err := u.Validate(s.limits)
		if err != nil {
			return err
		}
		return s.dump(w, m)
	case guiproto.UntrustedCursor:
		_, err := u.Validate(s.limits)
		return err // the host cursor stays
	default:
		return &RuleError{u.Type(), h.Window, "no handler for this message type"}
	}
	return nil
}

// viewErr turns a compositor failure into a fatal error: the Wayland
// connection is what broke, and the session cannot go on without it.
func (s *Session) viewErr(w *window, err error) error {
	if err == nil {
		return nil
	}
	return &guiproto.Error{Kind: guiproto.Fatal, Reason: fmt.Sprintf("window %#x on the compositor: %v", w.id, err), Err: err}
}

// title is what the compositor shows; only the guid writes the prefix.
func (s *Session) title(w *window) string { return "[" + s.cfg.Qube + "] " + w.title }

// appID is "qube:class" with the class reduced to characters every
// compositor accepts in an app_id.
func (s *Session) appID(w *window) string {
	if w.class == "" {
		return s.cfg.Qube
	}
	return s.cfg.Qube + ":" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, w.class)
}

func (s *Session) mapWindow(w *window, m guiproto.MapInfo) error {
	if w.mapped || w.docked {
		return nil
	}
	if p := s.wins[m.TransientFor]; p != nil && p != w {
		w.transientFor = m.TransientFor
	} else {
		w.transientFor = 0
	}
	w.or = m.OverrideRedirect
	if w.or {
		ow, oh := s.disp.OutputSize()
		if uint64(w.w)*uint64(w.h)*10 > uint64(ow)*uint64(oh)*9 {
			// override_redirect_protection: a near-fullscreen OR window could
			// fake the whole desktop, so it becomes a framed toplevel.
			w.or = false
			if !s.warned {
				s.warned = true
				s.log.Printf("WARNING: window %#x (%dx%d) covers more than 90%% of the %dx%d output; shown as a framed window", w.id, w.w, w.h, ow, oh)
			}
		}
	}
	w.mapped = true
	return s.show(w)
}

// show creates the window's view: a popup of its transient_for window or
// of the focused toplevel for an override-redirect window that has one, a
// framed toplevel otherwise.
func (s *Session) show(w *window) error {
	spec := ViewSpec{ID: w.id, Title: s.title(w), AppID: s.appID(w), Width: int(w.w), Height: int(w.h)}
	if w.or {
		p := s.wins[w.transientFor]
		if p == nil || p.view == nil {
			p = s.wins[s.focused]
		}
		if p != nil && p.view != nil && p != w {
			spec.Parent, spec.X, spec.Y = p.view, int(w.x-p.x), int(w.y-p.y)
			w.parent = p.id
		}
	}
	v, err := s.disp.NewView(spec)
	if err != nil {
		return s.viewErr(w, err)
	}
	w.view = v
	if w.hints.Flags != 0 && spec.Parent == nil {
		if err := v.SetSizeHints(w.hints); err != nil {
			return s.viewErr(w, err)
		}
	}
	if w.dump != nil {
		if err := v.SetBuffer(*w.dump, func() {}); err != nil {
			return s.viewErr(w, err)
		}
	}
	if w.fullscreenWanted && spec.Parent == nil {
		return s.viewErr(w, v.SetFullscreen(true, s.cfg.AllowFullscreen))
	}
	return nil
}

// hide destroys the window's view and, first, the popups that hang on it.
func (s *Session) hide(w *window) {
	if w.view == nil {
		w.mapped = false
		return
	}
	for _, c := range s.wins {
		if c.view != nil && c.parent == w.id && c != w {
			s.hide(c)
		}
	}
	w.view.Destroy()
	w.view, w.mapped, w.parent = nil, false, 0
	// Nothing reads the replaced buffers any more.
	for _, a := range w.acks {
		a.ready = true
	}
	s.flushAcks(w)
}

// configure is the agent's side of the configure loop (spec §3.4).
func (s *Session) configure(w *window, m guiproto.Configure) error {
	if w.docked {
		return nil
	}
	if w.queued {
		if m.X == w.x && m.Y == w.y && m.Width == w.w && m.Height == w.h {
			w.queued = false // the agent's ack of our configure
			return nil
		}
		// Stale: repeat ours, drop the agent's.
		s.send(w.id, guiproto.Configure{X: w.x, Y: w.y, Width: w.w, Height: w.h, OverrideRedirect: w.or})
		return nil
	}
	changed := m != guiproto.Configure{X: w.x, Y: w.y, Width: w.w, Height: w.h}
	resized := m.Width != w.w || m.Height != w.h
	w.x, w.y, w.w, w.h = m.X, m.Y, m.Width, m.Height
	switch {
	case w.view == nil:
	case w.parent != 0 && changed:
		// A popup that moves or resizes is placed anew (xdg_popup.reposition
		// needs xdg-shell 3, which not every compositor has).
		s.hide(w)
		w.mapped = true
		return s.show(w)
	case resized:
		return s.viewErr(w, w.view.Resize(int(w.w), int(w.h)))
	}
	return nil
}

// Configured is the compositor's side of the configure loop: it chose a
// content size for the window.
func (s *Session) Configured(id uint32, cw, ch int) {
	w := s.wins[id]
	if s.ended || w == nil || cw <= 0 || ch <= 0 {
		return
	}
	cw, ch = min(cw, guiproto.MaxWindowWidth), min(ch, guiproto.MaxWindowHeight)
	if uint32(cw) == w.w && uint32(ch) == w.h {
		return
	}
	w.w, w.h = uint32(cw), uint32(ch)
	if !w.queued {
		w.queued = true
		s.send(w.id, guiproto.Configure{X: w.x, Y: w.y, Width: w.w, Height: w.h, OverrideRedirect: w.or})
	}
}

// StateChanged reports the toplevel's fullscreen and maximized states.
func (s *Session) StateChanged(id uint32, fullscreen, maximized bool) {
	w := s.wins[id]
	if s.ended || w == nil {
		return
	}
	// A maximize standing in for fullscreen is reported as fullscreen:
	// applications wait for the ack.
	now := fullscreen || (maximized && w.fullscreenWanted)
	if now == w.fullscreen {
		return
	}
	w.fullscreen = now
	if now {
		s.send(id, guiproto.WindowFlags{Set: guiproto.FlagFullscreen})
	} else {
		s.send(id, guiproto.WindowFlags{Unset: guiproto.FlagFullscreen})
	}
}

func (s *Session) flags(w *window, m guiproto.WindowFlags) error {
	switch {
	case m.Set&guiproto.FlagMinimize != 0:
		if w.view != nil {
			return s.viewErr(w, w.view.Minimize())
		}
	case m.Set&guiproto.FlagFullscreen != 0:
		w.fullscreenWanted = true
		if w.view != nil && w.parent == 0 {
			return s.viewErr(w, w.view.SetFullscreen(true, s.cfg.AllowFullscreen))
		}
	case m.Unset&guiproto.FlagFullscreen != 0:
		w.fullscreenWanted = false
		if w.view != nil && w.parent == 0 {
			return s.viewErr(w, w.view.SetFullscreen(false, s.cfg.AllowFullscreen))
		}
	}
	return nil
}

// dump replaces the window's buffer. The ack tells the agent it may reuse
// the old buffer, so it waits until the compositor released that buffer;
// acks go out in the order of the dumps.
func (s *Session) dump(w *window, m guiproto.WindowDump) error {
	a := &pendingAck{}
	w.acks = append(w.acks, a)
	if m.Kind != guiproto.DumpRegion {
		// Grant refs need Xen's gntdev, which this host has not.
		s.note("window %#x: dump type %#x cannot be mapped here; window left blank", w.id, uint32(m.Kind))
		w.dump = nil
		a.ready = true
		s.flushAcks(w)
		return nil
	}
	w.dump = &m
	if w.view == nil {
		a.ready = true
		s.flushAcks(w)
		return nil
	}
	id := w.id
	return s.viewErr(w, w.view.SetBuffer(m, func() {
		a.ready = true
		if cur := s.wins[id]; cur == w {
			s.flushAcks(w)
		}
	}))
}

func (s *Session) flushAcks(w *window) {
	for len(w.acks) > 0 && w.acks[0].ready {
		w.acks = w.acks[1:]
		if s.version >= guiproto.VersionWindowDumpAck && !s.ended {
			s.send(w.id, guiproto.WindowDumpAck{})
		}
	}
}

// Closed is xdg_toplevel.close: the user asked to close the window.
func (s *Session) Closed(id uint32) {
	if w := s.wins[id]; w != nil && !s.ended {
		s.send(id, guiproto.Close{})
	}
}

// PopupDismissed: the compositor dismissed a popup (its parent went
// away); the agent keeps its window, which stays hidden until mapped again.
func (s *Session) PopupDismissed(id uint32) {
	if w := s.wins[id]; w != nil && !s.ended {
		s.hide(w)
	}
}

// Input forwards an input event for window id, if the window exists.
// Keyboard focus changes also update the focused toplevel.
func (s *Session) Input(id uint32, m guiproto.Message) {
	w := s.wins[id]
	if s.ended || w == nil || w.view == nil {
		return
	}
	if f, ok := m.(guiproto.Focus); ok {
		if f.Event == guiproto.FocusIn {
			s.focused = id
		} else if s.focused == id {
			s.focused = 0
		}
	}
	if _, ok := m.(guiproto.KeymapNotify); ok {
		id = 0 // the keymap is not about one window
	}
	if s.delay != nil {
		s.delay.input(id, m)
		return
	}
	s.send(id, m)
}

// End destroys every window; the session then ignores all input.
func (s *Session) End() {
	if s.ended {
		return
	}
	s.ended = true // no acks for a dead connection
	s.delay.stop()
	for _, w := range s.wins {
		if w.view != nil && w.parent != 0 {
			s.hide(w) // popups before their parents
		}
	}
	for _, w := range s.wins {
		s.hide(w)
	}
	s.wins = map[uint32]*window{}
}
