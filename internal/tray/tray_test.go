package tray

import (
	"bytes"
	"context"
	"errors"
	"image/color"
	"image/png"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/qube-desktop/qube-desktop/internal/notify"
	"github.com/qube-desktop/qube-desktop/internal/notify/notifytest"
	"github.com/qube-desktop/qube-desktop/internal/sni"
	"github.com/qube-desktop/qube-desktop/internal/testenv"
)

// Qubes' label colours used by the tests.
var (
	red   = color.RGBA{0xcc, 0x00, 0x00, 0xff}
	green = color.RGBA{0x73, 0xd2, 0x16, 0xff}
	blue  = color.RGBA{0x34, 0x65, 0xa4, 0xff}
	black = color.RGBA{0, 0, 0, 0xff}
)

type call struct {
	action Action
	qube   string
}

// fakeDaemon plays qubesd behind the Source interface: a qube list, an
// event stream the test feeds, and a log of requested actions.
type fakeDaemon struct {
	mu    sync.Mutex
	qubes []Qube
	down  bool
	doErr error

	events  chan Event
	stats   chan Stats
	drop    chan struct{} // ends the running Events stream, like qubesd dying
	actions chan call
}

func newFakeDaemon(qs ...Qube) *fakeDaemon {
	return &fakeDaemon{qubes: qs, events: make(chan Event), stats: make(chan Stats),
		drop: make(chan struct{}), actions: make(chan call, 8)}
}

var errDown = errors.New("connect: connection refused")

func (f *fakeDaemon) Qubes(ctx context.Context) ([]Qube, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return nil, errDown
	}
	return slices.Clone(f.qubes), nil
}

func (f *fakeDaemon) Events(ctx context.Context, fn func(Event)) error {
	f.mu.Lock()
	down := f.down
	f.mu.Unlock()
	if down {
		return errDown
	}
	fn(Event{Name: "connection-established"})
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-f.drop:
			return errors.New("EOF")
		case e := <-f.events:
			fn(e)
		}
	}
}

func (f *fakeDaemon) Stats(ctx context.Context, fn func(Stats)) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case s := <-f.stats:
			fn(s)
		}
	}
}

func (f *fakeDaemon) Do(ctx context.Context, a Action, qube string) error {
	f.actions <- call{a, qube}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.doErr
}

// setState changes a qube as the daemon would, then emits the events.
func (f *fakeDaemon) setState(name string, s State, events ...Event) {
	f.mu.Lock()
	for i := range f.qubes {
		if f.qubes[i].Name == name {
			f.qubes[i].State = s
		}
	}
	f.mu.Unlock()
	for _, e := range events {
		if e.Subject == "" {
			e.Subject = name
		}
		f.events <- e
	}
}

// fixture is a tray on a private bus with the real SNI watcher and a
// test-side notification server; host is the test's own connection,
// playing the panel.
type fixture struct {
	bus     *testenv.Bus
	watcher *testenv.Proc
	daemon  *fakeDaemon
	notes   *notifytest.Server
	host    *dbus.Conn
	sigs    chan *dbus.Signal
	item    string // the item's bus name
	clip    chan ClipboardStatus
	cancel  context.CancelFunc
	done    chan error
}

func startTray(t *testing.T, d *fakeDaemon) *fixture {
	t.Helper()
	f := &fixture{daemon: d, clip: make(chan ClipboardStatus, 1), done: make(chan error, 1)}
	f.bus = testenv.StartDBus(t)
	f.watcher = testenv.StartSNIWatcher(t, f.bus)
	var err error
	if f.notes, err = notifytest.Serve(f.bus.Conn(t)); err != nil {
		t.Fatal(err)
	}
	f.host = f.bus.Conn(t)
	f.sigs = make(chan *dbus.Signal, 64)
	f.host.Signal(f.sigs)
	for _, iface := range []string{sni.MenuInterface, sni.ItemInterface} {
		if err := f.host.AddMatchSignal(dbus.WithMatchInterface(iface)); err != nil {
			t.Fatal(err)
		}
	}

	var clipMu sync.Mutex
	var clip *ClipboardStatus
	clipboard := func() (ClipboardStatus, bool, error) {
		clipMu.Lock()
		defer clipMu.Unlock()
		select {
		case c := <-f.clip:
			clip = &c
		default:
		}
		if clip == nil {
			return ClipboardStatus{}, false, nil
		}
		return *clip, true, nil
	}
	tr := New(Options{Source: d, Clipboard: clipboard, Retry: 30 * time.Millisecond,
		ClipboardPoll: 10 * time.Millisecond, Logf: t.Logf})
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	conn := f.bus.Conn(t)
	go func() { f.done <- tr.Run(ctx, conn) }()
	t.Cleanup(func() {
		cancel()
		if err := <-f.done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
	})
	f.item = f.waitItem(t)
	return f
}

// waitItem waits until the watcher lists exactly one item and returns it.
func (f *fixture) waitItem(t *testing.T) string {
	t.Helper()
	deadline := time.Now().Add(patience)
	for {
		v, err := f.host.Object(sni.WatcherName, sni.WatcherPath).GetProperty(sni.WatcherInterface + ".RegisteredStatusNotifierItems")
		if err == nil {
			if list := v.Value().([]string); len(list) == 1 {
				// KDE's watcher lists "name/path", the Haskell one the name.
				name, _, _ := strings.Cut(list[0], "/")
				return name
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no tray item registered with the watcher (last: %v, %v)", v, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// entry is a menu entry as read back with GetLayout.
type entry struct {
	id       int32
	label    string
	enabled  bool
	sep      bool
	icon     []byte
	children []entry
}

func decodeLayout(t *testing.T, v any) entry {
	t.Helper()
	var l struct {
		ID       int32
		Props    map[string]dbus.Variant
		Children []dbus.Variant
	}
	if err := dbus.Store([]any{v}, &l); err != nil {
		t.Fatalf("decode layout: %v", err)
	}
	e := entry{id: l.ID, enabled: true}
	if s, ok := l.Props["label"].Value().(string); ok {
		e.label = s
	}
	if b, ok := l.Props["enabled"].Value().(bool); ok {
		e.enabled = b
	}
	e.sep = l.Props["type"].Value() == "separator"
	e.icon, _ = l.Props["icon-data"].Value().([]byte)
	for _, c := range l.Children {
		e.children = append(e.children, decodeLayout(t, c.Value()))
	}
	return e
}

func (f *fixture) layout(t *testing.T) (uint32, entry) {
	t.Helper()
	c := f.host.Object(f.item, sni.MenuPath).Call(sni.MenuInterface+".GetLayout", 0, int32(0), int32(-1), []string{})
	if c.Err != nil {
		t.Fatalf("GetLayout: %v", c.Err)
	}
	return c.Body[0].(uint32), decodeLayout(t, c.Body[1])
}

func labels(es []entry) []string {
	var out []string
	for _, e := range es {
		if e.sep {
			out = append(out, "---")
		} else {
			out = append(out, e.label)
		}
	}
	return out
}

// waitMenu polls GetLayout until the top-level labels equal want.
func (f *fixture) waitMenu(t *testing.T, want ...string) entry {
	t.Helper()
	deadline := time.Now().Add(patience)
	for {
		_, root := f.layout(t)
		if slices.Equal(labels(root.children), want) {
			return root
		}
		if time.Now().After(deadline) {
			t.Fatalf("menu is %q, want %q", labels(root.children), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func find(t *testing.T, root entry, label string) entry {
	t.Helper()
	for _, e := range root.children {
		if e.label == label {
			return e
		}
	}
	t.Fatalf("no entry %q in %q", label, labels(root.children))
	return entry{}
}

func (f *fixture) click(t *testing.T, id int32) {
	t.Helper()
	if err := f.host.Object(f.item, sni.MenuPath).Call(sni.MenuInterface+".Event", 0, id, "clicked", dbus.MakeVariant(int32(0)), uint32(0)).Err; err != nil {
		t.Fatalf("Event(%d, clicked): %v", id, err)
	}
}

func (f *fixture) wantAction(t *testing.T, want call) {
	t.Helper()
	select {
	case got := <-f.daemon.actions:
		if got != want {
			t.Fatalf("daemon got %+v, want %+v", got, want)
		}
	case <-time.After(patience):
		t.Fatalf("daemon got no action, want %+v", want)
	}
}

func (f *fixture) wantNote(t *testing.T, summary, body string, u notify.Urgency) {
	t.Helper()
	select {
	case n := <-f.notes.C:
		if n.App != "qube-tray" || n.Summary != summary || n.Body != body || n.Urgency != u {
			t.Fatalf("notification %+v, want %q / %q urgency %d", n, summary, body, u)
		}
	case <-time.After(patience):
		t.Fatalf("no notification, want %q / %q", summary, body)
	}
}

// waitSignal returns the next signal with the given member name.
func (f *fixture) waitSignal(t *testing.T, name string) *dbus.Signal {
	t.Helper()
	timeout := time.After(patience)
	for {
		select {
		case s := <-f.sigs:
			if s.Name == name {
				return s
			}
		case <-timeout:
			t.Fatalf("no %s signal within %v", name, patience)
		}
	}
}

func (f *fixture) drainSignals() {
	for {
		select {
		case <-f.sigs:
		default:
			return
		}
	}
}

func standardQubes() *fakeDaemon {
	return newFakeDaemon(
		Qube{Name: "dom0", Label: black, State: Running, AdminVM: true},
		Qube{Name: "work", Label: blue, State: Running},
		Qube{Name: "sys-net", Label: red, State: Running},
		Qube{Name: "personal", Label: green, State: Halted},
		Qube{Name: "untrusted", Label: red, State: Halted},
	)
}

func TestTrayPropertiesAndIcon(t *testing.T) {
	f := startTray(t, standardQubes())
	f.waitMenu(t, "dom0", "sys-net", "work", "---", "Qube Manager")

	// The icon follows the menu; wait until the tooltip says both run.
	var props map[string]dbus.Variant
	var tt sni.ToolTip
	for deadline := time.Now().Add(patience); ; {
		c := f.host.Object(f.item, sni.ItemPath).Call("org.freedesktop.DBus.Properties.GetAll", 0, sni.ItemInterface)
		if c.Err != nil {
			t.Fatal(c.Err)
		}
		props = c.Body[0].(map[string]dbus.Variant)
		if err := props["ToolTip"].Store(&tt); err != nil {
			t.Fatal(err)
		}
		if tt.Title == "Qubes" && tt.Text == "2 running: sys-net, work" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ToolTip = %+v, want 2 running: sys-net, work", tt)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for k, want := range map[string]any{"Id": "qube-tray", "Title": "Qubes", "Status": "Active",
		"Category": "SystemServices", "Menu": sni.MenuPath, "ItemIsMenu": true} {
		if got := props[k].Value(); got != want {
			t.Errorf("%s = %#v, want %#v", k, got, want)
		}
	}
	var px []sni.Pixmap
	if err := props["IconPixmap"].Store(&px); err != nil {
		t.Fatal(err)
	}
	var sizes []int32
	for _, p := range px {
		sizes = append(sizes, p.Width)
		if p.Width != p.Height || len(p.Data) != int(4*p.Width*p.Height) {
			t.Fatalf("pixmap %dx%d with %d bytes", p.Width, p.Height, len(p.Data))
		}
	}
	if !slices.Equal(sizes, []int32{16, 22, 32, 48, 64}) {
		t.Fatalf("icon sizes %v", sizes)
	}
	// The 32-px cube: faces in the running qubes' label colours (sys-net
	// red on top, work blue on the left, red again on the right), shaded;
	// corners transparent. Bytes are A,R,G,B.
	argb := func(x, y int) [4]byte {
		i := 4 * (y*32 + x)
		return [4]byte(px[2].Data[i : i+4])
	}
	for _, c := range []struct {
		x, y int
		want color.RGBA
	}{{16, 8, shade(red, 1.25)}, {8, 20, blue}, {24, 20, shade(red, 0.7)}} {
		if got := argb(c.x, c.y); got != [4]byte{0xff, c.want.R, c.want.G, c.want.B} {
			t.Errorf("pixel (%d,%d) = % x, want ff %02x %02x %02x", c.x, c.y, got, c.want.R, c.want.G, c.want.B)
		}
	}
	if got := argb(0, 0); got[0] != 0 {
		t.Errorf("corner pixel alpha %d, want 0", got[0])
	}
}

func TestTrayMenuAndClicks(t *testing.T) {
	f := startTray(t, standardQubes())
	root := f.waitMenu(t, "dom0", "sys-net", "work", "---", "Qube Manager")

	dom0, work := root.children[0], find(t, root, "work")
	if len(dom0.children) != 0 {
		t.Errorf("dom0 has a submenu: %q", labels(dom0.children))
	}
	if want := []string{"Run terminal", "Settings", "Pause", "Shutdown", "Restart", "Kill"}; !slices.Equal(labels(work.children), want) {
		t.Fatalf("work submenu %q, want %q", labels(work.children), want)
	}
	img, err := png.Decode(bytes.NewReader(work.icon))
	if err != nil {
		t.Fatalf("work's menu icon: %v", err)
	}
	if r, g, b, _ := img.At(8, 8).RGBA(); [3]uint32{r >> 8, g >> 8, b >> 8} != [3]uint32{0x34, 0x65, 0xa4} {
		t.Errorf("work's swatch centre is %02x%02x%02x, want label blue 3465a4", r>>8, g>>8, b>>8)
	}

	// Every entry of the submenu reaches the daemon as its action.
	for i, a := range []Action{Terminal, Settings, Pause, Shutdown, Restart, Kill} {
		f.click(t, work.children[i].id)
		f.wantAction(t, call{a, "work"})
	}
	f.click(t, find(t, root, "Qube Manager").id)
	f.wantAction(t, call{OpenManager, ""})

	// Stats change labels only: ItemsPropertiesUpdated, same revision.
	rev, _ := f.layout(t)
	f.drainSignals()
	f.daemon.stats <- Stats{Qube: "work", CPUPercent: 7, MemoryKiB: 400 * 1024}
	s := f.waitSignal(t, sni.MenuInterface+".ItemsPropertiesUpdated")
	var upd []struct {
		ID    int32
		Props map[string]dbus.Variant
	}
	if err := dbus.Store(s.Body[:1], &upd); err != nil {
		t.Fatal(err)
	}
	if len(upd) != 1 || upd[0].ID != work.id || upd[0].Props["label"].Value() != "work — CPU 7%, 400 MiB" {
		t.Fatalf("ItemsPropertiesUpdated %+v", upd)
	}
	if r, _ := f.layout(t); r != rev {
		t.Errorf("stats moved the layout revision from %d to %d", rev, r)
	}

	// A failed action is reported as a notification.
	f.daemon.mu.Lock()
	f.daemon.doErr = errors.New("qube work is in use by sys-firewall")
	f.daemon.mu.Unlock()
	f.click(t, work.children[3].id)
	f.wantAction(t, call{Shutdown, "work"})
	f.wantNote(t, "Qube Status: work", "Shutdown failed: qube work is in use by sys-firewall", notify.Critical)

	// Paused: the submenu becomes Settings, Resume, Kill.
	f.daemon.setState("work", Paused, Event{Name: "domain-paused"})
	root = f.waitMenu(t, "dom0", "sys-net", "work (paused)", "---", "Qube Manager")
	paused := find(t, root, "work (paused)")
	if !slices.Equal(labels(paused.children), []string{"Settings", "Resume", "Kill"}) {
		t.Fatalf("paused submenu %q", labels(paused.children))
	}
	if paused.id != work.id || paused.children[0].id != work.children[1].id || paused.children[2].id != work.children[5].id {
		t.Errorf("ids moved when pausing: %+v vs %+v", paused, work)
	}
	f.daemon.mu.Lock()
	f.daemon.doErr = nil
	f.daemon.mu.Unlock()
	f.click(t, paused.children[1].id)
	f.wantAction(t, call{Resume, "work"})

	// Clipboard status appears with source, size and time.
	at := time.Date(2026, 11, 26, 17, 20, 5, 0, time.Local)
	f.clip <- ClipboardStatus{Source: "work", Size: 1234, Time: at}
	root = f.waitMenu(t, "dom0", "sys-net", "work (paused)", "---", "Clipboard: 1.2 KiB from work at 17:20:05", "---", "Qube Manager")
	if c := find(t, root, "Clipboard: 1.2 KiB from work at 17:20:05"); c.enabled {
		t.Error("clipboard status entry is clickable")
	}
}

func TestTrayFollowsStartStopAndNotifies(t *testing.T) {
	f := startTray(t, standardQubes())
	root := f.waitMenu(t, "dom0", "sys-net", "work", "---", "Qube Manager")
	work := find(t, root, "work")
	rev, _ := f.layout(t)
	f.drainSignals()

	f.daemon.setState("personal", Starting, Event{Name: "domain-pre-start"})
	f.waitMenu(t, "dom0", "personal (starting)", "sys-net", "work", "---", "Qube Manager")
	f.daemon.setState("personal", Running, Event{Name: "domain-spawn"}, Event{Name: "domain-start"})
	root = f.waitMenu(t, "dom0", "personal", "sys-net", "work", "---", "Qube Manager")
	f.wantNote(t, "Qube Status: personal", "has started", notify.Normal)
	s := f.waitSignal(t, sni.MenuInterface+".LayoutUpdated")
	if s.Body[0].(uint32) <= rev || s.Body[1].(int32) != 0 {
		t.Errorf("LayoutUpdated%v after revision %d", s.Body, rev)
	}
	f.waitSignal(t, sni.ItemInterface+".NewIcon")
	if got := find(t, root, "work"); got.id != work.id || got.children[0].id != work.children[0].id {
		t.Errorf("work's ids changed when another qube started")
	}

	f.daemon.setState("work", Halting, Event{Name: "domain-pre-shutdown"})
	f.daemon.setState("work", Halted, Event{Name: "domain-stopped"}, Event{Name: "domain-shutdown"})
	f.waitMenu(t, "dom0", "personal", "sys-net", "---", "Qube Manager")
	f.wantNote(t, "Qube Status: work", "has shut down", notify.Normal)

	f.daemon.setState("untrusted", Starting, Event{Name: "domain-pre-start"})
	f.daemon.setState("untrusted", Halted, Event{Name: "domain-start-failed", Args: map[string]string{"reason": "Failed to connect to qmemman"}})
	f.wantNote(t, "Qube Status: untrusted", "has failed to start: Failed to connect to qmemman", notify.Critical)
	f.waitMenu(t, "dom0", "personal", "sys-net", "---", "Qube Manager")

	// work comes back with the same ids as before.
	f.daemon.setState("work", Running, Event{Name: "domain-start"})
	root = f.waitMenu(t, "dom0", "personal", "sys-net", "work", "---", "Qube Manager")
	if got := find(t, root, "work"); got.id != work.id || got.children[5].id != work.children[5].id {
		t.Errorf("work's ids changed across stop and start: %d/%d, was %d/%d", got.id, got.children[5].id, work.id, work.children[5].id)
	}
	f.wantNote(t, "Qube Status: work", "has started", notify.Normal)
}

func TestTraySurvivesDaemonAndWatcherRestarts(t *testing.T) {
	f := startTray(t, standardQubes())
	f.waitMenu(t, "dom0", "sys-net", "work", "---", "Qube Manager")

	// qubesd dies: the stream ends and reconnecting fails for a while.
	f.daemon.mu.Lock()
	f.daemon.down = true
	f.daemon.mu.Unlock()
	f.daemon.drop <- struct{}{}
	root := f.waitMenu(t, "Qube daemon not reachable; retrying", "---", "Qube Manager")
	if root.children[0].enabled {
		t.Error("the daemon status entry is clickable")
	}
	// It comes back with a qube started meanwhile.
	f.daemon.mu.Lock()
	f.daemon.down = false
	f.daemon.qubes[3].State = Running
	f.daemon.mu.Unlock()
	f.waitMenu(t, "dom0", "personal", "sys-net", "work", "---", "Qube Manager")

	// The watcher restarts: the item registers with the new one.
	f.watcher.Stop()
	time.Sleep(50 * time.Millisecond)
	testenv.StartSNIWatcher(t, f.bus)
	if got := f.waitItem(t); got != f.item {
		t.Fatalf("after the watcher restart the item is %q, was %q", got, f.item)
	}
	select {
	case err := <-f.done:
		t.Fatalf("Run ended: %v", err)
	default:
	}
}

func TestTrayWithoutWatcherWaitsForOne(t *testing.T) {
	for _, w := range []struct {
		name  string
		start func(testing.TB, *testenv.Bus) *testenv.Proc
	}{{"haskell", testenv.StartSNIWatcher}, {"kde", testenv.StartKDEWatcher}} {
		t.Run(w.name, func(t *testing.T) { testWithoutWatcher(t, w.start) })
	}
}

func testWithoutWatcher(t *testing.T, startWatcher func(testing.TB, *testenv.Bus) *testenv.Proc) {
	bus := testenv.StartDBus(t)
	d := standardQubes()
	tr := New(Options{Source: d, Retry: 30 * time.Millisecond, Logf: t.Logf})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- tr.Run(ctx, bus.Conn(t)) }()
	time.Sleep(200 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("Run ended without a watcher: %v", err)
	default:
	}
	f := &fixture{bus: bus, host: bus.Conn(t)}
	startWatcher(t, bus)
	f.item = f.waitItem(t)
	f.waitMenu(t, "dom0", "sys-net", "work", "---", "Qube Manager")
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v", err)
	}
}

// patience bounds every wait for the bus; generous, since CI machines are
// shared and slow, and a healthy run never waits this long.
const patience = 10 * time.Second
