package adminapi_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/qube-desktop/qube-desktop/internal/adminapi"
	"github.com/qube-desktop/qube-desktop/internal/qube"
)

// TestServeConn runs a small Admin API server on the exported server half,
// as qube-hostd does, and talks to it with the client.
func TestServeConn(t *testing.T) {
	qubes := []qube.Qube{{Name: "dom0", Class: qube.AdminVM, State: qube.Running}, {Name: "work", Class: qube.AppVM, State: qube.Halted}}
	sock := filepath.Join(t.TempDir(), "hostd.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var mu sync.Mutex
	var serveErrs []error
	t.Cleanup(func() { cancel(); ln.Close(); wg.Wait() })
	handler := func(ctx context.Context, req adminapi.Request, w io.Writer) error {
		if err := req.CheckNames(); err != nil {
			return adminapi.Answer(w, nil, err)
		}
		switch req.Method {
		case "admin.vm.List":
			return adminapi.Answer(w, adminapi.FormatVMList(qubes), nil)
		case "admin.vm.property.Get":
			return adminapi.Answer(w, []byte(adminapi.FormatProperty(qube.Property{Type: qube.TypeLabel, Value: "blue"})), nil)
		case "admin.vm.Start":
			return adminapi.Answer(w, nil, errors.New("driver crashed")) // not a Qubes error: no answer
		case "admin.Events":
			adminapi.WriteEvent(w, adminapi.ConnectionEstablished)
			adminapi.WriteEvent(w, adminapi.Event{Subject: "work", Name: "domain-start", Args: []adminapi.Arg{{Key: "start_guid", Value: "True"}}})
			<-ctx.Done()
			return nil
		}
		return adminapi.Answer(w, nil, &adminapi.Error{Class: "ProtocolError", Message: "no such method: '" + req.Method + "'"})
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := adminapi.ServeConn(ctx, conn, handler); err != nil {
					mu.Lock()
					serveErrs = append(serveErrs, err)
					mu.Unlock()
				}
			}()
		}
	}()

	c := adminapi.New(adminapi.UnixTransport{Path: sock})
	if qs, err := c.ListQubes(ctx); err != nil || len(qs) != 2 || !reflect.DeepEqual(qs[1], qubes[1]) {
		t.Errorf("ListQubes = %v, %v", qs, err)
	}
	if p, err := c.VMProps("work").Get(ctx, "label"); err != nil || p != (qube.Property{Name: "label", Type: qube.TypeLabel, Value: "blue"}) {
		t.Errorf("Get = %+v, %v", p, err)
	}
	if err := c.Start(ctx, "work"); !errors.Is(err, adminapi.ErrNoAnswer) {
		t.Errorf("Start = %v", err)
	}
	if _, err := c.ListQube(ctx, "0bad"); !errors.Is(err, adminapi.ErrValue) ||
		err.(*adminapi.Error).Message != "VM name cannot start with hyphen, underscore, dot or numbers" {
		t.Errorf("bad dest: %v", err)
	}
	if _, err := c.ListQube(ctx, "uuid:nope"); !errors.Is(err, &adminapi.Error{Class: "QubesVMInvalidUUIDError"}) {
		t.Errorf("bad uuid: %v", err)
	}
	if err := c.Run(ctx, "work", "xterm"); !errors.Is(err, adminapi.ErrNotSupported) {
		t.Errorf("Run = %v", err)
	}
	s, err := c.OpenEvents(ctx, "dom0")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"connection-established", "domain-start"} {
		if ev, err := s.Next(); err != nil || ev.Name != want {
			t.Errorf("event %+v, %v; want %s", ev, err, want)
		}
	}
	s.Close()

	// Framing errors and oversized requests get no byte back.
	for _, raw := range []string{"admin.vm.List+ dom0 name dom0", "admin.vm.List+ dom0 weird dom0\x00", "x+ dom0 name dom0\x00" + strings.Repeat("y", adminapi.MaxRequest)} {
		conn, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		conn.Write([]byte(raw))
		conn.(*net.UnixConn).CloseWrite()
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if b, err := io.ReadAll(conn); len(b) != 0 || err != nil && !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("request %.40q answered %q, %v", raw, b, err)
		}
		conn.Close()
	}
	cancel()
	ln.Close()
	wg.Wait()
	var framing, tooLong, other int
	for _, err := range serveErrs {
		switch {
		case errors.Is(err, adminapi.ErrFraming):
			framing++
		case errors.Is(err, adminapi.ErrRequestTooLong):
			tooLong++
		default:
			other++
		}
	}
	if framing != 2 || tooLong != 1 || other != 1 { // other: the Start handler's error
		t.Errorf("ServeConn errors %v", serveErrs)
	}
}

// A message quoting a client's NUL byte must not end its field early.
func TestWriteExceptionEscapesNUL(t *testing.T) {
	var b bytes.Buffer
	if err := adminapi.WriteException(&b, "QubesValueError", "Invalid colour '\x00', want 0xRRGGBB"); err != nil {
		t.Fatal(err)
	}
	want := "2\x00QubesValueError\x00\x00Invalid colour '\\x00', want 0xRRGGBB\x00"
	if b.String() != want {
		t.Fatalf("got %q, want %q", b.String(), want)
	}
	_, err := adminapi.DecodeResponse("admin.label.Create", b.Bytes())
	var e *adminapi.Error
	if !errors.As(err, &e) || e.Message != `Invalid colour '\x00', want 0xRRGGBB` {
		t.Fatalf("decoded %v", err)
	}
}
