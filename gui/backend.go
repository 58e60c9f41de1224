// Package gui is the Qube Manager's user interface: the qube table, its
// filters, the actions and the create, clone and settings dialogs. It talks
// to qubesd only through Backend, so it runs headless in tests with Fyne's
// test driver; it never imports fyne.io/fyne/v2/app.
package gui

import (
	"context"
	"errors"

	"github.com/qube-desktop/qube-desktop/internal/qube"
)

// Backend is what the manager needs from qubesd or qube-hostd. Every method
// may block; the manager calls them off the UI thread.
type Backend interface {
	// List returns every qube with name, class and state, without properties.
	List(ctx context.Context) ([]qube.Qube, error)
	// Details reads what the table shows beyond List: properties and the
	// internal flag.
	Details(ctx context.Context, name string) (Details, error)
	// DiskUsage sums the usage of a qube's volumes, in bytes. It is read
	// after every qube's details, as it costs several calls per qube.
	DiskUsage(ctx context.Context, name string) (int64, error)
	// Labels returns the labels qubesd knows, in index order.
	Labels(ctx context.Context) ([]qube.Label, error)

	// Events follows admin.Events until ctx ends or the connection breaks.
	// The first event of every connection is connection-established.
	Events(ctx context.Context, handle func(Event)) error
	// Stats follows admin.vm.Stats the same way.
	Stats(ctx context.Context, handle func(Stat)) error

	Start(ctx context.Context, name string) error
	// Shutdown asks the qube to halt. It fails with an error matching
	// ErrInUse when other qubes depend on it, unless forced.
	Shutdown(ctx context.Context, name string, o ShutdownOptions) error
	Kill(ctx context.Context, name string) error
	Pause(ctx context.Context, name string) error
	Unpause(ctx context.Context, name string) error
	// Run starts a shell command line in the qube.
	Run(ctx context.Context, name, command string) error

	SetProperty(ctx context.Context, name, prop, value string) error
	ResetProperty(ctx context.Context, name, prop string) error
	Features(ctx context.Context, name string) (map[string]string, error)
	SetFeature(ctx context.Context, name, feature, value string) error
	RemoveFeature(ctx context.Context, name, feature string) error

	Create(ctx context.Context, r CreateRequest) error
	// Clone makes dst a copy of src: class, template, label, properties
	// and features.
	Clone(ctx context.Context, src, dst string) error
	Remove(ctx context.Context, name string) error
}

// ShutdownOptions are admin.vm.Shutdown's arguments.
type ShutdownOptions struct {
	Force bool // shut down even if other qubes use it (they lose their network)
	Wait  bool // return only once the qube has halted
}

// ErrInUse is matched (errors.Is) by a refusal because other qubes use the
// qube, which a forced shutdown overrides.
var ErrInUse = errors.New("the qube is in use by other qubes")

// Details is a qube's data beyond admin.vm.List.
type Details struct {
	Props    map[string]qube.Property
	Internal bool // feature "internal": hidden unless asked for
}

// Event is one admin.Events message.
type Event struct {
	Subject string // the qube, empty for app-level events
	Name    string // e.g. domain-start, property-set:label
	Args    map[string]string
}

// Stat is one vm-stats message: the load of a running qube.
type Stat struct {
	Name      string
	CPU       int // percent
	MemoryKiB int64
}

// CreateRequest is admin.vm.Create: the create dialog sets the other
// properties (netvm, memory) afterwards with SetProperty.
type CreateRequest struct {
	Name     string
	Class    qube.Class
	Label    string
	Template string // empty for classes without one
}
