package guid_test

import (
	"context"
	"io"
	"log"
	"strings"
	"testing"
	"time"

	"github.com/qube-desktop/qube-desktop/guid"
	"github.com/qube-desktop/qube-desktop/internal/testenv"
)

// TestSilentAgent: an agent that accepts the connection and never sends
// its version is dropped after the handshake deadline and dialled again,
// and cancelling the daemon while it waits for such an agent ends it at
// once (qube-guid's SIGTERM).
func TestSilentAgent(t *testing.T) {
	comp := testenv.StartSway(t, 640, 480)
	a := newAgent(t)
	lb := &testenv.LogBuffer{}
	o := guid.Options{Config: guid.Config{Qube: "work"}, Socket: a.path, Display: comp.SocketPath(),
		Region: a.guidRegion(), Log: log.New(lb, "", 0),
		Style: guid.DisplayOptions{Label: blue, Border: 2, TitleBar: 20}}
	defer o.Region.Close()
	guid.SetHandshakeTimeout(&o, 500*time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- guid.Run(ctx, o) }()
	defer func() { t.Logf("guid log:\n%s", lb) }()

	accept := func() io.ReadCloser {
		actx, acancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer acancel()
		conn, err := a.l.Accept(actx)
		if err != nil {
			t.Fatalf("the daemon did not connect: %v", err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	// The first silent connection is closed by the daemon.
	conn := accept()
	closed := make(chan error, 1)
	go func() { _, err := conn.Read(make([]byte, 1)); closed <- err }()
	select {
	case err := <-closed:
		if err != io.EOF {
			t.Fatalf("reading the daemon's side: %v, want EOF", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the daemon still waits for a silent agent's handshake after 5 s (deadline 500 ms)")
	}
	// It dials again; cancelled while waiting for the handshake, it ends.
	accept()
	if !strings.Contains(lb.String(), "the agent sent no handshake within 500ms") {
		t.Errorf("log does not say why the agent was dropped:\n%s", lb)
	}
	time.Sleep(100 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != context.Canceled {
			t.Errorf("guid.Run after cancel: %v, want context.Canceled", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("guid.Run ignored cancellation while waiting for the agent's handshake")
	}
}
