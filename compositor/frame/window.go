package frame

import (
	"fmt"
	"image"

	"github.com/qube-desktop/qube-desktop/compositor/wayland"
)

// Globals are the bound compositor globals a Window needs. Decoration and
// Palette are optional: without Decoration the frame draws its own title
// bar; Palette (KWin) colours KWin's title bar.
type Globals struct {
	Compositor    *wayland.WlCompositor
	Subcompositor *wayland.WlSubcompositor
	Shm           *wayland.WlShm
	WmBase        *wayland.XdgWmBase
	Decoration    *wayland.ZxdgDecorationManagerV1
	Palette       *wayland.OrgKdeKwinServerDecorationPaletteManager
}

// Options describe a new window.
type Options struct {
	Style              Style
	Title              string // shown as is: build it with Title
	AppID              string // "" for none
	Palette            string // KDE colour scheme for KWin's title bar; "" for none
	ContentW, ContentH int
}

// framed is a surface with a frame the trusted side paints and a content
// subsurface inset by it for the qube's buffer. Window and Popup share it.
type framed struct {
	Surface    *wayland.WlSurface
	XdgSurface *wayland.XdgSurface
	Content    *wayland.WlSurface
	Subsurface *wayland.WlSubsurface

	g                  Globals
	style              Style
	ssd                bool // the compositor draws the title bar
	title              string
	contentW, contentH int
	painter            *Painter
	configured         bool
}

func newFramed(g Globals, style Style, title string, cw, ch int) (*framed, error) {
	f := &framed{g: g, style: style, title: title, contentW: cw, contentH: ch, painter: NewPainter(g.Shm)}
	var err error
	if f.Surface, err = g.Compositor.CreateSurface(); err != nil {
		return nil, err
	}
	if f.Content, err = g.Compositor.CreateSurface(); err != nil {
		return nil, err
	}
	if f.Subsurface, err = g.Subcompositor.GetSubsurface(f.Content, f.Surface); err != nil {
		return nil, err
	}
	// Desynchronized: content commits show up without a frame commit.
	if err := f.Subsurface.SetDesync(); err != nil {
		return nil, err
	}
	if f.XdgSurface, err = g.WmBase.GetXdgSurface(f.Surface); err != nil {
		return nil, err
	}
	f.XdgSurface.OnConfigure = func(ev wayland.XdgSurfaceConfigureEvent) {
		if err := f.XdgSurface.AckConfigure(ev.Serial); err != nil {
			return
		}
		f.configured = true
		_ = f.Redraw()
	}
	return f, nil
}

// Configured reports whether the compositor configured the surface, so
// that it shows once drawn.
func (f *framed) Configured() bool { return f.configured }

// Style returns the frame style in use: without a title bar when the
// compositor decorates the window.
func (f *framed) Style() Style {
	s := f.style
	if f.ssd {
		s.TitleBar = 0
	}
	return s
}

func (f *framed) parent() (*wayland.XdgSurface, Style) { return f.XdgSurface, f.Style() }

// SetContentSize changes the content size; call Redraw after it.
func (f *framed) SetContentSize(cw, ch int) { f.contentW, f.contentH = cw, ch }

// SetContent attaches buf to the content surface, damages the given
// rectangles (buffer coordinates; all of it when none) and commits. buf
// must be exactly the content size: a subsurface is not clipped by its
// parent, so a larger buffer would cover the frame.
func (f *framed) SetContent(buf *wayland.Buffer, damage ...image.Rectangle) error {
	if int(buf.Width) != f.contentW || int(buf.Height) != f.contentH {
		return fmt.Errorf("frame: content buffer is %dx%d, the window content %dx%d", buf.Width, buf.Height, f.contentW, f.contentH)
	}
	if err := buf.Attach(f.Content); err != nil {
		return err
	}
	if len(damage) == 0 {
		damage = []image.Rectangle{image.Rect(0, 0, f.contentW, f.contentH)}
	}
	for _, r := range damage {
		if err := f.Content.DamageBuffer(int32(r.Min.X), int32(r.Min.Y), int32(r.Dx()), int32(r.Dy())); err != nil {
			return err
		}
	}
	return f.Content.Commit()
}

// Redraw paints the frame into a buffer the compositor does not hold,
// positions the content and commits. Before the first configure it does
// nothing.
func (f *framed) Redraw() error {
	if !f.configured {
		return nil
	}
	s := f.Style()
	fw, fh := s.Size(f.contentW, f.contentH)
	l, t, _, _ := s.Insets()
	// Both are applied by the commit that Paint makes.
	if err := f.Subsurface.SetPosition(int32(l), int32(t)); err != nil {
		return err
	}
	if err := f.XdgSurface.SetWindowGeometry(0, 0, int32(fw), int32(fh)); err != nil {
		return err
	}
	return f.painter.Paint(f.Surface, fw, fh, s, f.title)
}

// destroy destroys the surfaces after the role object is gone.
func (f *framed) destroy() {
	_ = f.Subsurface.Destroy()
	_ = f.Content.Destroy()
	_ = f.XdgSurface.Destroy()
	_ = f.Surface.Destroy()
	f.painter.Destroy()
}

// Window is a framed xdg_toplevel.
type Window struct {
	*framed
	Toplevel *wayland.XdgToplevel

	// OnConfigure, if set, sees each toplevel configure (suggested size and
	// states) before the window acknowledges it.
	OnConfigure func(wayland.XdgToplevelConfigureEvent)
	// OnClose runs when the compositor asks to close the window.
	OnClose func()
}

// NewWindow creates the surfaces and roles; the window maps once the
// compositor's first configure arrives and the frame is drawn. Show qube
// pixels with SetContent.
func NewWindow(g Globals, o Options) (*Window, error) {
	f, err := newFramed(g, o.Style, o.Title, o.ContentW, o.ContentH)
	if err != nil {
		return nil, err
	}
	w := &Window{framed: f}
	if w.Toplevel, err = f.XdgSurface.GetToplevel(); err != nil {
		return nil, err
	}
	if err := w.Toplevel.SetTitle(o.Title); err != nil {
		return nil, err
	}
	if o.AppID != "" {
		if err := w.Toplevel.SetAppId(o.AppID); err != nil {
			return nil, err
		}
	}
	if g.Palette != nil && o.Palette != "" {
		pal, err := g.Palette.Create(f.Surface)
		if err != nil {
			return nil, err
		}
		if err := pal.SetPalette(o.Palette); err != nil {
			return nil, err
		}
	}
	if g.Decoration != nil {
		deco, err := g.Decoration.GetToplevelDecoration(w.Toplevel)
		if err != nil {
			return nil, err
		}
		deco.OnConfigure = func(ev wayland.ZxdgToplevelDecorationV1ConfigureEvent) {
			f.ssd = ev.Mode == wayland.ZxdgToplevelDecorationV1ModeServerSide
		}
		if err := deco.SetMode(wayland.ZxdgToplevelDecorationV1ModeServerSide); err != nil {
			return nil, err
		}
	}
	w.Toplevel.OnConfigure = func(ev wayland.XdgToplevelConfigureEvent) {
		if w.OnConfigure != nil {
			w.OnConfigure(ev)
		}
	}
	w.Toplevel.OnClose = func(wayland.XdgToplevelCloseEvent) {
		if w.OnClose != nil {
			w.OnClose()
		}
	}
	// The initial commit without a buffer asks for the first configure.
	return w, f.Surface.Commit()
}

// SetTitle changes the title the compositor shows (xdg_toplevel) and, when
// the frame draws the title bar, repaints it.
func (w *Window) SetTitle(title string) error {
	if err := w.Toplevel.SetTitle(title); err != nil {
		return err
	}
	if title == w.title {
		return nil
	}
	w.title = title
	if w.Style().TitleBar == 0 {
		return nil
	}
	return w.Redraw()
}

// ServerSideDecorations reports whether the compositor draws the title bar.
func (w *Window) ServerSideDecorations() bool { return w.ssd }

// Destroy destroys the window's objects and frees its frame buffers.
func (w *Window) Destroy() {
	_ = w.Toplevel.Destroy()
	w.destroy()
}

// Parent is a Window or Popup that popups can attach to.
type Parent interface {
	parent() (*wayland.XdgSurface, Style)
}

// PopupOptions place a popup: X, Y is where its content's top-left corner
// goes, relative to the parent's content. The compositor slides the popup
// to keep it on the output.
type PopupOptions struct {
	Style              Style // TitleBar is ignored
	X, Y               int
	ContentW, ContentH int
}

// Popup is a framed xdg_popup, for override-redirect windows.
type Popup struct {
	*framed
	Popup *wayland.XdgPopup

	// OnDone runs when the compositor dismisses the popup.
	OnDone func()
}

// NewPopup creates a popup of parent; it maps after the first configure.
func NewPopup(g Globals, parent Parent, o PopupOptions) (*Popup, error) {
	o.Style.TitleBar = 0
	f, err := newFramed(g, o.Style, "", o.ContentW, o.ContentH)
	if err != nil {
		return nil, err
	}
	pxdg, pstyle := parent.parent()
	pos, err := g.WmBase.CreatePositioner()
	if err != nil {
		return nil, err
	}
	defer pos.Destroy()
	fw, fh := o.Style.Size(o.ContentW, o.ContentH)
	pl, pt, _, _ := pstyle.Insets()
	steps := []func() error{
		func() error { return pos.SetSize(int32(fw), int32(fh)) },
		func() error {
			return pos.SetAnchorRect(int32(pl+o.X-o.Style.Border), int32(pt+o.Y-o.Style.Border), 1, 1)
		},
		func() error { return pos.SetAnchor(wayland.XdgPositionerAnchorTopLeft) },
		func() error { return pos.SetGravity(wayland.XdgPositionerGravityBottomRight) },
		func() error {
			return pos.SetConstraintAdjustment(uint32(wayland.XdgPositionerConstraintAdjustmentSlideX |
				wayland.XdgPositionerConstraintAdjustmentSlideY))
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	p := &Popup{framed: f}
	if p.Popup, err = f.XdgSurface.GetPopup(pxdg, pos); err != nil {
		return nil, err
	}
	p.Popup.OnPopupDone = func(wayland.XdgPopupPopupDoneEvent) {
		if p.OnDone != nil {
			p.OnDone()
		}
	}
	return p, f.Surface.Commit()
}

// Destroy destroys the popup's objects and frees its frame buffers.
func (p *Popup) Destroy() {
	_ = p.Popup.Destroy()
	p.destroy()
}

// BindGlobals binds the globals a Window needs (the decoration manager only
// if offered) and answers xdg_wm_base pings so the compositor never
// considers the client unresponsive.
func BindGlobals(c *wayland.Client) (Globals, error) {
	g := Globals{
		Compositor:    new(wayland.WlCompositor),
		Subcompositor: new(wayland.WlSubcompositor),
		Shm:           new(wayland.WlShm),
		WmBase:        new(wayland.XdgWmBase),
	}
	for _, b := range []struct {
		obj     wayland.Object
		version uint32
	}{{g.Compositor, 4}, {g.Subcompositor, 1}, {g.Shm, 1}, {g.WmBase, 3}} {
		if err := c.Bind(b.obj, b.version); err != nil {
			return Globals{}, err
		}
	}
	wm := g.WmBase
	wm.OnPing = func(ev wayland.XdgWmBasePingEvent) { _ = wm.Pong(ev.Serial) }
	deco := new(wayland.ZxdgDecorationManagerV1)
	if err := c.Bind(deco, 1); err == nil {
		g.Decoration = deco
	}
	pal := new(wayland.OrgKdeKwinServerDecorationPaletteManager)
	if err := c.Bind(pal, 1); err == nil {
		g.Palette = pal
	}
	return g, nil
}
