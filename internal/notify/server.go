package notify

import (
	"fmt"
	"sync"

	"github.com/godbus/dbus/v5"
)

// Received is a notification as a Server got it off the bus.
type Received struct {
	App     string
	Icon    string
	Summary string
	Body    string
	Urgency Urgency
}

// Server is a minimal org.freedesktop.Notifications service that records
// what it receives. Tests run it on a private bus as the desktop's
// notification daemon; it shows nothing.
type Server struct {
	C chan Received // every Notify call, in order

	mu   sync.Mutex
	next uint32
}

// Serve exports a Server on conn and takes the service name.
func Serve(conn *dbus.Conn) (*Server, error) {
	s := &Server{C: make(chan Received, 64)}
	if err := conn.Export(serverMethods{s}, Path, Interface); err != nil {
		return nil, err
	}
	reply, err := conn.RequestName(Name, dbus.NameFlagDoNotQueue)
	if err != nil {
		return nil, fmt.Errorf("request %s: %w", Name, err)
	}
	if reply != dbus.RequestNameReplyPrimaryOwner {
		return nil, fmt.Errorf("%s is already owned on this bus", Name)
	}
	return s, nil
}

type serverMethods struct{ s *Server }

func (m serverMethods) Notify(app string, replaces uint32, icon, summary, body string,
	actions []string, hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	u, ok := hints["urgency"].Value().(byte)
	if !ok {
		u = 1 // the specification's default
	}
	m.s.C <- Received{App: app, Icon: icon, Summary: summary, Body: body, Urgency: urgencyFromWire(u)}
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
