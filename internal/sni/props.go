package sni

import (
	"maps"
	"sync"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/introspect"
)

// props is a read-only org.freedesktop.DBus.Properties for one interface.
// Values are replaced whole, never mutated, so a reply being encoded never
// shares memory with a later update. (godbus's prop package stores updates
// into the old value in place, which both races with readers and silently
// keeps old struct values.)
type props struct {
	iface string
	mu    sync.Mutex
	m     map[string]any
}

func exportProps(conn *dbus.Conn, path dbus.ObjectPath, iface string, m map[string]any) (*props, error) {
	p := &props{iface: iface, m: m}
	if err := conn.Export(propsMethods{p}, path, "org.freedesktop.DBus.Properties"); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *props) set(name string, v any) {
	p.mu.Lock()
	p.m[name] = v
	p.mu.Unlock()
}

func (p *props) introspection() []introspect.Property {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []introspect.Property
	for k, v := range p.m {
		out = append(out, introspect.Property{Name: k, Type: dbus.SignatureOf(v).String(), Access: "read"})
	}
	return out
}

type propsMethods struct{ p *props }

func (pm propsMethods) Get(iface, name string) (dbus.Variant, *dbus.Error) {
	pm.p.mu.Lock()
	defer pm.p.mu.Unlock()
	v, ok := pm.p.m[name]
	if iface != pm.p.iface || !ok {
		return dbus.Variant{}, dbus.NewError("org.freedesktop.DBus.Error.UnknownProperty", []any{"no property " + iface + "." + name})
	}
	return dbus.MakeVariant(v), nil
}

func (pm propsMethods) GetAll(iface string) (map[string]dbus.Variant, *dbus.Error) {
	out := map[string]dbus.Variant{}
	if iface != pm.p.iface && iface != "" {
		return out, nil
	}
	pm.p.mu.Lock()
	m := maps.Clone(pm.p.m)
	pm.p.mu.Unlock()
	for k, v := range m {
		out[k] = dbus.MakeVariant(v)
	}
	return out, nil
}

func (pm propsMethods) Set(iface, name string, v dbus.Variant) *dbus.Error {
	return dbus.NewError("org.freedesktop.DBus.Error.PropertyReadOnly", []any{"property " + iface + "." + name + " is read-only"})
}

var propsIntrospection = introspect.Interface{
	Name:    "org.freedesktop.DBus.Properties",
	Methods: introspect.Methods(propsMethods{}),
}

// unexport removes an object's interface, properties and introspection.
func unexport(conn *dbus.Conn, path dbus.ObjectPath, iface string) {
	for _, i := range []string{iface, "org.freedesktop.DBus.Properties", "org.freedesktop.DBus.Introspectable"} {
		_ = conn.Export(nil, path, i)
	}
}
