package sni

import (
	"image"
	"image/color"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/qube-desktop/qube-desktop/internal/testenv"
)

// registered reads the watcher's list of items.
func registered(t *testing.T, c *dbus.Conn) []string {
	t.Helper()
	v, err := c.Object(WatcherName, WatcherPath).GetProperty(WatcherInterface + ".RegisteredStatusNotifierItems")
	if err != nil {
		t.Fatalf("read RegisteredStatusNotifierItems: %v", err)
	}
	return v.Value().([]string)
}

func waitRegistered(t *testing.T, c *dbus.Conn, name string) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for {
		list := registered(t, c)
		for _, s := range list {
			// The Haskell watcher lists bus names, KDE's "name/path".
			if s == name || s == name+string(ItemPath) {
				t.Logf("the watcher lists the item as %q", s)
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not registered with the watcher; it lists %q", name, list)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func testMenu() []MenuItem {
	return []MenuItem{
		{ID: 10, Label: "sys_net", Icon: []byte{0x89, 'P', 'N', 'G'}, Children: []MenuItem{
			{ID: 11, Label: "Shutdown"},
			{ID: 12, Label: "Kill", Disabled: true},
		}},
		{ID: 2, Separator: true},
		{ID: 1, Label: "Qube Manager"},
	}
}

type fixture struct {
	bus     *testenv.Bus
	watcher *testenv.Proc
	item    *Item
	conn    *dbus.Conn // the item's connection
	host    *dbus.Conn // the test's side, playing the tray host
	clicks  chan int32
}

// watchers are the real StatusNotifierWatcher implementations the item is
// tested with.
var watchers = []struct {
	name  string
	start func(testing.TB, *testenv.Bus) *testenv.Proc
}{
	{"haskell", testenv.StartSNIWatcher}, // Debian haskell-status-notifier-item-utils
	{"kde", testenv.StartKDEWatcher},     // kded5 from plasma-workspace
}

func startItem(t *testing.T, startWatcher func(testing.TB, *testenv.Bus) *testenv.Proc) fixture {
	t.Helper()
	bus := testenv.StartDBus(t)
	w := startWatcher(t, bus)
	clicks := make(chan int32, 4)
	m := NewMenu(func(id int32) { clicks <- id })
	if err := m.Set(testMenu()); err != nil {
		t.Fatal(err)
	}
	img := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	img.Set(0, 0, color.NRGBA{0xcc, 0, 0, 0xff})
	img.Set(1, 0, color.NRGBA{0x11, 0x22, 0x33, 0x80})
	// The test plays the panel: it registers as a host and listens for
	// the watcher's announcement, as Plasma does.
	host := bus.Conn(t)
	hostName := "org.kde.StatusNotifierHost-test"
	if _, err := host.RequestName(hostName, dbus.NameFlagDoNotQueue); err != nil {
		t.Fatal(err)
	}
	if err := host.Object(WatcherName, WatcherPath).Call(WatcherInterface+".RegisterStatusNotifierHost", 0, hostName).Err; err != nil {
		t.Fatalf("RegisterStatusNotifierHost: %v", err)
	}
	announced := make(chan *dbus.Signal, 8)
	host.Signal(announced)
	if err := host.AddMatchSignal(dbus.WithMatchInterface(WatcherInterface), dbus.WithMatchMember("StatusNotifierItemRegistered")); err != nil {
		t.Fatal(err)
	}
	conn := bus.Conn(t)
	it, err := Export(conn, Config{ID: "qube-tray", Title: "Qubes", Category: "SystemServices",
		Icon: []Pixmap{PixmapFromImage(img)}, Logf: t.Logf}, m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(it.Close)
	waitRegistered(t, host, it.BusName())
	for timeout := time.After(patience); ; {
		select {
		case s := <-announced:
			if arg, _ := s.Body[0].(string); s.Name == WatcherInterface+".StatusNotifierItemRegistered" &&
				(arg == it.BusName() || arg == it.BusName()+string(ItemPath)) {
				host.RemoveSignal(announced)
				return fixture{bus, w, it, conn, host, clicks}
			}
		case <-timeout:
			t.Fatalf("the watcher did not announce %s with StatusNotifierItemRegistered", it.BusName())
		}
	}
}

func TestItemRegistersAndExposesProperties(t *testing.T) {
	for _, w := range watchers {
		t.Run(w.name, func(t *testing.T) { testItemProperties(t, w.start) })
	}
}

func testItemProperties(t *testing.T, startWatcher func(testing.TB, *testenv.Bus) *testenv.Proc) {
	f := startItem(t, startWatcher)
	it, host := f.item, f.host
	call := host.Object(it.BusName(), ItemPath).Call("org.freedesktop.DBus.Properties.GetAll", 0, ItemInterface)
	if call.Err != nil {
		t.Fatal(call.Err)
	}
	// Read the body as decoded, so the variants keep their wire signatures.
	props := call.Body[0].(map[string]dbus.Variant)
	for k, want := range map[string]any{"Id": "qube-tray", "Title": "Qubes", "Status": "Active",
		"Category": "SystemServices", "Menu": MenuPath, "ItemIsMenu": true} {
		if got := props[k].Value(); got != want {
			t.Errorf("%s = %#v, want %#v", k, got, want)
		}
	}
	if sig := props["IconPixmap"].Signature().String(); sig != "a(iiay)" {
		t.Fatalf("IconPixmap signature %s", sig)
	}
	var px []Pixmap
	if err := props["IconPixmap"].Store(&px); err != nil {
		t.Fatal(err)
	}
	want := []byte{0xff, 0xcc, 0, 0, 0x80, 0x11, 0x22, 0x33} // A,R,G,B per pixel
	if len(px) != 1 || px[0].Width != 2 || px[0].Height != 1 || string(px[0].Data) != string(want) {
		t.Fatalf("IconPixmap = %+v, want 2x1 % x", px, want)
	}
	if sig := props["ToolTip"].Signature().String(); sig != "(sa(iiay)ss)" {
		t.Fatalf("ToolTip signature %s", sig)
	}

	// Updates replace the values and announce them.
	sigs := make(chan *dbus.Signal, 8)
	host.Signal(sigs)
	if err := host.AddMatchSignal(dbus.WithMatchInterface(ItemInterface)); err != nil {
		t.Fatal(err)
	}
	it.SetIcon([]Pixmap{{Width: 1, Height: 1, Data: []byte{1, 2, 3, 4}}})
	if s := nextSignal(t, sigs); s.Name != ItemInterface+".NewIcon" {
		t.Fatalf("got %s, want NewIcon", s.Name)
	}
	it.SetToolTip(ToolTip{Title: "Qubes", Text: "2 running"})
	if s := nextSignal(t, sigs); s.Name != ItemInterface+".NewToolTip" {
		t.Fatalf("got %s, want NewToolTip", s.Name)
	}
	it.SetStatus("NeedsAttention")
	if s := nextSignal(t, sigs); s.Name != ItemInterface+".NewStatus" || s.Body[0] != "NeedsAttention" {
		t.Fatalf("got %s %v, want NewStatus(NeedsAttention)", s.Name, s.Body)
	}
	obj := host.Object(it.BusName(), ItemPath)
	if err := obj.Call("org.freedesktop.DBus.Properties.Get", 0, ItemInterface, "IconPixmap").Store(&px); err != nil ||
		len(px) != 1 || string(px[0].Data) != "\x01\x02\x03\x04" {
		t.Fatalf("IconPixmap after SetIcon = %+v, %v", px, err)
	}
	var tt ToolTip
	if err := obj.Call("org.freedesktop.DBus.Properties.Get", 0, ItemInterface, "ToolTip").Store(&tt); err != nil || tt.Text != "2 running" {
		t.Fatalf("ToolTip after SetToolTip = %+v, %v", tt, err)
	}
	if err := obj.Call("org.freedesktop.DBus.Properties.Set", 0, ItemInterface, "Title", dbus.MakeVariant("x")).Err; err == nil {
		t.Fatal("Set of a read-only property succeeded")
	}
	var xml string
	if err := host.Object(it.BusName(), MenuPath).Call("org.freedesktop.DBus.Introspectable.Introspect", 0).Store(&xml); err != nil ||
		!strings.Contains(xml, `<method name="GetLayout">`) || !strings.Contains(xml, `<signal name="LayoutUpdated">`) {
		t.Fatalf("menu introspection lacks GetLayout/LayoutUpdated: %v\n%s", err, xml)
	}
}

type wireLayout struct {
	ID       int32
	Props    map[string]dbus.Variant
	Children []dbus.Variant
}

func getLayout(t *testing.T, c *dbus.Conn, name string, parent int32) (uint32, wireLayout) {
	t.Helper()
	var rev uint32
	var l wireLayout
	if err := c.Object(name, MenuPath).Call(MenuInterface+".GetLayout", 0, parent, int32(-1), []string{}).Store(&rev, &l); err != nil {
		t.Fatalf("GetLayout: %v", err)
	}
	return rev, l
}

func child(t *testing.T, l wireLayout, i int) wireLayout {
	t.Helper()
	var c wireLayout
	if err := dbus.Store([]any{l.Children[i].Value()}, &c); err != nil {
		t.Fatalf("child %d: %v", i, err)
	}
	return c
}

func TestMenuLayoutEventsAndUpdates(t *testing.T) {
	f := startItem(t, testenv.StartSNIWatcher)
	it, host, clicks := f.item, f.host, f.clicks
	rev, root := getLayout(t, host, it.BusName(), 0)
	if root.ID != 0 || len(root.Children) != 3 {
		t.Fatalf("root = %+v", root)
	}
	q := child(t, root, 0)
	if q.ID != 10 || q.Props["label"].Value() != "sys__net" || q.Props["children-display"].Value() != "submenu" {
		t.Fatalf("first entry = %+v (underscore must be escaped)", q)
	}
	if string(q.Props["icon-data"].Value().([]byte)) != "\x89PNG" {
		t.Fatalf("icon-data = %v", q.Props["icon-data"])
	}
	if k := child(t, q, 1); k.ID != 12 || k.Props["enabled"].Value() != false {
		t.Fatalf("Kill entry = %+v", k)
	}
	if s := child(t, root, 1); s.Props["type"].Value() != "separator" {
		t.Fatalf("separator = %+v", s)
	}

	// Properties one by one and by group.
	var v dbus.Variant
	if err := host.Object(it.BusName(), MenuPath).Call(MenuInterface+".GetProperty", 0, int32(1), "label").Store(&v); err != nil || v.Value() != "Qube Manager" {
		t.Fatalf("GetProperty(1,label) = %v, %v", v, err)
	}
	var group []struct {
		ID    int32
		Props map[string]dbus.Variant
	}
	if err := host.Object(it.BusName(), MenuPath).Call(MenuInterface+".GetGroupProperties", 0, []int32{11, 1, 99}, []string{"label"}).Store(&group); err != nil {
		t.Fatal(err)
	}
	if len(group) != 2 || group[0].ID != 11 || group[0].Props["label"].Value() != "Shutdown" || len(group[1].Props) != 1 {
		t.Fatalf("GetGroupProperties = %+v", group)
	}
	if err := host.Object(it.BusName(), MenuPath).Call(MenuInterface+".GetLayout", 0, int32(77), int32(-1), []string{}).Err; err == nil {
		t.Fatal("GetLayout of an unknown id succeeded")
	}

	// Clicks: a leaf reaches the callback, a disabled one and a submenu do not.
	menu := host.Object(it.BusName(), MenuPath)
	for _, id := range []int32{12, 10, 11} {
		if err := menu.Call(MenuInterface+".Event", 0, id, "clicked", dbus.MakeVariant(""), uint32(0)).Err; err != nil {
			t.Fatalf("Event(%d): %v", id, err)
		}
	}
	if got := <-clicks; got != 11 {
		t.Fatalf("click reached id %d, want 11", got)
	}
	var bad []int32
	if err := menu.Call(MenuInterface+".EventGroup", 0, []menuEvent{{ID: 1, EventID: "clicked", Data: dbus.MakeVariant(int32(0))}, {ID: 55, EventID: "clicked", Data: dbus.MakeVariant(int32(0))}}).Store(&bad); err != nil {
		t.Fatal(err)
	}
	if got := <-clicks; got != 1 || !slices.Equal(bad, []int32{55}) {
		t.Fatalf("EventGroup: click %d, idErrors %v", got, bad)
	}
	var need bool
	if err := menu.Call(MenuInterface+".AboutToShow", 0, int32(0)).Store(&need); err != nil {
		t.Fatal(err)
	}
	select {
	case id := <-clicks:
		t.Fatalf("unexpected click on %d", id)
	default:
	}

	// A label change keeps the shape: ItemsPropertiesUpdated, same revision.
	sigs := make(chan *dbus.Signal, 8)
	host.Signal(sigs)
	if err := host.AddMatchSignal(dbus.WithMatchInterface(MenuInterface)); err != nil {
		t.Fatal(err)
	}
	items := testMenu()
	items[0].Children[0].Label = "Force shutdown"
	items[0].Children[1].Disabled = false
	if err := it.menu.Set(items); err != nil {
		t.Fatal(err)
	}
	s := nextSignal(t, sigs)
	if s.Name != MenuInterface+".ItemsPropertiesUpdated" {
		t.Fatalf("got %s, want ItemsPropertiesUpdated", s.Name)
	}
	var upd []groupProps
	var rm []itemRemoved
	if err := dbus.Store(s.Body, &upd, &rm); err != nil {
		t.Fatal(err)
	}
	if len(upd) != 1 || upd[0].ID != 11 || upd[0].Props["label"].Value() != "Force shutdown" ||
		len(rm) != 1 || rm[0].ID != 12 || !slices.Equal(rm[0].Names, []string{"enabled"}) {
		t.Fatalf("ItemsPropertiesUpdated %+v removed %+v", upd, rm)
	}
	if r, _ := getLayout(t, host, it.BusName(), 0); r != rev {
		t.Fatalf("revision moved from %d to %d on a property change", rev, r)
	}

	// A new entry changes the shape: LayoutUpdated with a new revision.
	items = append(items, MenuItem{ID: 3, Label: "Clipboard: empty", Disabled: true})
	if err := it.menu.Set(items); err != nil {
		t.Fatal(err)
	}
	s = nextSignal(t, sigs)
	if s.Name != MenuInterface+".LayoutUpdated" || s.Body[0].(uint32) != rev+1 || s.Body[1].(int32) != 0 {
		t.Fatalf("got %s %v, want LayoutUpdated(%d, 0)", s.Name, s.Body, rev+1)
	}
	if r, l := getLayout(t, host, it.BusName(), 0); r != rev+1 || len(l.Children) != 4 || child(t, l, 3).ID != 3 {
		t.Fatalf("after update: revision %d, layout %+v", r, l)
	}
	if err := it.menu.Set([]MenuItem{{ID: 1}, {ID: 1}}); err == nil {
		t.Fatal("duplicate ids accepted")
	}
}

func nextSignal(t *testing.T, ch chan *dbus.Signal) *dbus.Signal {
	t.Helper()
	for {
		select {
		case s := <-ch:
			if s.Name == "org.freedesktop.DBus.NameAcquired" {
				continue
			}
			return s
		case <-time.After(patience):
			t.Fatalf("no signal within %v", patience)
		}
	}
}

func TestItemReregistersWhenWatcherRestarts(t *testing.T) {
	for _, w := range watchers {
		t.Run(w.name, func(t *testing.T) { testReregister(t, w.start) })
	}
}

func testReregister(t *testing.T, startWatcher func(testing.TB, *testenv.Bus) *testenv.Proc) {
	f := startItem(t, startWatcher)
	it, host := f.item, f.host
	first := it.Registrations()
	f.watcher.Stop()
	if err := host.Object(WatcherName, WatcherPath).Call("org.freedesktop.DBus.Peer.Ping", 0).Err; err == nil {
		t.Fatal("watcher still answers after Stop")
	}
	// The item must outlive the missing watcher and find the next one.
	time.Sleep(100 * time.Millisecond)
	startWatcher(t, f.bus)
	waitRegistered(t, host, it.BusName())
	if it.Registrations() <= first {
		t.Fatalf("registrations %d after watcher restart, was %d", it.Registrations(), first)
	}
}

func TestCloseRemovesItemAndAllowsExportAgain(t *testing.T) {
	f := startItem(t, testenv.StartSNIWatcher)
	name := f.item.BusName()
	f.item.Close()
	if err := f.host.Object(name, ItemPath).Call("org.freedesktop.DBus.Properties.GetAll", 0, ItemInterface).Err; err == nil {
		t.Fatal("the item still answers after Close")
	}
	var props map[string]dbus.Variant
	err := f.host.Object(f.conn.Names()[0], MenuPath).Call("org.freedesktop.DBus.Properties.GetAll", 0, MenuInterface).Store(&props)
	if err == nil {
		t.Fatalf("the menu still answers after Close: %v", props)
	}
	it, err := Export(f.conn, Config{ID: "again", Logf: t.Logf}, NewMenu(nil))
	if err != nil {
		t.Fatalf("export after Close: %v", err)
	}
	defer it.Close()
	waitRegistered(t, f.host, it.BusName())
}

// patience bounds every wait for the bus; generous, since CI machines are
// shared and slow, and a healthy run never waits this long.
const patience = 10 * time.Second
