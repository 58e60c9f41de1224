package notify

import (
	"context"
	"strings"
	"testing"

	"github.com/qube-desktop/qube-desktop/internal/testenv"
)

func TestSendReachesServer(t *testing.T) {
	bus := testenv.StartDBus(t)
	srv, err := Serve(bus.Conn(t))
	if err != nil {
		t.Fatal(err)
	}
	n := New(bus.Conn(t), "qube-tray")
	for i, want := range []Notification{
		{Summary: "Qube Status: work", Body: "has started", Icon: "qube-tray"},
		{Summary: "Qube Status: work", Body: "has failed to start: no memory", Urgency: Critical},
		{Summary: "Clipboard", Body: "wiped", Urgency: Low},
	} {
		id, err := n.Send(context.Background(), want)
		if err != nil {
			t.Fatal(err)
		}
		if id != uint32(i+1) {
			t.Errorf("id %d, want %d", id, i+1)
		}
		got := <-srv.C
		if got != (Received{App: "qube-tray", Icon: want.Icon, Summary: want.Summary, Body: want.Body, Urgency: want.Urgency}) {
			t.Errorf("server got %+v for %+v", got, want)
		}
	}
}

func TestSendWithoutServiceFails(t *testing.T) {
	bus := testenv.StartDBus(t)
	_, err := New(bus.Conn(t), "qube-tray").Send(context.Background(), Notification{Summary: "x"})
	if err == nil || !strings.Contains(err.Error(), "notification service") {
		t.Fatalf("err = %v, want one that names the missing service", err)
	}
}

func TestUrgencyHintValues(t *testing.T) {
	// The specification's byte values: 0 low, 1 normal, 2 critical.
	for u, want := range map[Urgency]byte{Low: 0, Normal: 1, Critical: 2} {
		if got := u.wire(); got != want {
			t.Errorf("urgency %d on the wire as %d, want %d", u, got, want)
		}
	}
}
