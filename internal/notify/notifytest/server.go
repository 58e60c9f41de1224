// Package notifytest is a minimal org.freedesktop.Notifications service
// for tests: it records what it receives and shows nothing.
package notifytest

import (
	"fmt"
	"sync"

	"github.com/godbus/dbus/v5"
	"github.com/qube-desktop/qube-desktop/internal/notify"
)

// Received is a notification as a Server got it off the bus.
type Received struct {
	App     string
	Icon    string
	Summary string
	Body    string
	Urgency notify.Urgency
}

// Server records the notifications it receives. Tests run it on a private
// bus as the desktop's notification daemon.
type Server struct {
	C chan Received // every Notify call, in order

	mu   sync.Mutex
	next uint32
}

// Serve exports a Server on conn and takes the service name.
func Serve(conn *dbus.Conn) (*Server, error) {
	s := &Server{C: make(chan Received, 64)}
	if err := conn.Export(serverMethods{s}, notify.Path, notify.Interface); err != nil {
		return nil, err
	}
	reply, err := conn.RequestName(notify.Name, dbus.NameFlagDoNotQueue)
	if err != nil {
		return nil, fmt.Errorf("request %s: %w", notify.Name, err)
	}
	if reply != dbus.RequestNameReplyPrimaryOwner {
		return nil, fmt.Errorf("%s is already owned on this bus", notify.Name)
	}
	return s, nil
}

type serverMethods struct{ s *Server }

func (m serverMethods) Notify(app string, replaces uint32, icon, summary, body string,
	actions []string, hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	u := notify.Normal // the specification's default, also for a missing hint
	if b, ok := hints["urgency"].Value().(byte); ok {
		switch b {
		case 0:
			u = notify.Low
		case 2:
			u = notify.Critical
		}
	}
	m.s.C <- Received{App: app, Icon: icon, Summary: summary, Body: body, Urgency: u}
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	m.s.next++
	return m.s.next, nil
}

func (m serverMethods) GetCapabilities() ([]string, *dbus.Error) { return []string{"body"}, nil }

func (m serverMethods) GetServerInformation() (string, string, string, string, *dbus.Error) {
	return "qube-desktop test server", "qube-desktop", "1", "1.2", nil
}

func (m serverMethods) CloseNotification(id uint32) *dbus.Error { return nil }
