package adminapi_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qube-desktop/qube-desktop/internal/adminapi"
	"github.com/qube-desktop/qube-desktop/internal/adminapi/adminapitest"
	"github.com/qube-desktop/qube-desktop/internal/qube"
)

func TestErrorHierarchy(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", &adminapi.Error{Class: "QubesVMNotRunningError", Message: "Domain not running"})
	for _, target := range []error{adminapi.ErrVMNotRunning, adminapi.ErrVMNotStarted, adminapi.ErrVMError, adminapi.ErrQubes} {
		if !errors.Is(err, target) {
			t.Errorf("not Is %v", target)
		}
	}
	for _, target := range []error{adminapi.ErrVMNotPaused, adminapi.ErrProtocol, adminapi.ErrNoAnswer} {
		if errors.Is(err, target) {
			t.Errorf("Is %v", target)
		}
	}
	if errors.Is(&adminapi.Error{Class: "ProtocolError"}, adminapi.ErrQubes) {
		t.Error("ProtocolError is not a QubesException")
	}
	if !errors.Is(&adminapi.Error{Class: "QubesSomethingNewError"}, adminapi.ErrQubes) {
		t.Error("an unknown Qubes class is a QubesException")
	}
	if !errors.Is(&adminapi.Error{Class: "QubesPropertyValueError"}, adminapi.ErrValue) {
		t.Error("QubesPropertyValueError is a QubesValueError")
	}
}

// TestBadNameMatchesQubesd: the local check gives qubesd's own reason
// [recording 109] and sends nothing.
func TestBadNameMatchesQubesd(t *testing.T) {
	rec := adminapitest.ByName(adminapitest.Load(t))["109-admin.vm.Create.AppVM-bad-name"]
	srv := adminapitest.NewReplay(t, rec)
	c := adminapi.New(adminapi.UnixTransport{Path: srv.Path})
	err := c.Create(context.Background(), adminapi.CreateOptions{Class: qube.AppVM, Name: "0bad", Label: "red", Template: "fedora-42"})
	var ne *qube.NameError
	if !errors.As(err, &ne) || ne.Reason != rec.ExcMsg {
		t.Errorf("Create(0bad) = %v, want reason %q", err, rec.ExcMsg)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func TestResponseBoundAndTimeout(t *testing.T) {
	done := make(chan struct{})
	srv := adminapitest.NewServer(t, func(req []byte, c net.Conn) {
		if strings.HasPrefix(string(req), "admin.vm.Start") {
			<-done // never answers
			return
		}
		adminapi.WriteOK(c, make([]byte, 5000))
	})
	t.Cleanup(func() { close(done) })
	c := adminapi.New(adminapi.UnixTransport{Path: srv.Path})
	c.MaxResponse = 4096
	if _, err := c.Call(context.Background(), "admin.vm.feature.Get", "x", "work", nil); !errors.Is(err, adminapi.ErrMalformed) ||
		!strings.Contains(err.Error(), "larger than 4096") {
		t.Errorf("oversized answer: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := c.Start(ctx, "work"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Start past its deadline: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("the deadline was not honoured: %v", d)
	}
	c.Transport = adminapi.UnixTransport{Path: filepath.Join(t.TempDir(), "nope.sock")}
	if _, err := c.ListQubes(context.Background()); err == nil || !strings.Contains(err.Error(), "is qubesd or qube-hostd running") {
		t.Errorf("no socket: %v", err)
	}
}

func TestRunNotSupported(t *testing.T) {
	srv := adminapitest.NewServer(t, func(req []byte, c net.Conn) {
		adminapi.WriteException(c, "ProtocolError", "no such method: 'admin.vm.Run'")
	})
	c := adminapi.New(adminapi.UnixTransport{Path: srv.Path})
	err := c.Run(context.Background(), "work", "xterm")
	if !errors.Is(err, adminapi.ErrNotSupported) {
		t.Errorf("Run = %v", err)
	}
	if got := srv.Requests(); len(got) != 1 || string(got[0]) != "admin.vm.Run+ dom0 name work\x00xterm" {
		t.Errorf("request %q", got)
	}
}

// TestWatchReconnectResync: the stream ends (qubesd restarted); Watch
// reconnects, and after each connection-established a fresh admin.vm.List
// is handed to Resync before any later event.
func TestWatchReconnectResync(t *testing.T) {
	recs := adminapitest.ByName(adminapitest.Load(t))
	events, list := recs["500-admin.Events-all"], recs["010-admin.vm.List-initial"]
	var mu sync.Mutex
	conns := 0
	done := make(chan struct{})
	srv := adminapitest.NewServer(t, func(req []byte, c net.Conn) {
		switch string(req) {
		case string(list.Request):
			c.Write(list.Response)
		case string(events.Request):
			mu.Lock()
			conns++
			n := conns
			mu.Unlock()
			if n == 1 {
				for _, ch := range events.Chunks[:3] { // connection-established, domain-add, tag-add
					c.Write(ch)
				}
				return // qubesd goes away
			}
			c.Write(events.Chunks[0])
			c.Write(events.Chunks[1])
			<-done // stays connected
		}
	})
	t.Cleanup(func() { close(done) })
	c := adminapi.New(adminapi.UnixTransport{Path: srv.Path})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var log []string
	var errs []error
	err := c.Watch(ctx, adminapi.WatchOptions{
		ReconnectDelay: 10 * time.Millisecond,
		Resync: func(qs []qube.Qube) {
			log = append(log, fmt.Sprintf("resync %d", len(qs)))
		},
		OnError: func(err error) { errs = append(errs, err) },
	}, func(ev adminapi.Event) {
		log = append(log, ev.Name)
		if len(log) == 7 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Watch = %v", err)
	}
	want := []string{"resync 1", "connection-established", "domain-add", "domain-tag-add:created-by-dom0",
		"resync 1", "connection-established", "domain-add"}
	if !reflect.DeepEqual(log, want) {
		t.Errorf("got %q\nwant %q", log, want)
	}
	if len(errs) != 1 || !errors.Is(errs[0], adminapi.ErrStreamEnded) {
		t.Errorf("errors before reconnects: %v", errs)
	}
	reqs := srv.Requests()
	wantReqs := []string{string(events.Request), string(list.Request), string(events.Request), string(list.Request)}
	var got []string
	for _, r := range reqs {
		got = append(got, string(r))
	}
	if !reflect.DeepEqual(got, wantReqs) {
		t.Errorf("requests %q\nwant %q", got, wantReqs)
	}
}

func TestLoadQubes(t *testing.T) {
	srv := adminapitest.NewSynthetic(t, 50)
	c := adminapi.New(adminapi.UnixTransport{Path: srv.Path})
	c.Workers = 4
	qs, err := c.LoadQubes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) != 51 || qs[0].Name != "dom0" || qs[0].Prop("icon") != "adminvm-black" {
		t.Fatalf("%d qubes, first %+v", len(qs), qs[0])
	}
	q := qs[3]
	if q.Name != "q0003" || q.Label() != "green" || q.Template() != "fedora-42" || q.NetVM() != "" ||
		q.Prop("name") != "q0003" || len(q.Props) != 48 || !q.Props["netvm"].Default {
		t.Errorf("q0003 = %+v label %s", q, q.Label())
	}
	if n := len(srv.Requests()); n != 52 {
		t.Errorf("%d requests, want 1 List + 51 GetAll", n)
	}
}

// TestQrexecTransport runs a stand-in qrexec-client-vm: the target and the
// service+arg come as arguments, the payload on stdin, the answer on stdout.
func TestQrexecTransport(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "qrexec-client-vm")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho \"$@\" > \""+dir+"/args\"\ncat > \""+dir+"/stdin\"\nprintf '0\\000red\\nblue\\n'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	c := adminapi.New(adminapi.QrexecTransport{Command: script})
	got, err := c.Call(context.Background(), "admin.vm.feature.Set", "menu-items", "dom0", []byte("a b"))
	if err != nil || string(got) != "red\nblue\n" {
		t.Fatalf("Call = %q, %v", got, err)
	}
	args, _ := os.ReadFile(filepath.Join(dir, "args"))
	stdin, _ := os.ReadFile(filepath.Join(dir, "stdin"))
	if string(args) != "@adminvm admin.vm.feature.Set+menu-items\n" || string(stdin) != "a b" {
		t.Errorf("args %q stdin %q", args, stdin)
	}
}

func TestParseStats(t *testing.T) {
	// The fields of qubesd 4.4 (spec §1a); older releases send fewer.
	ev := adminapi.Event{Subject: "work", Name: "vm-stats", Args: []adminapi.Arg{
		{Key: "memory_kb", Value: "409600"}, {Key: "memory_assigned_total", Value: "500000"},
		{Key: "cpu_time", Value: "1234"}, {Key: "cpu_usage", Value: "7"}, {Key: "online_vcpus", Value: "2"}}}
	st, err := adminapi.ParseStats(ev)
	if err != nil || st.Qube != "work" || st.MemoryKiB != 409600 || st.CPUTimeMS != 1234 || st.CPUUsage != 7 || len(st.Raw) != 5 {
		t.Errorf("ParseStats = %+v, %v", st, err)
	}
	for _, bad := range []adminapi.Event{
		{Subject: "work", Name: "domain-start"},
		{Name: "vm-stats"},
		{Subject: "work", Name: "vm-stats", Args: []adminapi.Arg{{Key: "cpu_usage", Value: "7.5"}}},
	} {
		if _, err := adminapi.ParseStats(bad); err == nil {
			t.Errorf("ParseStats(%+v) accepted", bad)
		}
	}
}

func TestQrexecNoAnswerHint(t *testing.T) {
	script := filepath.Join(t.TempDir(), "qrexec-client-vm")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho 'Request refused' >&2\nexit 126\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	c := adminapi.New(adminapi.QrexecTransport{Command: script})
	_, err := c.ListQubes(context.Background())
	if !errors.Is(err, adminapi.ErrNoAnswer) || !strings.Contains(err.Error(), "qrexec policy may have refused") {
		t.Errorf("ListQubes = %v", err)
	}
}
