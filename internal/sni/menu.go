package sni

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/introspect"
)

// MenuInterface is the dbusmenu interface name.
const MenuInterface = "com.canonical.dbusmenu"

// MenuItem is one entry of the menu. IDs are chosen by the caller and must
// be unique and positive (0 is the root); keeping an entry's ID across
// updates lets hosts keep an open menu in place.
type MenuItem struct {
	ID        int32
	Label     string // literal text: underscores are escaped, so no mnemonics
	Separator bool
	Disabled  bool
	Icon      []byte // PNG, shown beside the label
	Children  []MenuItem
}

// Menu is a com.canonical.dbusmenu object. Set replaces its content; the
// host is told through LayoutUpdated when the tree's shape changes and
// through ItemsPropertiesUpdated when only labels, icons or states change.
type Menu struct {
	onClick func(id int32)

	mu       sync.Mutex
	conn     *dbus.Conn
	revision uint32
	items    map[int32]node // id → node; 0 is the root
}

type node struct {
	props    map[string]dbus.Variant
	children []int32
}

// NewMenu makes an empty menu; onClick gets the ID of each clicked entry
// on its own goroutine.
func NewMenu(onClick func(id int32)) *Menu {
	return &Menu{onClick: onClick, revision: 1, items: map[int32]node{0: {props: rootProps()}}}
}

func rootProps() map[string]dbus.Variant {
	return map[string]dbus.Variant{"children-display": dbus.MakeVariant("submenu")}
}

// Set replaces the top-level entries. It returns an error, and changes
// nothing, when IDs are not unique and positive.
func (m *Menu) Set(top []MenuItem) error {
	items := map[int32]node{0: {props: rootProps()}}
	var add func(parent int32, list []MenuItem) error
	add = func(parent int32, list []MenuItem) error {
		root := items[parent]
		for _, mi := range list {
			if mi.ID <= 0 {
				return fmt.Errorf("menu item %q: id %d is not positive", mi.Label, mi.ID)
			}
			if _, dup := items[mi.ID]; dup {
				return fmt.Errorf("menu item %q: id %d used twice", mi.Label, mi.ID)
			}
			root.children = append(root.children, mi.ID)
			items[mi.ID] = node{props: itemProps(mi)}
			if err := add(mi.ID, mi.Children); err != nil {
				return err
			}
		}
		items[parent] = root
		return nil
	}
	if err := add(0, top); err != nil {
		return err
	}

	m.mu.Lock()
	old := m.items
	m.items = items
	sameShape := len(old) == len(items)
	for id, n := range items {
		if o, ok := old[id]; !ok || !slices.Equal(o.children, n.children) {
			sameShape = false
			break
		}
	}
	var updated []groupProps
	var removed []itemRemoved
	if sameShape {
		for _, id := range slices.Sorted(maps.Keys(items)) {
			o, n := old[id].props, items[id].props
			var up groupProps
			var rm itemRemoved
			for k, v := range n {
				if ov, ok := o[k]; !ok || !variantEqual(ov, v) {
					if up.Props == nil {
						up = groupProps{ID: id, Props: map[string]dbus.Variant{}}
					}
					up.Props[k] = v
				}
			}
			for k := range o {
				if _, ok := n[k]; !ok {
					rm.ID = id
					rm.Names = append(rm.Names, k)
				}
			}
			if up.Props != nil {
				updated = append(updated, up)
			}
			if rm.Names != nil {
				slices.Sort(rm.Names)
				removed = append(removed, rm)
			}
		}
	} else {
		m.revision++
	}
	rev, conn := m.revision, m.conn
	m.mu.Unlock()

	if conn == nil {
		return nil
	}
	switch {
	case !sameShape:
		return conn.Emit(MenuPath, MenuInterface+".LayoutUpdated", rev, int32(0))
	case updated != nil || removed != nil:
		if updated == nil {
			updated = []groupProps{}
		}
		if removed == nil {
			removed = []itemRemoved{}
		}
		return conn.Emit(MenuPath, MenuInterface+".ItemsPropertiesUpdated", updated, removed)
	}
	return nil
}

func variantEqual(a, b dbus.Variant) bool {
	if ab, ok := a.Value().([]byte); ok {
		bb, ok := b.Value().([]byte)
		return ok && string(ab) == string(bb)
	}
	return a.Signature() == b.Signature() && a.Value() == b.Value()
}

// itemProps lists only the properties that differ from dbusmenu's defaults,
// as the protocol asks.
func itemProps(mi MenuItem) map[string]dbus.Variant {
	p := map[string]dbus.Variant{}
	if mi.Separator {
		p["type"] = dbus.MakeVariant("separator")
		return p
	}
	p["label"] = dbus.MakeVariant(strings.ReplaceAll(mi.Label, "_", "__"))
	if mi.Disabled {
		p["enabled"] = dbus.MakeVariant(false)
	}
	if len(mi.Icon) > 0 {
		p["icon-data"] = dbus.MakeVariant(mi.Icon)
	}
	if len(mi.Children) > 0 {
		p["children-display"] = dbus.MakeVariant("submenu")
	}
	return p
}

// Wire types of com.canonical.dbusmenu.
type (
	layout struct {
		ID       int32
		Props    map[string]dbus.Variant
		Children []dbus.Variant
	}
	groupProps struct {
		ID    int32
		Props map[string]dbus.Variant
	}
	itemRemoved struct {
		ID    int32
		Names []string
	}
	menuEvent struct {
		ID        int32
		EventID   string
		Data      dbus.Variant
		Timestamp uint32
	}
)

func (m *Menu) export(conn *dbus.Conn) error {
	m.mu.Lock()
	m.conn = conn
	m.mu.Unlock()
	if err := conn.Export(menuMethods{m}, MenuPath, MenuInterface); err != nil {
		return fmt.Errorf("export %s: %w", MenuInterface, err)
	}
	props, err := exportProps(conn, MenuPath, MenuInterface, map[string]any{
		"Version":       uint32(3),
		"TextDirection": "ltr",
		"Status":        "normal",
		"IconThemePath": []string{},
	})
	if err != nil {
		return fmt.Errorf("export %s properties: %w", MenuInterface, err)
	}
	node := &introspect.Node{Name: string(MenuPath), Interfaces: []introspect.Interface{
		introspect.IntrospectData, propsIntrospection,
		{Name: MenuInterface, Methods: introspect.Methods(menuMethods{}), Properties: props.introspection(),
			Signals: []introspect.Signal{
				{Name: "ItemsPropertiesUpdated", Args: []introspect.Arg{{Name: "updatedProps", Type: "a(ia{sv})"}, {Name: "removedProps", Type: "a(ias)"}}},
				{Name: "LayoutUpdated", Args: []introspect.Arg{{Name: "revision", Type: "u"}, {Name: "parent", Type: "i"}}},
				{Name: "ItemActivationRequested", Args: []introspect.Arg{{Name: "id", Type: "i"}, {Name: "timestamp", Type: "u"}}},
			}},
	}}
	return conn.Export(introspect.NewIntrospectable(node), MenuPath, "org.freedesktop.DBus.Introspectable")
}

func (m *Menu) unexport(conn *dbus.Conn) {
	unexport(conn, MenuPath, MenuInterface)
	m.mu.Lock()
	m.conn = nil
	m.mu.Unlock()
}

// build returns the layout of id down to depth levels (-1: all), keeping
// only the named properties (none named: all). Callers hold m.mu.
func (m *Menu) build(id int32, depth int32, names []string) layout {
	n := m.items[id]
	l := layout{ID: id, Props: filterProps(n.props, names), Children: []dbus.Variant{}}
	if depth == 0 {
		return l
	}
	for _, c := range n.children {
		l.Children = append(l.Children, dbus.MakeVariant(m.build(c, depth-1, names)))
	}
	return l
}

func filterProps(p map[string]dbus.Variant, names []string) map[string]dbus.Variant {
	out := map[string]dbus.Variant{}
	for k, v := range p {
		if len(names) == 0 || slices.Contains(names, k) {
			out[k] = v
		}
	}
	return out
}

func unknownID(id int32) *dbus.Error {
	return dbus.NewError("com.canonical.dbusmenu.Error.UnknownId", []any{fmt.Sprintf("no menu item with id %d", id)})
}

// menuMethods holds the D-Bus methods of the menu.
type menuMethods struct{ m *Menu }

func (mm menuMethods) GetLayout(parentID, depth int32, names []string) (uint32, layout, *dbus.Error) {
	m := mm.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.items[parentID]; !ok {
		return 0, layout{}, unknownID(parentID)
	}
	return m.revision, m.build(parentID, depth, names), nil
}

func (mm menuMethods) GetGroupProperties(ids []int32, names []string) ([]groupProps, *dbus.Error) {
	m := mm.m
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []groupProps{}
	if len(ids) == 0 { // the spec's "all items"
		ids = slices.Sorted(maps.Keys(m.items))
	}
	for _, id := range ids {
		if n, ok := m.items[id]; ok {
			out = append(out, groupProps{ID: id, Props: filterProps(n.props, names)})
		}
	}
	return out, nil
}

func (mm menuMethods) GetProperty(id int32, name string) (dbus.Variant, *dbus.Error) {
	m := mm.m
	m.mu.Lock()
	defer m.mu.Unlock()
	n, ok := m.items[id]
	if !ok {
		return dbus.Variant{}, unknownID(id)
	}
	v, ok := n.props[name]
	if !ok {
		return dbus.Variant{}, dbus.NewError("com.canonical.dbusmenu.Error.UnknownProperty",
			[]any{fmt.Sprintf("menu item %d has no property %q", id, name)})
	}
	return v, nil
}

func (mm menuMethods) Event(id int32, eventID string, data dbus.Variant, timestamp uint32) *dbus.Error {
	if !mm.m.event(id, eventID) {
		return unknownID(id)
	}
	return nil
}

func (mm menuMethods) EventGroup(events []menuEvent) ([]int32, *dbus.Error) {
	bad := []int32{}
	for _, e := range events {
		if !mm.m.event(e.ID, e.EventID) {
			bad = append(bad, e.ID)
		}
	}
	if len(events) > 0 && len(bad) == len(events) {
		return bad, dbus.NewError("com.canonical.dbusmenu.Error.UnknownId", []any{"none of the event ids exist"})
	}
	return bad, nil
}

func (mm menuMethods) AboutToShow(id int32) (bool, *dbus.Error) {
	mm.m.mu.Lock()
	defer mm.m.mu.Unlock()
	if _, ok := mm.m.items[id]; !ok {
		return false, unknownID(id)
	}
	return false, nil // the menu is always current
}

func (mm menuMethods) AboutToShowGroup(ids []int32) ([]int32, []int32, *dbus.Error) {
	mm.m.mu.Lock()
	defer mm.m.mu.Unlock()
	bad := []int32{}
	for _, id := range ids {
		if _, ok := mm.m.items[id]; !ok {
			bad = append(bad, id)
		}
	}
	return []int32{}, bad, nil
}

// event reports whether id exists; "clicked" on an existing, enabled leaf
// reaches onClick.
func (m *Menu) event(id int32, eventID string) bool {
	m.mu.Lock()
	n, ok := m.items[id]
	m.mu.Unlock()
	if !ok {
		return false
	}
	if eventID == "clicked" && id != 0 && len(n.children) == 0 && n.props["enabled"].Value() != false && m.onClick != nil {
		go m.onClick(id)
	}
	return true
}
