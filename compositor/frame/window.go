package frame

import (
	"fmt"

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

// Window is a framed toplevel: Surface carries the frame the trusted side
// paints, Content is a subsurface inset by the frame for the qube's buffer.
type Window struct {
	Surface    *wayland.WlSurface
	XdgSurface *wayland.XdgSurface
	Toplevel   *wayland.XdgToplevel
	Content    *wayland.WlSurface
	Subsurface *wayland.WlSubsurface

	g                     Globals
	style                 Style
	title                 string
	contentW, contentH    int
	buffers               []*frameBuffer
	configured            bool
	serverSideDecorations bool

	// OnConfigure, if set, sees each toplevel configure (suggested size and
	// states) before the window acknowledges it.
	OnConfigure func(wayland.XdgToplevelConfigureEvent)
	// OnClose runs when the compositor asks to close the window.
	OnClose func()
}

type frameBuffer struct {
	mem *wayland.Memfd
	buf *wayland.Buffer
	w   int
	h   int
}

// NewWindow creates the surfaces and roles; the window maps once the
// compositor's first configure arrives and the frame is drawn, and the
// caller attaches content buffers to Content.
func NewWindow(g Globals, o Options) (*Window, error) {
	w := &Window{g: g, style: o.Style, title: o.Title, contentW: o.ContentW, contentH: o.ContentH}
	var err error
	if w.Surface, err = g.Compositor.CreateSurface(); err != nil {
		return nil, err
	}
	if w.Content, err = g.Compositor.CreateSurface(); err != nil {
		return nil, err
	}
	if w.Subsurface, err = g.Subcompositor.GetSubsurface(w.Content, w.Surface); err != nil {
		return nil, err
	}
	// Desynchronized: content commits show up without a frame commit.
	if err := w.Subsurface.SetDesync(); err != nil {
		return nil, err
	}
	if w.XdgSurface, err = g.WmBase.GetXdgSurface(w.Surface); err != nil {
		return nil, err
	}
	if w.Toplevel, err = w.XdgSurface.GetToplevel(); err != nil {
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
		pal, err := g.Palette.Create(w.Surface)
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
			w.serverSideDecorations = ev.Mode == wayland.ZxdgToplevelDecorationV1ModeServerSide
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
	w.XdgSurface.OnConfigure = func(ev wayland.XdgSurfaceConfigureEvent) {
		if err := w.XdgSurface.AckConfigure(ev.Serial); err != nil {
			return
		}
		w.configured = true
		_ = w.Redraw()
	}
	// The initial commit without a buffer asks for the first configure.
	return w, w.Surface.Commit()
}

// ServerSideDecorations reports whether the compositor draws the title bar.
func (w *Window) ServerSideDecorations() bool { return w.serverSideDecorations }

// Style returns the frame style in use: without a title bar when the
// compositor decorates the window.
func (w *Window) Style() Style {
	s := w.style
	if w.serverSideDecorations {
		s.TitleBar = 0
	}
	return s
}

// SetContentSize changes the content size; call Redraw after it.
func (w *Window) SetContentSize(cw, ch int) { w.contentW, w.contentH = cw, ch }

// Redraw paints the frame into a buffer the compositor does not hold
// (allocating one if all are busy), positions the content and commits.
func (w *Window) Redraw() error {
	if !w.configured {
		return nil
	}
	s := w.Style()
	fw, fh := s.Size(w.contentW, w.contentH)
	fb, err := w.freeBuffer(fw, fh)
	if err != nil {
		return err
	}
	img, err := NewXRGB(fb.mem.Data, fw, fh, 4*fw)
	if err != nil {
		return err
	}
	Paint(img, s, w.title)
	l, t, _, _ := s.Insets()
	if err := w.Subsurface.SetPosition(int32(l), int32(t)); err != nil {
		return err
	}
	if err := fb.buf.Attach(w.Surface); err != nil {
		return err
	}
	if err := w.Surface.DamageBuffer(0, 0, int32(fw), int32(fh)); err != nil {
		return err
	}
	return w.Surface.Commit()
}

// freeBuffer returns a released frame buffer of the right size or a new one.
func (w *Window) freeBuffer(fw, fh int) (*frameBuffer, error) {
	kept := w.buffers[:0]
	var found *frameBuffer
	for _, fb := range w.buffers {
		switch {
		case fb.w != fw || fb.h != fh:
			if fb.buf.Busy() {
				kept = append(kept, fb) // destroyed once released, below
				continue
			}
			fb.destroy()
		case found == nil && !fb.buf.Busy():
			found = fb
			kept = append(kept, fb)
		default:
			kept = append(kept, fb)
		}
	}
	w.buffers = kept
	if found != nil {
		return found, nil
	}
	if len(w.buffers) >= 8 {
		return nil, fmt.Errorf("frame: compositor holds all %d frame buffers", len(w.buffers))
	}
	fb, err := newFrameBuffer(w.g.Shm, fw, fh)
	if err != nil {
		return nil, err
	}
	w.buffers = append(w.buffers, fb)
	return fb, nil
}

func newFrameBuffer(shm *wayland.WlShm, fw, fh int) (*frameBuffer, error) {
	size := 4 * fw * fh
	mem, err := wayland.NewMemfd("qube-frame", size)
	if err != nil {
		return nil, err
	}
	pool, err := shm.CreatePool(int(mem.File.Fd()), int32(size))
	if err != nil {
		mem.Close()
		return nil, err
	}
	buf, err := wayland.NewBuffer(pool, 0, int32(fw), int32(fh), int32(4*fw), wayland.WlShmFormatXrgb8888)
	// The buffer keeps the pool's memory alive on the compositor side.
	_ = pool.Destroy()
	if err != nil {
		mem.Close()
		return nil, err
	}
	return &frameBuffer{mem: mem, buf: buf, w: fw, h: fh}, nil
}

func (fb *frameBuffer) destroy() {
	_ = fb.buf.Destroy()
	fb.mem.Close()
}

// Destroy destroys the window's objects and frees its frame buffers.
func (w *Window) Destroy() {
	_ = w.Subsurface.Destroy()
	_ = w.Content.Destroy()
	_ = w.Toplevel.Destroy()
	_ = w.XdgSurface.Destroy()
	_ = w.Surface.Destroy()
	for _, fb := range w.buffers {
		fb.destroy()
	}
	w.buffers = nil
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
