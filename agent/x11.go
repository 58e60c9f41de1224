package agent

import (
	"errors"
	"fmt"
	"sort"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/composite"
	"github.com/jezek/xgb/damage"
	"github.com/jezek/xgb/shm"
	"github.com/jezek/xgb/xfixes"
	"github.com/jezek/xgb/xproto"
	"github.com/jezek/xgb/xtest"
)

// Rect is a rectangle in window-relative pixels.
type Rect struct{ X, Y, W, H int }

// SizeHints is WM_NORMAL_HINTS as the protocol's WINDOW_HINTS carries it.
type SizeHints struct {
	Flags                  uint32 // ICCCM bits: PMinSize 16, PMaxSize 32, ...
	MinW, MinH, MaxW, MaxH uint32
	IncW, IncH             uint32
	BaseW, BaseH           uint32
}

// Window is what the agent knows about one top-level X window.
type Window struct {
	ID               xproto.Window
	X, Y             int // outer corner, root coordinates
	W, H             int // inside size
	Border           int
	OverrideRedirect bool
	Mapped           bool
	Docked           bool // a tray icon (XEmbed)

	Name            string // UTF-8, from _NET_WM_NAME or WM_NAME
	Class, Instance string // WM_CLASS res_class, res_name
	Hints           SizeHints
	TransientFor    xproto.Window
	AcceptsFocus    bool // WM_HINTS input field (true when absent)
	Urgent          bool // WM_HINTS UrgencyHint
	TakeFocus       bool // WM_PROTOCOLS has WM_TAKE_FOCUS
	DeleteWindow    bool // WM_PROTOCOLS has WM_DELETE_WINDOW

	Fullscreen, DemandsAttention, Hidden bool // _NET_WM_STATE

	damage damage.Damage
	pixmap xproto.Pixmap // Composite backing pixmap while mapped, or 0
}

// Prop names a group of window properties that changed.
type Prop int

// Property groups reported by PropertyChanged.
const (
	PropName Prop = iota
	PropClass
	PropHints
	PropFlags // _NET_WM_STATE or the WM_HINTS urgency bit
	PropTransient
	PropProtocols
)

// Change is what one X event meant for the tracked windows; the session
// turns Changes into protocol messages.
type Change interface{ isChange() }

// Changes reported by Handle.
type (
	Created    struct{ W *Window }
	Destroyed  struct{ ID xproto.Window }
	Mapped     struct{ W *Window }
	Unmapped   struct{ W *Window }
	Configured struct {
		W       *Window
		Resized bool
	}
	PropertyChanged struct {
		W    *Window
		What Prop
	}
	// Damaged says win has new damage; TakeDamage fetches it. Damage
	// reports only the first change until then, which bounds the events
	// an application drawing fast can cause.
	Damaged struct{ W *Window }
	// ClipboardConverted ends a RequestClipboard: the selection's text,
	// already cut to the limit (Truncated tells whether it was longer).
	ClipboardConverted struct {
		Data      []byte
		Truncated bool
	}
)

func (Created) isChange()            {}
func (Destroyed) isChange()          {}
func (Mapped) isChange()             {}
func (Unmapped) isChange()           {}
func (Configured) isChange()         {}
func (PropertyChanged) isChange()    {}
func (Damaged) isChange()            {}
func (ClipboardConverted) isChange() {}

// X is the agent's connection to the qube's X server. Everything except
// NextEvent must be called from one goroutine (the session's).
type X struct {
	conn  *xgb.Conn
	fc    *fdConn // nil when fds cannot be passed
	root  xproto.Window
	stub  xproto.Window // owns selections, receives conversions
	atoms atoms

	windows map[xproto.Window]*Window

	dmgParts xfixes.Region // scratch region for TakeDamage

	shmSeg  shm.Seg
	shmBase uint64 // region size, for bounds; 0 = no MIT-SHM
	clip    clipboard
}

// OpenX connects to display, redirects all top-level windows with
// Composite and starts tracking them.
func OpenX(display string) (*X, error) {
	c, fc, err := dialX(display)
	if err != nil {
		return nil, err
	}
	x := &X{conn: c, fc: fc, windows: map[xproto.Window]*Window{}}
	if err := x.init(); err != nil {
		c.Close()
		return nil, err
	}
	return x, nil
}

func (x *X) init() error {
	c := x.conn
	for _, e := range []struct {
		name string
		init func(*xgb.Conn) error
	}{{"Composite", composite.Init}, {"DAMAGE", damage.Init}, {"XFIXES", xfixes.Init}, {"XTEST", xtest.Init}} {
		if err := e.init(c); err != nil {
			return fmt.Errorf("X server lacks the %s extension the agent needs: %w", e.name, err)
		}
	}
	if _, err := composite.QueryVersion(c, 0, 4).Reply(); err != nil {
		return fmt.Errorf("query the Composite version: %w", err)
	}
	if _, err := damage.QueryVersion(c, 1, 1).Reply(); err != nil {
		return fmt.Errorf("query the DAMAGE version: %w", err)
	}
	if _, err := xfixes.QueryVersion(c, 5, 0).Reply(); err != nil {
		return fmt.Errorf("query the XFIXES version: %w", err)
	}
	if _, err := xtest.GetVersion(c, 2, 2).Reply(); err != nil {
		return fmt.Errorf("query the XTEST version: %w", err)
	}
	scr := xproto.Setup(c).DefaultScreen(c)
	x.root = scr.Root
	err := x.atoms.intern(c, int(c.DefaultScreen))
	if err != nil {
		return err
	}
	if x.dmgParts, err = xfixes.NewRegionId(c); err != nil {
		return err
	}
	if err := xfixes.CreateRegionChecked(c, x.dmgParts, nil).Check(); err != nil {
		return fmt.Errorf("create an XFIXES region: %w", err)
	}
	stub, err := xproto.NewWindowId(c)
	if err != nil {
		return err
	}
	if err := xproto.CreateWindowChecked(c, 0, stub, x.root, -1, -1, 1, 1, 0,
		xproto.WindowClassInputOnly, 0, 0,
		nil).Check(); err != nil {
		return fmt.Errorf("create the agent's selection window: %w", err)
	}
	x.stub = stub
	// Select on the root before listing its children so no window is missed.
	if err := xproto.ChangeWindowAttributesChecked(c, x.root, xproto.CwEventMask,
		[]uint32{xproto.EventMaskSubstructureNotify}).Check(); err != nil {
		return fmt.Errorf("watch the root window: %w", err)
	}
	if err := x.becomeTray(); err != nil {
		return err
	}
	if err := xfixes.SelectCursorInputChecked(c, x.root, xfixes.CursorNotifyMaskDisplayCursor).Check(); err != nil {
		return fmt.Errorf("watch the cursor with XFIXES: %w", err)
	}
	if err := composite.RedirectSubwindowsChecked(c, x.root, composite.RedirectAutomatic).Check(); err != nil {
		return fmt.Errorf("redirect windows with Composite: %w", err)
	}
	tree, err := xproto.QueryTree(c, x.root).Reply()
	if err != nil {
		return fmt.Errorf("list top-level windows: %w", err)
	}
	for _, w := range tree.Children {
		if w == x.stub {
			continue
		}
		g, err := xproto.GetGeometry(c, xproto.Drawable(w)).Reply()
		if err != nil {
			continue // gone meanwhile
		}
		a, err := xproto.GetWindowAttributes(c, w).Reply()
		if err != nil {
			continue
		}
		x.track(w, int(g.X), int(g.Y), int(g.Width), int(g.Height), int(g.BorderWidth), a.OverrideRedirect)
		if win := x.windows[w]; win != nil && a.MapState != xproto.MapStateUnmapped {
			win.Mapped = true
			x.namePixmap(win)
		}
	}
	return nil
}

// Close disconnects from the X server.
func (x *X) Close() { x.conn.Close() }

// NextEvent blocks for the next X event; run it in its own goroutine and
// hand the events to Handle. It returns (nil, nil) when the connection ends.
func (x *X) NextEvent() (xgb.Event, xgb.Error) { return x.conn.WaitForEvent() }

// Windows lists the tracked windows in ID order.
func (x *X) Windows() []*Window {
	ws := make([]*Window, 0, len(x.windows))
	for _, w := range x.windows {
		ws = append(ws, w)
	}
	sort.Slice(ws, func(i, j int) bool { return ws[i].ID < ws[j].ID })
	return ws
}

// Window returns the tracked window id, or nil.
func (x *X) Window(id xproto.Window) *Window { return x.windows[id] }

// track starts following a new top-level window. InputOnly windows have no
// pixels and are not forwarded.
func (x *X) track(id xproto.Window, px, py, w, h, bw int, or bool) *Window {
	if id == x.stub || x.windows[id] != nil {
		return nil
	}
	c := x.conn
	a, err := xproto.GetWindowAttributes(c, id).Reply()
	if err != nil || a.Class == xproto.WindowClassInputOnly {
		return nil
	}
	if err := xproto.ChangeWindowAttributesChecked(c, id, xproto.CwEventMask,
		[]uint32{xproto.EventMaskPropertyChange}).Check(); err != nil {
		return nil
	}
	dmg, err := damage.NewDamageId(c)
	if err != nil {
		return nil
	}
	if err := damage.CreateChecked(c, dmg, xproto.Drawable(id), damage.ReportLevelNonEmpty).Check(); err != nil {
		return nil
	}
	win := &Window{ID: id, X: px, Y: py, W: w, H: h, Border: bw, OverrideRedirect: or, damage: dmg, AcceptsFocus: true}
	x.windows[id] = win
	for _, p := range []Prop{PropName, PropClass, PropHints, PropFlags, PropTransient, PropProtocols} {
		x.readProp(win, p)
	}
	return win
}

func (x *X) untrack(win *Window) {
	delete(x.windows, win.ID)
	damage.Destroy(x.conn, win.damage) // errors if the window is gone; harmless
	x.freePixmap(win)
}

// namePixmap fetches the window's current Composite backing pixmap; it
// changes on every map and resize.
func (x *X) namePixmap(win *Window) {
	x.freePixmap(win)
	p, err := xproto.NewPixmapId(x.conn)
	if err != nil {
		return
	}
	if composite.NameWindowPixmapChecked(x.conn, win.ID, p).Check() == nil {
		win.pixmap = p
	}
}

func (x *X) freePixmap(win *Window) {
	if win.pixmap != 0 {
		xproto.FreePixmap(x.conn, win.pixmap)
		win.pixmap = 0
	}
}

// Handle applies one X event to the window table and says what changed.
func (x *X) Handle(ev xgb.Event) []Change {
	switch e := ev.(type) {
	case xproto.CreateNotifyEvent:
		if e.Parent != x.root {
			return nil
		}
		if w := x.track(e.Window, int(e.X), int(e.Y), int(e.Width), int(e.Height), int(e.BorderWidth), e.OverrideRedirect); w != nil {
			return []Change{Created{w}}
		}
	case xproto.DestroyNotifyEvent:
		if w := x.windows[e.Window]; w != nil && e.Event == x.root {
			x.untrack(w)
			return []Change{Destroyed{w.ID}}
		}
	case xproto.ReparentNotifyEvent:
		w := x.windows[e.Window]
		switch {
		case w != nil && e.Parent != x.root:
			x.untrack(w)
			return []Change{Destroyed{w.ID}}
		case w == nil && e.Parent == x.root:
			g, err := xproto.GetGeometry(x.conn, xproto.Drawable(e.Window)).Reply()
			if err != nil {
				return nil
			}
			if w := x.track(e.Window, int(e.X), int(e.Y), int(g.Width), int(g.Height), int(g.BorderWidth), e.OverrideRedirect); w != nil {
				return []Change{Created{w}}
			}
		}
	case xproto.MapNotifyEvent:
		if w := x.windows[e.Window]; w != nil && e.Event == x.root {
			w.Mapped = true
			w.OverrideRedirect = e.OverrideRedirect
			x.namePixmap(w)
			return []Change{Mapped{w}}
		}
	case xproto.UnmapNotifyEvent:
		if w := x.windows[e.Window]; w != nil && e.Event == x.root {
			w.Mapped = false
			x.freePixmap(w)
			return []Change{Unmapped{w}}
		}
	case xproto.ConfigureNotifyEvent:
		w := x.windows[e.Window]
		if w == nil || e.Event != x.root {
			return nil
		}
		resized := int(e.Width) != w.W || int(e.Height) != w.H || int(e.BorderWidth) != w.Border
		w.X, w.Y, w.W, w.H, w.Border = int(e.X), int(e.Y), int(e.Width), int(e.Height), int(e.BorderWidth)
		w.OverrideRedirect = e.OverrideRedirect
		if resized && w.Mapped {
			x.namePixmap(w)
		}
		return []Change{Configured{w, resized}}
	case xproto.PropertyNotifyEvent:
		if w := x.windows[e.Window]; w != nil {
			if p, ok := x.atoms.propOf(e.Atom); ok {
				x.readProp(w, p)
				return []Change{PropertyChanged{w, p}}
			}
		}
	case damage.NotifyEvent:
		if w := x.windows[xproto.Window(e.Drawable)]; w != nil {
			return []Change{Damaged{w}}
		}
	case xfixes.CursorNotifyEvent:
		return []Change{CursorChanged{cursorID(x.cursorName(e.Name))}}
	case xproto.ClientMessageEvent:
		switch {
		case e.Format != 32:
		case e.Type == x.atoms.netWMState:
			x.netWMStateRequest(e)
		case e.Type == x.atoms.trayOpcode && e.Window == x.stub:
			return x.trayRequest(e)
		}
	case xproto.SelectionNotifyEvent:
		return x.clipNotify(e)
	case xproto.SelectionRequestEvent:
		x.clipServe(e)
	case xproto.SelectionClearEvent:
		x.clipClear(e)
	}
	return nil
}

// errGone marks requests on windows that no longer exist or are unmapped.
var errGone = errors.New("window is not mapped")

// TakeDamage returns the rectangles of win damaged since the last call
// (window coordinates) and clears them, re-arming the Damaged report.
// It must follow every Damaged, or the window reports no more damage.
func (x *X) TakeDamage(win *Window) ([]Rect, error) { return x.requestDamage(win).rects(nil) }

// pendingDamage is a TakeDamage whose requests are sent and whose replies
// are still to come, so that several windows cost one round trip.
type pendingDamage struct {
	win      *Window
	subtract *xgb.Cookie
	fetch    xfixes.FetchRegionCookie
}

// requestDamage sends DamageSubtract and FetchRegion back to back: the
// FetchRegion reply also settles the subtract (xgb pings a checked request
// once a later reply arrives), so no sync round trip is needed. The
// scratch region is shared, but the server runs each pair in order.
func (x *X) requestDamage(win *Window) pendingDamage {
	return pendingDamage{win: win, subtract: damage.SubtractChecked(x.conn, win.damage, 0, x.dmgParts).Cookie,
		fetch: xfixes.FetchRegion(x.conn, x.dmgParts)}
}

// rects waits for the damage and appends its rectangles to dst.
func (p pendingDamage) rects(dst []Rect) ([]Rect, error) {
	r, ferr := p.fetch.Reply()
	if err := p.subtract.Check(); err != nil {
		return dst, fmt.Errorf("take the damage of window %#x: %w", p.win.ID, err)
	}
	if ferr != nil {
		return dst, fmt.Errorf("fetch the damage of window %#x: %w", p.win.ID, ferr)
	}
	for _, q := range r.Rectangles {
		dst = append(dst, Rect{int(q.X), int(q.Y), int(q.Width), int(q.Height)})
	}
	return dst, nil
}
