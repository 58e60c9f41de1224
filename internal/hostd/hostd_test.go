package hostd

import (
	"bytes"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/qube-desktop/qube-desktop/internal/adminapi"
	"github.com/qube-desktop/qube-desktop/internal/driver"
	"github.com/qube-desktop/qube-desktop/internal/driver/sandbox"
	"github.com/qube-desktop/qube-desktop/internal/store"
)

func TestMain(m *testing.M) {
	sandbox.RunInitIfRequested()
	os.Exit(m.Run())
}

type testDaemon struct {
	srv  *Server
	sock string
	dir  string
}

// startDaemon serves a fresh store on a socket in a temporary directory.
func startDaemon(t testing.TB, drv driver.Driver, configure ...func(*Config)) *testDaemon {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "run", "qubesd.sock")
	l, err := Listen(sock, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Store: st, Driver: drv, Log: log.New(&testLog{t}, "hostd: ", 0)}
	for _, f := range configure {
		f(&cfg)
	}
	srv := New(cfg)
	done := make(chan struct{})
	go func() { srv.Serve(l); close(done) }()
	t.Cleanup(func() {
		srv.Close()
		<-done
		st.Close()
	})
	return &testDaemon{srv: srv, sock: sock, dir: dir}
}

type testLog struct{ t testing.TB }

func (l *testLog) Write(b []byte) (int, error) {
	l.t.Log(string(bytes.TrimSpace(b)))
	return len(b), nil
}

// failingDriver is the real sandbox driver with a bubblewrap that cannot
// start anything, like the recording's qubesd that had no Xen.
func failingDriver(t testing.TB) driver.Driver {
	d, err := sandbox.New(sandbox.Config{Bwrap: "/bin/false", Init: "/bin/false", NoFreezer: true})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// roundTrip sends raw request bytes, half-closes and reads to EOF.
func (d *testDaemon) roundTrip(t testing.TB, req []byte) []byte {
	t.Helper()
	c, err := net.Dial("unix", d.sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	c.Write(req)
	c.(*net.UnixConn).CloseWrite()
	resp, _ := io.ReadAll(c)
	return resp
}

func (d *testDaemon) call(t testing.TB, method, arg, dest, payload string) ([]byte, error) {
	t.Helper()
	req := adminapi.Request{Method: method, Arg: arg, Source: "dom0", Dest: dest, Payload: []byte(payload)}
	return adminapi.DecodeResponse(req.Call(), d.roundTrip(t, req.Bytes()))
}

func (d *testDaemon) mustCall(t testing.TB, method, arg, dest, payload string) string {
	t.Helper()
	b, err := d.call(t, method, arg, dest, payload)
	if err != nil {
		t.Fatalf("%s+%s %s: %v", method, arg, dest, err)
	}
	return string(b)
}

// events opens an admin.Events stream and returns its reader after
// connection-established.
func (d *testDaemon) events(t *testing.T, dest string) (*adminapi.EventReader, net.Conn) {
	t.Helper()
	c, err := net.Dial("unix", d.sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.Write(adminapi.Request{Method: "admin.Events", Source: "dom0", Dest: dest}.Bytes())
	c.(*net.UnixConn).CloseWrite()
	r := adminapi.NewEventReader(c)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	ev, err := r.Next()
	if err != nil || ev.Name != "connection-established" || ev.Subject != "" {
		t.Fatalf("first event %+v, %v", ev, err)
	}
	return r, c
}
