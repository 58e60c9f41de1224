// Package notify sends desktop notifications through the session bus
// service org.freedesktop.Notifications (KDE Plasma, mako, dunst, ...).
package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/godbus/dbus/v5"
)

// D-Bus names of the notification service.
const (
	Name      = "org.freedesktop.Notifications"
	Path      = dbus.ObjectPath("/org/freedesktop/Notifications")
	Interface = "org.freedesktop.Notifications"
)

// Urgency is the notification urgency; the zero value is Normal.
type Urgency byte

// Urgency levels of the specification.
const (
	Normal Urgency = iota
	Low
	Critical
)

// wire is the value of the "urgency" hint: 0 low, 1 normal, 2 critical.
func (u Urgency) wire() byte { return [...]byte{1, 0, 2}[u] }

// Notification is one message to show.
type Notification struct {
	Summary string
	Body    string
	Icon    string // theme icon name or file:// URI; may be empty
	Urgency Urgency
}

// Notifier sends notifications as one application.
type Notifier struct {
	conn    *dbus.Conn
	app     string
	timeout time.Duration
}

// New returns a notifier that sends as app over conn.
func New(conn *dbus.Conn, app string) *Notifier {
	return &Notifier{conn: conn, app: app, timeout: 5 * time.Second}
}

// Send shows n and returns the id the server gave it. A session without a
// notification service yields an error naming it, never a hang.
func (nt *Notifier) Send(ctx context.Context, n Notification) (uint32, error) {
	ctx, cancel := context.WithTimeout(ctx, nt.timeout)
	defer cancel()
	hints := map[string]dbus.Variant{"urgency": dbus.MakeVariant(n.Urgency.wire())}
	var id uint32
	err := nt.conn.Object(Name, Path).CallWithContext(ctx, Interface+".Notify", 0,
		nt.app, uint32(0), n.Icon, n.Summary, n.Body, []string{}, hints, int32(-1)).Store(&id)
	if err != nil {
		return 0, fmt.Errorf("desktop notification %q: %w (is a notification service running on the session bus?)", n.Summary, err)
	}
	return id, nil
}
