// Package sni exports a tray icon over D-Bus: an org.kde.StatusNotifierItem
// with its menu as com.canonical.dbusmenu, registered with the session's
// org.kde.StatusNotifierWatcher (KDE Plasma, waybar, the Haskell watcher).
// It needs nothing but a bus connection: no toolkit, no GL, no display.
package sni

import (
	"fmt"
	"log"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/introspect"
)

// D-Bus names of the protocol.
const (
	ItemInterface    = "org.kde.StatusNotifierItem"
	ItemPath         = dbus.ObjectPath("/StatusNotifierItem")
	WatcherName      = "org.kde.StatusNotifierWatcher"
	WatcherPath      = dbus.ObjectPath("/StatusNotifierWatcher")
	WatcherInterface = "org.kde.StatusNotifierWatcher"
	MenuPath         = dbus.ObjectPath("/MenuBar")
)

// Pixmap is one icon size in the StatusNotifierItem wire format (iiay):
// ARGB32 pixels, row-major, each pixel in network byte order (A, R, G, B).
type Pixmap struct {
	Width, Height int32
	Data          []byte
}

// ToolTip is the StatusNotifierItem tooltip (sa(iiay)ss).
type ToolTip struct {
	IconName string
	Icon     []Pixmap
	Title    string
	Text     string
}

// Config is the fixed part of an item.
type Config struct {
	ID       string // stable application id, e.g. "qube-tray"
	Title    string
	Category string // ApplicationStatus, Communications, SystemServices or Hardware
	Icon     []Pixmap
	ToolTip  ToolTip
	// Logf reports registration trouble; nil means log.Printf.
	Logf func(format string, args ...any)
}

// Item is an exported StatusNotifierItem with its menu.
type Item struct {
	conn  *dbus.Conn
	props *props
	cfg   Config
	menu  *Menu
	name  string
	sigs  chan *dbus.Signal
	done  chan struct{}
	once  sync.Once

	registrations atomic.Int32
}

var itemSeq atomic.Int32

// Export puts the item and menu on conn, takes a bus name of the form
// org.kde.StatusNotifierItem-<pid>-<n>, and registers with the watcher now
// and every time a watcher (re)appears. A missing watcher is not an error:
// the item waits for one.
func Export(conn *dbus.Conn, cfg Config, menu *Menu) (*Item, error) {
	if cfg.Logf == nil {
		cfg.Logf = log.Printf
	}
	if cfg.Category == "" {
		cfg.Category = "ApplicationStatus"
	}
	it := &Item{
		conn: conn,
		cfg:  cfg,
		menu: menu,
		name: fmt.Sprintf("org.kde.StatusNotifierItem-%d-%d", os.Getpid(), itemSeq.Add(1)),
		sigs: make(chan *dbus.Signal, 16),
		done: make(chan struct{}),
	}
	if err := menu.export(conn); err != nil {
		return nil, err
	}
	if err := conn.Export(itemMethods{}, ItemPath, ItemInterface); err != nil {
		return nil, fmt.Errorf("export %s: %w", ItemInterface, err)
	}
	pixmaps := cfg.Icon
	if pixmaps == nil {
		pixmaps = []Pixmap{}
	}
	tt := cfg.ToolTip
	if tt.Icon == nil {
		tt.Icon = []Pixmap{}
	}
	props, err := exportProps(conn, ItemPath, ItemInterface, map[string]any{
		"Category":            cfg.Category,
		"Id":                  cfg.ID,
		"Title":               cfg.Title,
		"Status":              "Active",
		"WindowId":            int32(0),
		"IconThemePath":       "",
		"IconName":            "",
		"IconPixmap":          pixmaps,
		"OverlayIconName":     "",
		"OverlayIconPixmap":   []Pixmap{},
		"AttentionIconName":   "",
		"AttentionIconPixmap": []Pixmap{},
		"AttentionMovieName":  "",
		"ToolTip":             tt,
		"ItemIsMenu":          true, // a primary click opens the menu, as in Qubes' own tray
		"Menu":                MenuPath,
	})
	if err != nil {
		return nil, fmt.Errorf("export %s properties: %w", ItemInterface, err)
	}
	it.props = props
	node := &introspect.Node{Name: string(ItemPath), Interfaces: []introspect.Interface{
		introspect.IntrospectData, propsIntrospection,
		{Name: ItemInterface, Methods: introspect.Methods(itemMethods{}), Properties: props.introspection(),
			Signals: []introspect.Signal{{Name: "NewTitle"}, {Name: "NewIcon"}, {Name: "NewToolTip"},
				{Name: "NewStatus", Args: []introspect.Arg{{Name: "status", Type: "s"}}}}},
	}}
	if err := conn.Export(introspect.NewIntrospectable(node), ItemPath, "org.freedesktop.DBus.Introspectable"); err != nil {
		return nil, err
	}
	if _, err := conn.RequestName(it.name, dbus.NameFlagDoNotQueue); err != nil {
		return nil, fmt.Errorf("request bus name %s: %w", it.name, err)
	}
	if err := conn.AddMatchSignal(dbus.WithMatchSender("org.freedesktop.DBus"),
		dbus.WithMatchInterface("org.freedesktop.DBus"), dbus.WithMatchMember("NameOwnerChanged"),
		dbus.WithMatchArg(0, WatcherName)); err != nil {
		return nil, fmt.Errorf("watch for %s: %w", WatcherName, err)
	}
	conn.Signal(it.sigs)
	go it.watch()
	it.register()
	return it, nil
}

// BusName is the well-known name the item registered under.
func (it *Item) BusName() string { return it.name }

// Registrations counts successful registrations with a watcher.
func (it *Item) Registrations() int { return int(it.registrations.Load()) }

// Close stops re-registering and removes the item from the bus.
func (it *Item) Close() {
	it.once.Do(func() {
		close(it.done)
		it.conn.RemoveSignal(it.sigs)
		_, _ = it.conn.ReleaseName(it.name)
		unexport(it.conn, ItemPath, ItemInterface)
		it.menu.unexport(it.conn)
	})
}

func (it *Item) watch() {
	for {
		select {
		case <-it.done:
			return
		case s, ok := <-it.sigs:
			if !ok {
				return
			}
			if s.Name != "org.freedesktop.DBus.NameOwnerChanged" || len(s.Body) != 3 {
				continue
			}
			if name, _ := s.Body[0].(string); name != WatcherName {
				continue
			}
			if owner, _ := s.Body[2].(string); owner != "" {
				go it.registerSoon()
			} else {
				it.cfg.Logf("sni: %s left the bus; waiting for it to return", WatcherName)
			}
		}
	}
}

// register tells the watcher about the item; a missing watcher is logged
// and left to the NameOwnerChanged watch.
func (it *Item) register() bool {
	call := it.conn.Object(WatcherName, WatcherPath).Call(WatcherInterface+".RegisterStatusNotifierItem", 0, it.name)
	if call.Err != nil {
		it.cfg.Logf("sni: cannot register with the tray watcher yet (%v); the icon appears when one starts", call.Err)
		return false
	}
	it.registrations.Add(1)
	return true
}

// registerSoon registers with a watcher that just took its name: watchers
// may own the name a moment before they export their object, so it retries
// for a few seconds.
func (it *Item) registerSoon() {
	delay := 20 * time.Millisecond
	for range 8 {
		if it.register() {
			return
		}
		select {
		case <-it.done:
			return
		case <-time.After(delay):
		}
		delay *= 2
	}
}

// SetIcon replaces the icon and tells hosts (NewIcon).
func (it *Item) SetIcon(p []Pixmap) {
	if p == nil {
		p = []Pixmap{}
	}
	it.props.set("IconPixmap", p)
	_ = it.conn.Emit(ItemPath, ItemInterface+".NewIcon")
}

// SetToolTip replaces the tooltip and tells hosts (NewToolTip).
func (it *Item) SetToolTip(tt ToolTip) {
	if tt.Icon == nil {
		tt.Icon = []Pixmap{}
	}
	it.props.set("ToolTip", tt)
	_ = it.conn.Emit(ItemPath, ItemInterface+".NewToolTip")
}

// SetStatus sets Passive, Active or NeedsAttention and tells hosts (NewStatus).
func (it *Item) SetStatus(s string) {
	it.props.set("Status", s)
	_ = it.conn.Emit(ItemPath, ItemInterface+".NewStatus", s)
}

// itemMethods holds the D-Bus methods only, so that exported Go methods of
// Item do not leak onto the bus.
type itemMethods struct{}

// Clicks on the icon itself do nothing: hosts show the menu (ItemIsMenu).
func (m itemMethods) Activate(x, y int32) *dbus.Error          { return nil }
func (m itemMethods) SecondaryActivate(x, y int32) *dbus.Error { return nil }
func (m itemMethods) ContextMenu(x, y int32) *dbus.Error       { return nil }
func (m itemMethods) Scroll(delta int32, orientation string) *dbus.Error {
	return nil
}
