package guid

import (
	"encoding/binary"
	"fmt"
	"image/color"
	"math"
	"strings"
	"time"

	"github.com/qube-desktop/qube-desktop/assets/colorschemes"
	"github.com/qube-desktop/qube-desktop/compositor/frame"
	"github.com/qube-desktop/qube-desktop/compositor/wayland"
	"github.com/qube-desktop/qube-desktop/internal/guiproto"
)

// PopupBorder is the frame of an override-redirect window (BORDER_WIDTH).
const PopupBorder = 2

// maxRetired bounds the replaced buffers a view waits on.
const maxRetired = 16

// Handler receives what the compositor reports about views; Session
// implements it.
type Handler interface {
	Configured(id uint32, w, h int)
	StateChanged(id uint32, fullscreen, maximized bool)
	Closed(id uint32)
	PopupDismissed(id uint32)
	Input(id uint32, m guiproto.Message)
}

// WaylandDisplay shows a qube's windows on a compositor. Every qube buffer
// is a wl_buffer in one wl_shm pool made from the qube's shared region:
// the compositor reads the qube's pixels where the agent wrote them.
type WaylandDisplay struct {
	c        *wayland.Client
	g        frame.Globals
	pool     *wayland.WlShmPool
	style    frame.Style
	palette  string
	outW     int
	outH     int
	handler  Handler
	surfaces map[*wayland.WlSurface]surfaceRef
	seat     *seat
	stopped  chan struct{} // closed when the event loop no longer runs
}

// surfaceRef says which view a surface belongs to and whether it is the
// qube's content (input goes to the qube) or the trusted frame.
type surfaceRef struct {
	v       *wlView
	content bool
}

// DisplayOptions style a qube's windows.
type DisplayOptions struct {
	Label    color.RGBA
	Border   int    // frame width of toplevels
	TitleBar int    // height of the self-drawn title bar
	Palette  string // KDE colour scheme for KWin's title bar, "" for the label's
}

// NewWaylandDisplay binds the globals it needs on c and makes the wl_shm
// pool from the region's file descriptor. c's event loop must run on the
// caller's goroutine afterwards.
func NewWaylandDisplay(c *wayland.Client, regionFd int, regionSize int, o DisplayOptions) (*WaylandDisplay, error) {
	if regionSize <= 0 || regionSize > math.MaxInt32 {
		return nil, fmt.Errorf("region of %d bytes: wl_shm pools hold at most %d bytes", regionSize, math.MaxInt32)
	}
	g, err := frame.BindGlobals(c)
	if err != nil {
		return nil, err
	}
	palette := o.Palette
	if palette == "" && g.Palette != nil {
		// KWin reads a scheme by absolute path: give it the label's.
		if palette, err = colorschemes.InstallRuntime(o.Label); err != nil {
			return nil, fmt.Errorf("KWin title-bar colours: %w", err)
		}
	}
	d := &WaylandDisplay{
		c: c, g: g, style: frame.Style{Border: o.Border, TitleBar: o.TitleBar, Label: o.Label},
		palette: palette, outW: 1920, outH: 1080, surfaces: map[*wayland.WlSurface]surfaceRef{},
		stopped: make(chan struct{}),
	}
	if d.pool, err = g.Shm.CreatePool(regionFd, int32(regionSize)); err != nil {
		return nil, err
	}
	out := new(wayland.WlOutput)
	if err := c.Bind(out, 2); err == nil {
		out.OnMode = func(ev wayland.WlOutputModeEvent) {
			if ev.Flags&wayland.WlOutputModeCurrent != 0 && ev.Width > 0 && ev.Height > 0 {
				d.outW, d.outH = int(ev.Width), int(ev.Height)
			}
		}
	}
	if err := d.bindSeat(); err != nil {
		return nil, err
	}
	return d, c.Roundtrip()
}

// SetHandler directs compositor reports to h (the current session).
func (d *WaylandDisplay) SetHandler(h Handler) { d.handler = h }

// clampSize keeps a view between 1×1 and the output: the guid paints a
// frame buffer of the whole window, which a qube must not make huge.
func (d *WaylandDisplay) clampSize(w, h int) (int, int) {
	return min(max(w, 1), d.outW), min(max(h, 1), d.outH)
}

// OutputSize implements Display.
func (d *WaylandDisplay) OutputSize() (int, int) { return d.outW, d.outH }

// wlView is a toplevel (top != nil) or a popup.
type wlView struct {
	d  *WaylandDisplay
	id uint32

	top *frame.Window // toplevel

	surface *wayland.WlSurface // popup frame surface
	xdg     *wayland.XdgSurface
	popup   *wayland.XdgPopup
	parent  *wlView
	relX    int // content position relative to the parent's content
	relY    int
	sub     *wayland.WlSubsurface
	painter *frame.Painter

	content *wayland.WlSurface
	cw, ch  int // content size: the agent's, or the compositor's for toplevels
	popW    int // popup size the compositor configured, 0 before
	popH    int

	dump    *guiproto.WindowDump
	buf     *wayland.Buffer
	retired []*retired
	states  struct{ fullscreen, maximized bool }

	redrawWaiting bool      // a frame repaint waits for a buffer (toplevels)
	waiting       []*wlView // popups placed at this toplevel's first configure
	destroyed     bool
}

type retired struct {
	b        *wayland.Buffer
	released func()
}

// NewView implements Display.
func (d *WaylandDisplay) NewView(s ViewSpec) (View, error) {
	cw, ch := d.clampSize(s.Width, s.Height)
	v := &wlView{d: d, id: s.ID, cw: cw, ch: ch}
	if s.Parent != nil {
		if p, ok := s.Parent.(*wlView); ok {
			return v, v.initPopup(p, s)
		}
	}
	return v, v.initToplevel(s)
}

func (v *wlView) initToplevel(s ViewSpec) error {
	d := v.d
	w, err := frame.NewWindow(d.g, frame.Options{
		Style: d.style, Title: s.Title, AppID: s.AppID, Palette: d.palette, ContentW: v.cw, ContentH: v.ch,
	})
	if err != nil {
		return err
	}
	v.top, v.content = w, w.Content
	d.surfaces[w.Surface] = surfaceRef{v: v}
	d.surfaces[w.Content] = surfaceRef{v: v, content: true}
	var size struct{ w, h int32 }
	w.OnConfigure = func(ev wayland.XdgToplevelConfigureEvent) {
		size.w, size.h = ev.Width, ev.Height
		v.states.fullscreen, v.states.maximized = false, false
		for i := 0; i+4 <= len(ev.States); i += 4 {
			switch wayland.XdgToplevelState(binary.LittleEndian.Uint32(ev.States[i:])) {
			case wayland.XdgToplevelStateFullscreen:
				v.states.fullscreen = true
			case wayland.XdgToplevelStateMaximized:
				v.states.maximized = true
			}
		}
	}
	w.OnClose = func() { d.handler.Closed(v.id) }
	ack := w.XdgSurface.OnConfigure
	// The toplevel's size is applied when its xdg_surface configure
	// arrives, after the decoration mode is known.
	w.XdgSurface.OnConfigure = func(ev wayland.XdgSurfaceConfigureEvent) {
		l, t, r, b := w.Style().Insets()
		cw, ch := int(size.w)-l-r, int(size.h)-t-b
		changed := size.w > 0 && size.h > 0 && cw > 0 && ch > 0 && (cw != v.cw || ch != v.ch)
		if changed {
			v.cw, v.ch = cw, ch
			w.SetContentSize(cw, ch)
		}
		ack(ev)
		v.placeWaiting()
		if changed {
			_ = v.rebuild()
			d.handler.Configured(v.id, cw, ch)
		}
		d.handler.StateChanged(v.id, v.states.fullscreen, v.states.maximized)
	}
	return nil
}

func (v *wlView) initPopup(p *wlView, s ViewSpec) error {
	d := v.d
	var err error
	if v.surface, err = d.g.Compositor.CreateSurface(); err != nil {
		return err
	}
	if v.content, err = d.g.Compositor.CreateSurface(); err != nil {
		return err
	}
	if v.sub, err = d.g.Subcompositor.GetSubsurface(v.content, v.surface); err != nil {
		return err
	}
	if err := v.sub.SetPosition(PopupBorder, PopupBorder); err != nil {
		return err
	}
	if err := v.sub.SetDesync(); err != nil {
		return err
	}
	if v.xdg, err = d.g.WmBase.GetXdgSurface(v.surface); err != nil {
		return err
	}
	v.painter = frame.NewPainter(d.g.Shm)
	v.parent, v.relX, v.relY = p, s.X, s.Y
	if !p.placed() {
		// A toplevel's insets are known only at its first configure
		// (server-side decorations drop the guid's title bar): a popup
		// placed before could land a title bar's height off.
		p.waiting = append(p.waiting, v)
		return nil
	}
	return v.place()
}

// placed reports whether popups can be placed in v: a toplevel after its
// first configure, a popup once it has its role.
func (v *wlView) placed() bool {
	if v.top != nil {
		return v.top.Configured()
	}
	return v.popup != nil
}

// placeWaiting places the popups that waited for v.
func (v *wlView) placeWaiting() {
	waiting := v.waiting
	v.waiting = nil
	for _, c := range waiting {
		if !c.destroyed {
			_ = c.place()
		}
	}
}

// place gives the popup its xdg_popup role at its position in the parent.
func (v *wlView) place() error {
	d, p := v.d, v.parent
	pos, err := v.positioner()
	if err != nil {
		return err
	}
	v.popup, err = v.xdg.GetPopup(p.xdgSurface(), pos)
	_ = pos.Destroy()
	if err != nil {
		return err
	}
	d.surfaces[v.surface] = surfaceRef{v: v}
	d.surfaces[v.content] = surfaceRef{v: v, content: true}
	v.popup.OnConfigure = func(ev wayland.XdgPopupConfigureEvent) {
		v.popW, v.popH = int(ev.Width), int(ev.Height)
	}
	v.popup.OnPopupDone = func(wayland.XdgPopupPopupDoneEvent) { d.handler.PopupDismissed(v.id) }
	v.xdg.OnConfigure = func(ev wayland.XdgSurfaceConfigureEvent) {
		if v.xdg.AckConfigure(ev.Serial) != nil {
			return
		}
		_ = v.paintPopupFrame()
		_ = v.rebuild()
	}
	if err := v.surface.Commit(); err != nil {
		return err
	}
	v.placeWaiting()
	return nil
}

// positioner places the popup's content where the qube put it relative to
// the parent's content, the anchor kept inside the parent; the compositor
// slides or shrinks the popup to keep it on the output.
func (v *wlView) positioner() (*wayland.XdgPositioner, error) {
	pos, err := v.d.g.WmBase.CreatePositioner()
	if err != nil {
		return nil, err
	}
	ox, oy, pw, ph := v.parent.geometry()
	ax := min(max(ox+v.relX-PopupBorder, 0), pw-1)
	ay := min(max(oy+v.relY-PopupBorder, 0), ph-1)
	for _, err := range []error{
		pos.SetSize(int32(v.cw+2*PopupBorder), int32(v.ch+2*PopupBorder)),
		pos.SetAnchorRect(int32(ax), int32(ay), 1, 1),
		pos.SetAnchor(wayland.XdgPositionerAnchorTopLeft),
		pos.SetGravity(wayland.XdgPositionerGravityBottomRight),
		pos.SetConstraintAdjustment(uint32(wayland.XdgPositionerConstraintAdjustmentSlideX |
			wayland.XdgPositionerConstraintAdjustmentSlideY | wayland.XdgPositionerConstraintAdjustmentResizeX |
			wayland.XdgPositionerConstraintAdjustmentResizeY)),
	} {
		if err != nil {
			_ = pos.Destroy()
			return nil, err
		}
	}
	return pos, nil
}

// geometry returns the content origin and the window geometry's size.
func (v *wlView) geometry() (ox, oy, w, h int) {
	if v.top != nil {
		l, t, _, _ := v.top.Style().Insets()
		fw, fh := v.top.Style().Size(v.cw, v.ch)
		return l, t, fw, fh
	}
	w, h = v.popupSize()
	return PopupBorder, PopupBorder, w, h
}

func (v *wlView) popupSize() (int, int) {
	if v.popW > 0 && v.popH > 0 {
		return v.popW, v.popH
	}
	return v.cw + 2*PopupBorder, v.ch + 2*PopupBorder
}

func (v *wlView) xdgSurface() *wayland.XdgSurface {
	if v.top != nil {
		return v.top.XdgSurface
	}
	return v.xdg
}

// visible is the part of the content the window shows: the content size,
// or for a popup what fits inside the frame the compositor allowed.
func (v *wlView) visible() (int, int) {
	if v.top != nil {
		return v.cw, v.ch
	}
	pw, ph := v.popupSize()
	return min(v.cw, pw-2*PopupBorder), min(v.ch, ph-2*PopupBorder)
}

// paintPopupFrame fills the popup surface with the label colour; the
// content subsurface covers all of it but the 2-px frame.
func (v *wlView) paintPopupFrame() error {
	pw, ph := v.popupSize()
	return v.painter.Paint(v.surface, pw, ph, frame.Style{Border: PopupBorder, Label: v.d.style.Label}, "")
}

// SetBuffer implements View.
func (v *wlView) SetBuffer(d guiproto.WindowDump, released func()) error {
	v.dump = &d
	old := v.buf
	v.buf = nil
	if old != nil {
		v.retire(old, released)
	} else {
		released()
	}
	return v.rebuild()
}

// retire destroys a replaced buffer once the compositor let go of it.
func (v *wlView) retire(b *wayland.Buffer, released func()) {
	if !b.Busy() {
		_ = b.Destroy()
		released()
		return
	}
	if len(v.retired) >= maxRetired {
		// An agent replacing buffers faster than the compositor lets go:
		// destroying a wl_buffer in use is allowed, the compositor keeps
		// what it shows.
		old := v.retired[0]
		v.retired = v.retired[1:]
		_ = old.b.Destroy()
		old.released()
	}
	r := &retired{b: b, released: released}
	v.retired = append(v.retired, r)
	b.OnRelease = func(*wayland.Buffer) {
		_ = b.Destroy()
		for i, x := range v.retired {
			if x == r {
				v.retired = append(v.retired[:i], v.retired[i+1:]...)
				break
			}
		}
		released()
	}
}

// rebuild makes the content buffer match the dump and the visible size:
// a wl_buffer over min(image, window) at the image's stride, so the
// clipping costs no copy.
func (v *wlView) rebuild() error {
	if v.dump == nil {
		return nil
	}
	vw, vh := v.visible()
	bw, bh := min(int(v.dump.Width), vw), min(int(v.dump.Height), vh)
	if v.buf != nil && int(v.buf.Width) == bw && int(v.buf.Height) == bh && uint64(v.buf.Offset) == v.dump.Region.Offset {
		return nil
	}
	if v.buf != nil {
		v.retire(v.buf, func() {})
		v.buf = nil
	}
	if bw <= 0 || bh <= 0 {
		if err := v.content.Attach(nil, 0, 0); err != nil {
			return err
		}
		return v.content.Commit()
	}
	b, err := wayland.NewBuffer(v.d.pool, int32(v.dump.Region.Offset), int32(bw), int32(bh),
		int32(v.dump.Region.Stride), wayland.WlShmFormatXrgb8888)
	if err != nil {
		return err
	}
	v.buf = b
	return v.Damage(0, 0, bw, bh)
}

// Damage implements View: the buffer is attached again (the compositor
// re-reads the damaged part of the region) and committed.
func (v *wlView) Damage(x, y, w, h int) error {
	if v.buf == nil {
		return nil
	}
	w, h = min(x+w, int(v.buf.Width))-x, min(y+h, int(v.buf.Height))-y
	if w <= 0 || h <= 0 {
		return nil
	}
	if err := v.buf.Attach(v.content); err != nil {
		return err
	}
	if err := v.content.DamageBuffer(int32(x), int32(y), int32(w), int32(h)); err != nil {
		return err
	}
	return v.content.Commit()
}

// SetTitle implements View: the compositor's title and the self-drawn
// title bar, if any.
func (v *wlView) SetTitle(title string) error {
	if v.top == nil {
		return nil
	}
	return v.top.SetTitle(title)
}

// Resize implements View.
func (v *wlView) Resize(w, h int) error {
	v.cw, v.ch = v.d.clampSize(w, h)
	if v.top != nil {
		v.top.SetContentSize(v.cw, v.ch)
		if err := v.redraw(); err != nil {
			return err
		}
	}
	return v.rebuild() // popups are made anew when their size changes
}

// redrawRetry is how long a toplevel whose frame buffers the compositor
// all holds waits before it paints again.
const redrawRetry = 10 * time.Millisecond

// redraw paints the toplevel's frame at its current size. A burst of
// resizes can outrun the compositor's buffer releases; then the frame is
// painted once more, at the latest size, after redrawRetry (the releases
// are handled meanwhile) and the sizes in between are never painted.
func (v *wlView) redraw() error {
	if v.redrawWaiting {
		return nil // the retry paints the latest size
	}
	err := v.top.Redraw()
	if err == nil || !framesBusy(err) {
		return err
	}
	v.redrawWaiting = true
	time.AfterFunc(redrawRetry, func() {
		v.d.c.Post(func() {
			v.redrawWaiting = false
			if v.top != nil && !v.destroyed {
				_ = v.redraw()
			}
		})
	})
	return nil
}

// framesBusy reports the frame.Painter error of a surface whose frame
// buffers the compositor all still holds (frame exports no sentinel).
func framesBusy(err error) bool {
	return strings.Contains(err.Error(), "compositor holds all")
}

// SetFullscreen implements View.
func (v *wlView) SetFullscreen(on, real bool) error {
	if v.top == nil {
		return nil
	}
	t := v.top.Toplevel
	switch {
	case on && real:
		return t.SetFullscreen(nil)
	case on:
		return t.SetMaximized()
	case v.states.fullscreen:
		return t.UnsetFullscreen()
	default:
		return t.UnsetMaximized()
	}
}

// Minimize implements View.
func (v *wlView) Minimize() error {
	if v.top == nil {
		return nil
	}
	return v.top.Toplevel.SetMinimized()
}

// SetSizeHints implements View: the qube's minimum and maximum content
// size plus the frame.
func (v *wlView) SetSizeHints(h guiproto.WindowHints) error {
	if v.top == nil {
		return nil
	}
	l, t, r, b := v.top.Style().Insets()
	// Both are always sent (0 = none), and a maximum below the minimum is
	// dropped: xdg_toplevel makes that a protocol error.
	var minW, minH, maxW, maxH int32
	if h.Flags&guiproto.HintPMinSize != 0 {
		minW, minH = int32(int(h.MinWidth)+l+r), int32(int(h.MinHeight)+t+b)
	}
	if h.Flags&guiproto.HintPMaxSize != 0 {
		maxW, maxH = int32(int(h.MaxWidth)+l+r), int32(int(h.MaxHeight)+t+b)
		if maxW < minW || maxH < minH {
			maxW, maxH = 0, 0
		}
	}
	if err := v.top.Toplevel.SetMinSize(minW, minH); err != nil {
		return err
	}
	return v.top.Toplevel.SetMaxSize(maxW, maxH)
}

// Destroy implements View.
func (v *wlView) Destroy() {
	d := v.d
	v.destroyed = true
	d.seat.forget(v)
	for _, r := range v.retired {
		_ = r.b.Destroy()
		r.released()
	}
	v.retired = nil
	if v.buf != nil {
		_ = v.buf.Destroy()
		v.buf = nil
	}
	delete(d.surfaces, v.content)
	if v.top != nil {
		delete(d.surfaces, v.top.Surface)
		v.top.Destroy()
		return
	}
	delete(d.surfaces, v.surface)
	if v.popup != nil {
		_ = v.popup.Destroy()
	}
	_ = v.xdg.Destroy()
	_ = v.sub.Destroy()
	_ = v.content.Destroy()
	_ = v.surface.Destroy()
	v.painter.Destroy()
}
