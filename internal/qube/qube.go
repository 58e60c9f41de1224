// Package qube is the model of a qube shared by the Admin API client, the
// manager, the tray and the host daemon: classes, power states, labels and
// the rules a qube name must follow.
package qube

// Class is a qube class as qubesd names it (admin.vmclass.List).
type Class string

// The classes of qubesd 4.4; RemoteVM is new in 4.3.
const (
	AdminVM      Class = "AdminVM"
	AppVM        Class = "AppVM"
	DispVM       Class = "DispVM"
	StandaloneVM Class = "StandaloneVM"
	TemplateVM   Class = "TemplateVM"
	RemoteVM     Class = "RemoteVM"
)

// Classes lists the known classes in qubesd's order.
var Classes = []Class{AdminVM, AppVM, DispVM, RemoteVM, StandaloneVM, TemplateVM}

// Known reports whether c is one of Classes.
func (c Class) Known() bool {
	for _, k := range Classes {
		if c == k {
			return true
		}
	}
	return false
}

// NeedsTemplate reports whether a qube of this class is based on a template.
func (c Class) NeedsTemplate() bool { return c == AppVM || c == DispVM }

// State is a power state as returned by get_power_state().
type State string

// Power states; dom0 is always Running.
const (
	Halted    State = "Halted"
	Transient State = "Transient"
	Running   State = "Running"
	Paused    State = "Paused"
	Suspended State = "Suspended"
	Halting   State = "Halting"
	Dying     State = "Dying"
	Crashed   State = "Crashed"
	NA        State = "NA"
)

// IsActive reports whether the qube holds resources (anything but Halted,
// Crashed or NA), which is what "qvm ls --running" selects.
func (s State) IsActive() bool {
	switch s {
	case Halted, Crashed, NA, "":
		return false
	}
	return true
}

// PropType is the type token of a property value ("type=vm").
type PropType string

// Property types qubesd sends; unknown ones are kept as they come.
const (
	TypeStr   PropType = "str"
	TypeInt   PropType = "int"
	TypeBool  PropType = "bool"
	TypeVM    PropType = "vm"
	TypeLabel PropType = "label"
	TypeList  PropType = "list"
)

// Property is one qube or global property as read from qubesd.
type Property struct {
	Name    string
	Type    PropType
	Default bool   // the value is the default, not set explicitly
	Value   string // empty means None/unset for vm and label properties
}

// Qube is one qube as the manager and the CLI see it. List fills Name,
// Class, State and UUID; Props is filled by a GetAll.
type Qube struct {
	Name  string
	Class Class
	State State
	UUID  string // empty before R4.3
	Props map[string]Property
}

// Prop returns the value of a property, or "" when it is absent.
func (q Qube) Prop(name string) string { return q.Props[name].Value }

// Label returns the qube's label name, or "" when its properties are not loaded.
func (q Qube) Label() string { return q.Prop("label") }

// Template returns the template name, or "" for classes without one.
func (q Qube) Template() string { return q.Prop("template") }

// NetVM returns the network qube name, or "" when the qube has no network.
func (q Qube) NetVM() string { return q.Prop("netvm") }
