package wayland

import (
	"fmt"

	"github.com/qube-desktop/qube-desktop/compositor/wire"
)

// Raw is a proxy for an interface without generated bindings, encoded by
// hand with wire.Builder; tests use it for protocols Debian ships no XML
// for, such as wlroots' virtual pointer and keyboard. Bind it like any
// object: c.Bind(&wayland.Raw{Name: "zwlr_virtual_pointer_manager_v1", Max: 1}, 1).
type Raw struct {
	proxy
	Name string // interface name
	Max  uint32 // highest version the caller speaks

	// OnEvent decodes an event; without it any event is a fatal error,
	// since its descriptors could not be accounted for.
	OnEvent func(opcode uint16, d *wire.Decoder) error
}

// Interface returns Name.
func (r *Raw) Interface() string { return r.Name }

// MaxVersion returns Max.
func (r *Raw) MaxVersion() uint32 { return r.Max }

// NewChild registers child (a new_id argument of the next request) with
// the version of r and returns its id.
func (r *Raw) NewChild(child Object) (wire.ObjectID, error) {
	if r.c == nil {
		return 0, fmt.Errorf("%s: object was never created", r.Name)
	}
	if err := r.c.register(child, r.version); err != nil {
		return 0, err
	}
	return child.ID(), nil
}

// Request sends request opcode (available since version since) with the
// arguments fill appends. A destructor request marks r destroyed.
func (r *Raw) Request(opcode uint16, since uint32, destructor bool, fill func(b *wire.Builder)) error {
	b, err := r.start(opcode, since, fmt.Sprintf("%s request %d", r.Name, opcode))
	if err != nil {
		return err
	}
	fill(b)
	return r.send(b, destructor)
}

func (r *Raw) dispatch(opcode uint16, d *wire.Decoder) error {
	if r.OnEvent == nil {
		return fmt.Errorf("%s: event %d has no decoder", r.Name, opcode)
	}
	if err := r.OnEvent(opcode, d); err != nil {
		return err
	}
	return d.Finish()
}
