package tray

import (
	"context"
	"fmt"
	"image/color"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qube-desktop/qube-desktop/internal/adminapi"
	"github.com/qube-desktop/qube-desktop/internal/adminapi/adminapitest"
)

// fakeQubesd answers the calls the tray makes, in qubesd's wire format.
func fakeQubesd(t *testing.T) *adminapitest.Server {
	labels := map[string]string{"dom0": "black", "work": "blue", "vault": "mint", "old": "red"}
	return adminapitest.NewServer(t, func(raw []byte, c net.Conn) {
		req, err := adminapi.ParseRequest(raw)
		if err != nil {
			t.Errorf("bad request %q: %v", raw, err)
			return
		}
		switch req.Method {
		case "admin.vm.List":
			adminapi.WriteOK(c, []byte("dom0 class=AdminVM state=Running\nwork class=AppVM state=Running\n"+
				"vault class=AppVM state=Paused\nold class=AppVM state=Halted\n"))
		case "admin.vm.property.GetAll":
			adminapi.WriteOK(c, []byte("label default=False type=label "+labels[req.Dest]+"\n"))
		case "admin.label.List":
			adminapi.WriteOK(c, []byte("red\nblue\nblack\nmint\n"))
		case "admin.label.Get":
			adminapi.WriteOK(c, []byte(map[string]string{"red": "0xcc0000", "blue": "0x3465a4", "black": "0x000000", "mint": "0x98ff98"}[req.Arg]))
		case "admin.label.Index":
			adminapi.WriteOK(c, []byte("9"))
		case "admin.Events":
			adminapi.WriteEvent(c, adminapi.Event{Name: "connection-established"})
			adminapi.WriteEvent(c, adminapi.Event{Subject: "old", Name: "domain-start-failed",
				Args: []adminapi.Arg{{Key: "reason", Value: "Failed to connect to qmemman"}}})
		case "admin.vm.Stats":
			adminapi.WriteEvent(c, adminapi.Event{Name: "connection-established"})
			adminapi.WriteEvent(c, adminapi.Event{Subject: "work", Name: "vm-stats", Args: []adminapi.Arg{
				{Key: "memory_kb", Value: "409600"}, {Key: "cpu_time", Value: "1234"}, {Key: "cpu_usage", Value: "7"}, {Key: "online_vcpus", Value: "2"}}})
		case "admin.vm.Shutdown", "admin.vm.Start", "admin.vm.Pause", "admin.vm.Unpause", "admin.vm.Kill", "admin.vm.Run":
			adminapi.WriteOK(c, nil)
		default:
			adminapi.WriteException(c, "ProtocolError", "no such method")
		}
	})
}

func TestAdminSourceQubesAndStreams(t *testing.T) {
	srv := fakeQubesd(t)
	s := &AdminSource{Client: adminapi.New(adminapi.UnixTransport{Path: srv.Path})}
	ctx := context.Background()
	qs, err := s.Qubes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []Qube{
		{Name: "dom0", Label: color.RGBA{0, 0, 0, 0xff}, State: Running, AdminVM: true},
		{Name: "work", Label: color.RGBA{0x34, 0x65, 0xa4, 0xff}, State: Running},
		{Name: "vault", Label: color.RGBA{0x98, 0xff, 0x98, 0xff}, State: Paused}, // custom label, read from qubesd
		{Name: "old", Label: color.RGBA{0xcc, 0, 0, 0xff}, State: Halted},
	}
	if !slices.Equal(qs, want) {
		t.Fatalf("Qubes() = %+v\nwant %+v", qs, want)
	}

	var evs []Event
	err = s.Events(ctx, func(e Event) { evs = append(evs, e) })
	if err == nil || !strings.Contains(err.Error(), "admin.Events") {
		t.Fatalf("Events returned %v; want an error when qubesd ends the stream", err)
	}
	if len(evs) != 2 || evs[0].Name != "connection-established" || evs[1].Subject != "old" ||
		evs[1].Args["reason"] != "Failed to connect to qmemman" {
		t.Fatalf("events %+v", evs)
	}
	var st []Stats
	_ = s.Stats(ctx, func(x Stats) { st = append(st, x) })
	if !slices.Equal(st, []Stats{{Qube: "work", CPUPercent: 7, MemoryKiB: 409600}}) {
		t.Fatalf("stats %+v", st)
	}
}

func TestAdminSourceActions(t *testing.T) {
	srv := fakeQubesd(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "launched")
	s := &AdminSource{Client: adminapi.New(adminapi.UnixTransport{Path: srv.Path}), Terminal: DefaultTerminal,
		Manager:  []string{"sh", "-c", "echo manager >> " + out},
		Settings: []string{"sh", "-c", `echo "settings $0" >> ` + out}}
	ctx := context.Background()
	before := len(srv.Requests())
	for _, a := range []Action{Terminal, Pause, Resume, Shutdown, Restart, Kill} {
		if err := s.Do(ctx, a, "work"); err != nil {
			t.Fatalf("%s: %v", a, err)
		}
	}
	var got []string
	for _, raw := range srv.Requests()[before:] {
		r, _ := adminapi.ParseRequest(raw)
		got = append(got, fmt.Sprintf("%s+%s %s %q", r.Method, r.Arg, r.Dest, r.Payload))
	}
	want := []string{
		`admin.vm.Run+ work "` + DefaultTerminal + `"`,
		`admin.vm.Pause+ work ""`, `admin.vm.Unpause+ work ""`, `admin.vm.Shutdown+ work ""`,
		`admin.vm.Shutdown+wait work ""`, `admin.vm.Start+ work ""`, `admin.vm.Kill+ work ""`,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	if err := s.Do(ctx, Settings, "work"); err != nil {
		t.Fatal(err)
	}
	if err := s.Do(ctx, OpenManager, ""); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, _ := os.ReadFile(out)
		lines := strings.Fields(strings.ReplaceAll(string(b), "settings ", "settings:"))
		slices.Sort(lines)
		if slices.Equal(lines, []string{"manager", "settings:work"}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("launched programs wrote %q", b)
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.Manager = []string{filepath.Join(dir, "no-such-program")}
	if err := s.Do(ctx, OpenManager, ""); err == nil {
		t.Fatal("launching a missing program succeeded")
	}
}
