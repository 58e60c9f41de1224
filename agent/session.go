package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	"github.com/qube-desktop/qube-desktop/internal/guiproto"
	"github.com/qube-desktop/qube-desktop/internal/transport"
)

// AcceptFunc yields daemon connections one after the other: the unix
// transport's Listener.Accept, or transport.AcceptVirtio.
type AcceptFunc func(ctx context.Context) (io.ReadWriteCloser, error)

// Agent is one qube's GUI agent: the X side plus the protocol state of the
// connected daemon, if any.
type Agent struct {
	x      *X
	region *transport.Region
	alloc  *transport.PageAllocator
	log    *log.Logger

	wins map[xproto.Window]*winState
	// awaitAck holds IDs destroyed on the daemon whose DESTROY ack has not
	// come, with the buffers the daemon may still read until then; a new X
	// window reusing such an ID waits for the ack.
	awaitAck map[xproto.Window][]*Buffer

	pointer xproto.Window // window of the daemon's last pointer event

	conn     io.ReadWriteCloser // nil while no daemon is connected
	writeErr error              // the connection failed; the reader will notice
	connDone chan struct{}      // closed when conn is dropped
	version  guiproto.Version
	out      bytes.Buffer // messages queued for the daemon until flush

	// Scratch for flushDamage, reused so a frame allocates little.
	takes []pendingDamage
	caps  []pendingCapture
	rects []Rect
}

// winState is what the connected daemon knows of a window.
type winState struct {
	created  bool // CREATE sent to this daemon
	conf     guiproto.Configure
	flags    uint32
	buf      *Buffer   // current buffer announced with WINDOW_DUMP, or nil
	dumped   bool      // buf announced since the last map
	retired  []*Buffer // one entry per unacked dump: the buffer it replaced, or nil
	dirty    bool      // X reported damage not yet taken
	waitDead bool      // its ID waits for the DESTROY ack of an earlier window
}

// New opens display and prepares the agent to serve daemons, with window
// buffers in region.
func New(display string, region *transport.Region, logger *log.Logger) (*Agent, error) {
	x, err := OpenX(display)
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = log.Default()
	}
	a := &Agent{x: x, region: region, alloc: transport.NewPageAllocator(region.Size()), log: logger,
		wins: map[xproto.Window]*winState{}, awaitAck: map[xproto.Window][]*Buffer{}}
	if err := x.AttachRegion(region); err != nil {
		logger.Printf("capturing with GetImage: %v", err)
	}
	for _, w := range x.Windows() {
		a.wins[w.ID] = &winState{}
	}
	return a, nil
}

// Close releases the X connection.
func (a *Agent) Close() { a.x.Close() }

// eventQueue hands X events from the pump goroutine to the session,
// without a bound.
type eventQueue struct {
	mu    sync.Mutex
	evs   []xgb.Event
	ready chan struct{} // signalled when evs becomes non-empty
}

func (q *eventQueue) push(ev xgb.Event) {
	q.mu.Lock()
	q.evs = append(q.evs, ev)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

func (q *eventQueue) take() []xgb.Event {
	q.mu.Lock()
	defer q.mu.Unlock()
	evs := q.evs
	q.evs = nil
	return evs
}

// handshakeTimeout bounds how long a connected daemon may take to answer
// the agent's version.
const handshakeTimeout = 10 * time.Second

type daemonMsg struct {
	m   guiproto.Message
	h   guiproto.Header
	err error
}

// Run serves daemons from acc until ctx ends or the X server goes away.
// While no daemon is connected it keeps following the X windows, and it
// replays every window to each new daemon.
func (a *Agent) Run(ctx context.Context, accept AcceptFunc) error {
	// The pump never blocks: if it did, xgb would stop reading replies
	// while this goroutine waits for one.
	var q eventQueue
	q.ready = make(chan struct{}, 1)
	xdone := make(chan struct{})
	go func() {
		defer close(xdone)
		for {
			ev, err := a.x.NextEvent()
			if ev == nil && err == nil {
				return
			}
			if ev != nil {
				q.push(ev)
			}
		}
	}()

	conns := make(chan io.ReadWriteCloser)
	acceptErr := make(chan error, 1)
	acceptCtx, stopAccept := context.WithCancel(ctx)
	defer stopAccept()
	next := func() {
		go func() {
			c, err := accept(acceptCtx)
			if err != nil {
				if acceptCtx.Err() == nil {
					acceptErr <- fmt.Errorf("wait for the GUI daemon: %w", err)
				}
				return
			}
			select {
			case conns <- c:
			case <-acceptCtx.Done():
				c.Close()
			}
		}()
	}
	next()

	var msgs chan daemonMsg
	defer func() {
		if a.conn != nil {
			a.conn.Close()
		}
	}()
	for {
		a.flush()
		var clipTimer <-chan time.Time
		if d := a.x.ClipboardDeadline(); !d.IsZero() {
			clipTimer = time.After(time.Until(d))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-xdone:
			return fmt.Errorf("the X server closed the connection")
		case err := <-acceptErr:
			return err
		case <-q.ready:
			// Apply everything queued before copying damage, so a burst
			// of drawing becomes one capture per window.
			for _, ev := range q.take() {
				a.handleX(ev)
			}
			a.flushDamage()
		case c := <-conns:
			msgs = a.connect(c)
			if msgs == nil {
				next()
			}
		case dm := <-msgs:
			if dm.err != nil {
				if dm.err == io.EOF {
					a.log.Printf("daemon disconnected")
				} else {
					a.log.Printf("daemon connection ends: %v", dm.err)
				}
				a.disconnect()
				msgs = nil
				next()
				continue
			}
			if err := a.handleDaemon(dm.m, dm.h); err != nil {
				a.log.Printf("%s for window %#x: %v", dm.m.Type(), dm.h.Window, err)
			}
			a.flushDamage()
		case <-clipTimer:
			a.apply(a.x.ExpireClipboard(time.Now()))
		}
	}
}

// connect runs the handshake with a new daemon, replays all windows and
// starts reading its messages.
func (a *Agent) connect(c io.ReadWriteCloser) chan daemonMsg {
	// A socket peer that does not answer is dropped; a virtio port has no
	// deadline (AcceptVirtio already waited for the host to connect).
	nc, isNet := c.(net.Conn)
	if isNet {
		nc.SetDeadline(time.Now().Add(handshakeTimeout))
	}
	v, _, err := guiproto.AgentHandshake(c, guiproto.ProtocolVersion)
	if isNet {
		nc.SetDeadline(time.Time{})
	}
	if err != nil {
		a.log.Printf("handshake with daemon: %v", err)
		c.Close()
		return nil
	}
	a.conn, a.version, a.connDone, a.writeErr = c, v, make(chan struct{}), nil
	msgs, done := make(chan daemonMsg, 64), a.connDone
	go func() {
		for {
			m, h, err := guiproto.ReadFromDaemon(c, v)
			if err == nil {
				err = checkFromDaemon(m)
			}
			select {
			case msgs <- daemonMsg{m, h, err}:
			case <-done:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	for _, w := range a.x.Windows() {
		a.replay(w)
	}
	return msgs
}

// disconnect forgets everything the departed daemon knew. Buffers it had
// not acknowledged are free again: nobody maps them any more.
func (a *Agent) disconnect() {
	a.conn.Close()
	close(a.connDone)
	a.conn = nil
	a.out.Reset()
	for _, bufs := range a.awaitAck {
		for _, b := range bufs {
			a.free(b)
		}
	}
	a.awaitAck = map[xproto.Window][]*Buffer{}
	for _, st := range a.wins {
		for _, b := range st.retired {
			a.free(b)
		}
		st.retired, st.created, st.dumped, st.waitDead = nil, false, false, false
		st.conf, st.flags = guiproto.Configure{}, 0
	}
}

// send queues m for the daemon; flush writes the queue. Messages go out
// once per batch of X events or daemon messages, in one write.
func (a *Agent) send(id xproto.Window, m guiproto.Message) {
	if a.conn == nil || a.writeErr != nil {
		return
	}
	if err := guiproto.WriteMessage(&a.out, uint32(id), m); err != nil {
		a.log.Printf("send %s: %v", m.Type(), err)
		a.writeErr = err
		a.conn.Close() // the reader sees the error and disconnects
	}
}

func (a *Agent) flush() {
	if a.out.Len() == 0 {
		return
	}
	defer a.out.Reset()
	if a.conn == nil || a.writeErr != nil {
		return
	}
	if _, err := a.conn.Write(a.out.Bytes()); err != nil {
		a.log.Printf("send to the daemon: %v", err)
		a.writeErr = err
		a.conn.Close()
	}
}

// replay sends the full state of one window (spec §1.4).
func (a *Agent) replay(w *Window) {
	st := a.state(w.ID)
	if _, ok := a.awaitAck[w.ID]; ok {
		st.waitDead = true
		return
	}
	st.waitDead = false
	a.send(w.ID, guiproto.Create{X: int32(w.X), Y: int32(w.Y), Width: uint32(max(w.W, 1)), Height: uint32(max(w.H, 1)),
		OverrideRedirect: w.OverrideRedirect})
	st.created = true
	a.sendConfigure(w, st)
	a.sendClass(w)
	a.sendHints(w)
	switch {
	case w.Docked:
		a.send(w.ID, guiproto.Dock{})
		if w.Mapped {
			a.showDocked(w, st)
		}
	case w.Mapped:
		a.mapWindow(w, st)
	default:
		a.sendName(w)
	}
}

// showDocked fills a tray icon's buffer; the daemon embeds docked windows
// itself, so there is no MAP.
func (a *Agent) showDocked(w *Window, st *winState) {
	if a.ensureBuffer(w, st) {
		a.sendFull(w)
	}
}

func (a *Agent) state(id xproto.Window) *winState {
	st := a.wins[id]
	if st == nil {
		st = &winState{}
		a.wins[id] = st
	}
	return st
}

func (a *Agent) sendConfigure(w *Window, st *winState) {
	c := guiproto.Configure{X: int32(w.X), Y: int32(w.Y), Width: uint32(max(w.W, 1)), Height: uint32(max(w.H, 1)),
		OverrideRedirect: w.OverrideRedirect}
	if c != st.conf {
		st.conf = c
		a.send(w.ID, c)
	}
}

func (a *Agent) sendName(w *Window) { a.send(w.ID, guiproto.WMName{Title: truncateTitle(w.Name)}) }

func (a *Agent) sendClass(w *Window) {
	a.send(w.ID, guiproto.WMClass{Class: truncateBytes(w.Class, guiproto.MaxWMClassLen),
		Name: truncateBytes(w.Instance, guiproto.MaxWMClassLen)})
}

func (a *Agent) sendHints(w *Window) {
	h := w.Hints
	a.send(w.ID, guiproto.WindowHints{Flags: h.Flags, MinWidth: h.MinW, MinHeight: h.MinH, MaxWidth: h.MaxW,
		MaxHeight: h.MaxH, WidthInc: h.IncW, HeightInc: h.IncH, BaseWidth: h.BaseW, BaseHeight: h.BaseH})
}

func (a *Agent) sendFlags(w *Window, st *winState) {
	var f uint32
	if w.Fullscreen {
		f |= guiproto.FlagFullscreen
	}
	if w.DemandsAttention || w.Urgent {
		f |= guiproto.FlagDemandsAttention
	}
	if w.Hidden {
		f |= guiproto.FlagMinimize
	}
	set, unset := f&^st.flags, st.flags&^f&^guiproto.FlagMinimize
	st.flags = f
	if set != 0 || unset != 0 {
		a.send(w.ID, guiproto.WindowFlags{Set: set, Unset: unset})
	}
}

// mapWindow gives a mapped window a buffer of its size, fills it, and
// announces it: WINDOW_DUMP, MAP, WMNAME, WINDOW_FLAGS, then the pixels.
func (a *Agent) mapWindow(w *Window, st *winState) {
	if !a.ensureBuffer(w, st) {
		return
	}
	var tf uint32
	if t := a.wins[w.TransientFor]; t != nil && t.created {
		tf = uint32(w.TransientFor)
	}
	a.send(w.ID, guiproto.MapInfo{TransientFor: tf, OverrideRedirect: w.OverrideRedirect})
	a.sendName(w)
	st.flags = 0
	a.sendFlags(w, st)
	a.sendFull(w)
}

// sendFull tells the daemon that the whole buffer is new.
func (a *Agent) sendFull(w *Window) {
	a.send(w.ID, guiproto.ShmImage{Width: uint32(w.W), Height: uint32(w.H)})
}

// ensureBuffer makes sure the daemon has a dump of a buffer of the
// window's current size, filled before it is announced; the old buffer is
// freed only when the daemon acks the new dump.
func (a *Agent) ensureBuffer(w *Window, st *winState) bool {
	if w.W <= 0 || w.H <= 0 {
		return false
	}
	var old *Buffer
	if st.buf == nil || st.buf.W != w.W || st.buf.H != w.H {
		size := uint64(w.W) * uint64(w.H) * 4
		off, err := a.alloc.Alloc(size)
		if err != nil {
			a.log.Printf("window %#x (%dx%d): %v", w.ID, w.W, w.H, err)
			return false
		}
		mem, err := a.region.Slice(off, size)
		if err != nil {
			a.alloc.Free(off)
			a.log.Printf("window %#x: %v", w.ID, err)
			return false
		}
		old = st.buf
		st.buf, st.dumped = &Buffer{Off: off, W: w.W, H: w.H, Mem: mem}, false
	}
	if !st.dumped && a.conn != nil {
		if _, err := a.x.Capture(w, st.buf, Rect{0, 0, w.W, w.H}); err != nil && !errors.Is(err, errGone) {
			a.log.Printf("capture: %v", err)
		}
		b := st.buf
		a.send(w.ID, guiproto.WindowDump{Kind: guiproto.DumpRegion, Width: uint32(b.W), Height: uint32(b.H), BPP: 24,
			Region: guiproto.RegionBuffer{Offset: b.Off, Stride: uint32(b.W * 4)}})
		st.dumped = true
		if a.version >= versionDumpAck {
			// Freed when the daemon acks this dump: until then it may
			// still read the old buffer.
			st.retired = append(st.retired, old)
			return true
		}
	}
	a.free(old)
	return true
}

// Protocol versions from which the daemon acknowledges destroys and dumps.
const (
	versionDestroyAck guiproto.Version = 0x00010005
	versionDumpAck    guiproto.Version = 0x00010007
)

func (a *Agent) free(b *Buffer) {
	if b != nil {
		if err := a.alloc.Free(b.Off); err != nil {
			a.log.Printf("agent bug: %v", err)
		}
	}
}

func (a *Agent) handleX(ev xgb.Event) { a.apply(a.x.Handle(ev)) }

func (a *Agent) apply(changes []Change) {
	for _, c := range changes {
		switch c := c.(type) {
		case Created:
			st := a.state(c.W.ID)
			if a.conn == nil {
				continue
			}
			if _, ok := a.awaitAck[c.W.ID]; ok {
				st.waitDead = true
				continue
			}
			a.send(c.W.ID, guiproto.Create{X: int32(c.W.X), Y: int32(c.W.Y), Width: uint32(max(c.W.W, 1)),
				Height: uint32(max(c.W.H, 1)), OverrideRedirect: c.W.OverrideRedirect})
			st.created = true
			st.conf = guiproto.Configure{X: int32(c.W.X), Y: int32(c.W.Y), Width: uint32(max(c.W.W, 1)),
				Height: uint32(max(c.W.H, 1)), OverrideRedirect: c.W.OverrideRedirect}
			a.sendHints(c.W)
			a.sendName(c.W)
			a.sendClass(c.W)
		case Destroyed:
			st := a.wins[c.ID]
			delete(a.wins, c.ID)
			if st == nil {
				continue
			}
			bufs := append(st.retired, st.buf)
			if st.created && a.conn != nil && !st.waitDead {
				a.send(c.ID, guiproto.Destroy{})
				if a.version >= versionDestroyAck {
					// Dump acks still to come pop the first entries; the
					// rest is freed with the DESTROY ack.
					a.awaitAck[c.ID] = bufs
					continue
				}
			}
			for _, b := range bufs {
				a.free(b)
			}
		case Docked:
			if a.live(c.W.ID) != nil {
				a.send(c.W.ID, guiproto.Dock{})
			}
		case Mapped:
			if st := a.live(c.W.ID); st != nil {
				st.dumped = false // the daemon released the old dump on unmap
				a.sendConfigure(c.W, st)
				if c.W.Docked {
					a.showDocked(c.W, st)
				} else {
					a.mapWindow(c.W, st)
				}
			}
		case Unmapped:
			if st := a.live(c.W.ID); st != nil {
				a.send(c.W.ID, guiproto.Unmap{})
			}
		case Configured:
			if st := a.live(c.W.ID); st != nil {
				a.sendConfigure(c.W, st)
				if c.Resized && c.W.Mapped && a.ensureBuffer(c.W, st) {
					a.sendFull(c.W)
				}
			}
		case PropertyChanged:
			st := a.live(c.W.ID)
			if st == nil {
				continue
			}
			switch c.What {
			case PropName:
				a.sendName(c.W)
			case PropClass:
				if !c.W.Mapped { // the daemon takes WM_CLASS only while withdrawn (ICCCM)
					a.sendClass(c.W)
				}
			case PropHints:
				a.sendHints(c.W)
			case PropFlags:
				a.sendFlags(c.W, st)
			}
		case Damaged:
			a.state(c.W.ID).dirty = true // taken even when unused, to re-arm it
		case ClipboardConverted:
			a.sendClipboard(c)
		case CursorChanged:
			if a.live(a.pointer) != nil {
				a.send(a.pointer, guiproto.Cursor{ID: c.ID})
			}
		}
	}
}

// live returns the state of a window the daemon knows, or nil.
func (a *Agent) live(id xproto.Window) *winState {
	if st := a.wins[id]; st != nil && st.created && a.conn != nil {
		return st
	}
	return nil
}

// maxDamageRects bounds the rectangles sent per window per batch; beyond
// it one bounding box costs less than many small copies.
const maxDamageRects = 16

// flushDamage copies every dirty window's damage into its buffer and tells
// the daemon. The X requests are pipelined: all windows' damage in one
// round trip, then all their captures in another.
func (a *Agent) flushDamage() {
	takes := a.takes[:0]
	for id, st := range a.wins {
		if w := a.x.Window(id); st.dirty && w != nil {
			st.dirty = false
			takes = append(takes, a.x.requestDamage(w))
		}
	}
	caps := a.caps[:0]
	for _, p := range takes {
		w := p.win
		rects, err := p.rects(a.rects[:0])
		a.rects = rects
		if err != nil {
			a.log.Print(err)
			continue
		}
		st := a.wins[w.ID]
		if !w.Mapped || st.buf == nil || !st.dumped || a.live(w.ID) == nil {
			continue
		}
		if len(rects) > maxDamageRects {
			rects = []Rect{bounds(rects)}
		}
		for _, r := range rects {
			caps = append(caps, a.x.startCapture(w, st.buf, r))
		}
	}
	var failed *Window // after a failed capture, the rest of its window is not sent
	for _, p := range caps {
		if p.win == failed {
			continue
		}
		got, err := p.wait()
		if err != nil {
			if !errors.Is(err, errGone) {
				a.log.Printf("capture: %v", err)
			}
			failed = p.win
			continue
		}
		if got.W > 0 && got.H > 0 {
			a.send(p.win.ID, guiproto.ShmImage{X: int32(got.X), Y: int32(got.Y), Width: uint32(got.W), Height: uint32(got.H)})
		}
	}
	clear(takes)
	clear(caps)
	a.takes, a.caps = takes[:0], caps[:0]
}

func bounds(rs []Rect) Rect {
	b := rs[0]
	for _, r := range rs[1:] {
		x0, y0 := min(b.X, r.X), min(b.Y, r.Y)
		x1, y1 := max(b.X+b.W, r.X+r.W), max(b.Y+b.H, r.Y+r.H)
		b = Rect{x0, y0, x1 - x0, y1 - y0}
	}
	return b
}

func (a *Agent) clipboardLimit() int {
	if a.version >= guiproto.ProtocolVersion {
		return guiproto.MaxClipboardBuffer
	}
	return guiproto.MaxClipboardLegacy
}

func (a *Agent) sendClipboard(c ClipboardConverted) {
	data := c.Data
	if c.Truncated && a.clipboardLimit() == guiproto.MaxClipboardLegacy {
		data = data[:guiproto.MaxClipboardLegacy] // before 1.8 the agent truncates
	}
	a.send(0, guiproto.ClipboardData{Data: data})
}

// handleDaemon acts on one message from the daemon.
func (a *Agent) handleDaemon(m guiproto.Message, h guiproto.Header) error {
	id := xproto.Window(h.Window)
	switch m := m.(type) {
	case guiproto.Destroy: // the ack of our DESTROY: the ID is free again
		bufs, ok := a.awaitAck[id]
		if !ok {
			return fmt.Errorf("DESTROY ack for a window not being destroyed")
		}
		delete(a.awaitAck, id)
		for _, b := range bufs {
			a.free(b)
		}
		if w := a.x.Window(id); w != nil { // a new window took the ID meanwhile
			a.replay(w)
		}
		return nil
	case guiproto.WindowDumpAck:
		if bufs, ok := a.awaitAck[id]; ok {
			if len(bufs) < 2 { // the last entry is the current buffer
				return fmt.Errorf("WINDOW_DUMP_ACK without a dump")
			}
			a.free(bufs[0])
			a.awaitAck[id] = bufs[1:]
			return nil
		}
		st := a.wins[id]
		if st == nil || len(st.retired) == 0 {
			return fmt.Errorf("WINDOW_DUMP_ACK without a dump")
		}
		a.free(st.retired[0])
		st.retired = st.retired[1:]
		return nil
	case guiproto.ClipboardReq:
		a.apply(a.x.RequestClipboard(a.clipboardLimit()))
		return nil
	case guiproto.ClipboardData:
		a.x.OwnClipboard(m.Data)
		return nil
	case guiproto.KeymapNotify:
		return a.x.ReleaseStuckKeys(m.Keys)
	case guiproto.Keypress:
		if m.Event == guiproto.KeyPress {
			if err := a.x.SyncLocks(m.State); err != nil {
				return err
			}
		}
		return a.x.Key(m.Event == guiproto.KeyPress, uint8(m.Keycode))
	}
	// The rest concerns one window that must be live: events for a window
	// already destroyed are ignored (the daemon has not seen the DESTROY).
	w := a.x.Window(id)
	st := a.live(id)
	if w == nil || st == nil || st.waitDead {
		return nil
	}
	switch m.(type) {
	case guiproto.Button, guiproto.Motion, guiproto.Crossing:
		a.pointer = id
	}
	switch m := m.(type) {
	case guiproto.Button:
		return a.x.Button(w, m.Event == guiproto.ButtonPress, uint8(m.Button), int(m.X), int(m.Y))
	case guiproto.Motion:
		return a.x.Motion(w, int(m.X), int(m.Y))
	case guiproto.Crossing:
		if m.Event == guiproto.EnterNotify {
			return a.x.Motion(w, int(m.X), int(m.Y))
		}
	case guiproto.Focus:
		if m.Event == guiproto.FocusIn {
			return a.x.Focus(w)
		}
	case guiproto.MapInfo:
		if !w.Mapped {
			return a.x.MapWindow(w)
		}
	case guiproto.Configure:
		// Acknowledge at once with the daemon's values (the daemon's
		// configure loop waits for them); the ConfigureNotify that follows
		// matches and sends nothing.
		st.conf = guiproto.Configure{X: m.X, Y: m.Y, Width: m.Width, Height: m.Height, OverrideRedirect: w.OverrideRedirect}
		a.send(id, st.conf)
		return a.x.MoveResize(w, int(m.X), int(m.Y), int(m.Width), int(m.Height))
	case guiproto.Close:
		return a.x.CloseWindow(w)
	case guiproto.WindowFlags:
		// The daemon's window manager reports a state change: record it
		// first so the PropertyNotify it causes is not echoed back.
		st.flags = st.flags&^m.Unset | m.Set
		return a.x.SetWMState(w, m.Set, m.Unset)
	}
	return nil
}

// truncateTitle fits a title into MSG_WMNAME, cutting on a character
// boundary and ending with "…" as the Qubes agent does.
func truncateTitle(s string) string {
	if len(s) <= guiproto.MaxTitleLen {
		return s
	}
	return truncateBytes(s, guiproto.MaxTitleLen-len("…")) + "…"
}

func truncateBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
