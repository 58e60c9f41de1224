package notify_test

import (
	"context"
	"strings"
	"testing"

	"github.com/qube-desktop/qube-desktop/internal/notify"
	"github.com/qube-desktop/qube-desktop/internal/notify/notifytest"
	"github.com/qube-desktop/qube-desktop/internal/testenv"
)

func TestSendReachesServer(t *testing.T) {
	bus := testenv.StartDBus(t)
	srv, err := notifytest.Serve(bus.Conn(t))
	if err != nil {
		t.Fatal(err)
	}
	n := notify.New(bus.Conn(t), "qube-tray")
	for i, want := range []notify.Notification{
		{Summary: "Qube Status: work", Body: "has started", Icon: "qube-tray"},
		{Summary: "Qube Status: work", Body: "has failed to start: no memory", Urgency: notify.Critical},
		{Summary: "Clipboard", Body: "wiped", Urgency: notify.Low},
	} {
		id, err := n.Send(context.Background(), want)
		if err != nil {
			t.Fatal(err)
		}
		if id != uint32(i+1) {
			t.Errorf("id %d, want %d", id, i+1)
		}
		got := <-srv.C
		if got != (notifytest.Received{App: "qube-tray", Icon: want.Icon, Summary: want.Summary, Body: want.Body, Urgency: want.Urgency}) {
			t.Errorf("server got %+v for %+v", got, want)
		}
	}
}

func TestSendWithoutServiceFails(t *testing.T) {
	bus := testenv.StartDBus(t)
	_, err := notify.New(bus.Conn(t), "qube-tray").Send(context.Background(), notify.Notification{Summary: "x"})
	if err == nil || !strings.Contains(err.Error(), "notification service") {
		t.Fatalf("err = %v, want one that names the missing service", err)
	}
}
