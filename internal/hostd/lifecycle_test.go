package hostd

import (
	"bytes"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qube-desktop/qube-desktop/internal/adminapi"
	"github.com/qube-desktop/qube-desktop/internal/driver"
	"github.com/qube-desktop/qube-desktop/internal/driver/sandbox"
	"github.com/qube-desktop/qube-desktop/internal/testenv"
)

func sandboxDaemon(t *testing.T, configure ...func(*Config)) *testDaemon {
	t.Helper()
	testenv.NeedCommands(t, "bwrap")
	drv, err := sandbox.New(sandbox.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return startDaemon(t, drv, configure...)
}

// expectEvents reads events until each wanted (subject, name) pair was
// seen in this order; other events in between are skipped.
func expectEvents(t *testing.T, r *adminapi.EventReader, c net.Conn, want ...string) []adminapi.Event {
	t.Helper()
	var seen []adminapi.Event
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	for _, w := range want {
		subject, name, _ := strings.Cut(w, " ")
		for {
			ev, err := r.Next()
			if err != nil {
				t.Fatalf("waiting for %q: %v (saw %v)", w, err, seen)
			}
			seen = append(seen, ev)
			if ev.Subject == subject && ev.Name == name {
				break
			}
		}
	}
	return seen
}

func listState(t *testing.T, d *testDaemon, name string) string {
	t.Helper()
	out := d.mustCall(t, "admin.vm.List", "", name, "")
	for _, f := range strings.Fields(out) {
		if s, ok := strings.CutPrefix(f, "state="); ok {
			return s
		}
	}
	t.Fatalf("no state in %q", out)
	return ""
}

func TestLifecycleOverTheAdminAPI(t *testing.T) {
	d := sandboxDaemon(t)
	evr, evc := d.events(t, "dom0")

	d.mustCall(t, "admin.vm.Create.TemplateVM", "", "dom0", "name=tpl label=black")
	d.mustCall(t, "admin.vm.Create.AppVM", "tpl", "dom0", "name=work label=blue")
	expectEvents(t, evr, evc, " domain-add", " domain-add", "work domain-create-on-disk")
	workr, workc := d.events(t, "work")

	d.mustCall(t, "admin.vm.Start", "", "work", "")
	if s := listState(t, d, "work"); s != "Running" {
		t.Fatalf("state after Start: %s", s)
	}
	expectEvents(t, evr, evc, "work domain-pre-start", "work domain-start")
	// The per-qube stream carries only work's events, and no domain-add.
	got := expectEvents(t, workr, workc, "work domain-pre-start", "work domain-start")
	for _, ev := range got {
		if ev.Subject != "work" {
			t.Errorf("work's stream carried %+v", ev)
		}
	}

	// admin.vm.Run starts a program inside; its file lands in work's home.
	d.mustCall(t, adminapi.RunMethod, "", "work", "echo ran as $(id -u) in $(hostname) > ~/ran")
	home := filepath.Join(d.dir, "data", "qubes", "work", "home")
	waitFile(t, filepath.Join(home, "ran"), "ran as 1000 in work\n")

	cs := d.mustCall(t, "admin.vm.CurrentState", "", "work", "")
	if !strings.HasSuffix(cs, "power_state=Running") || strings.HasPrefix(cs, "mem=0 ") {
		t.Errorf("CurrentState of running work: %q", cs)
	}

	d.mustCall(t, "admin.vm.Pause", "", "work", "")
	if s := listState(t, d, "work"); s != "Paused" {
		t.Fatalf("state after Pause: %s", s)
	}
	if _, err := d.call(t, "admin.vm.Pause", "", "work", ""); !errors.Is(err, adminapi.ErrVMNotRunning) {
		t.Errorf("second Pause: %v", err)
	}
	d.mustCall(t, "admin.vm.Unpause", "", "work", "")
	expectEvents(t, evr, evc, "work domain-paused", "work domain-unpaused")
	if s := listState(t, d, "work"); s != "Running" {
		t.Fatalf("state after Unpause: %s", s)
	}

	// A template cannot change while the qube runs.
	if _, err := d.call(t, "admin.vm.property.Set", "template", "work", "tpl"); !errors.Is(err, adminapi.ErrVMNotHalted) {
		t.Errorf("Set template while running: %v", err)
	}

	d.mustCall(t, "admin.vm.Shutdown", "wait", "work", "")
	if s := listState(t, d, "work"); s != "Halted" {
		t.Fatalf("state after Shutdown: %s", s)
	}
	expectEvents(t, evr, evc, "work domain-pre-shutdown", "work domain-shutdown")
	if _, err := d.call(t, "admin.vm.Kill", "", "work", ""); !errors.Is(err, adminapi.ErrVMNotStarted) {
		t.Errorf("Kill of a halted qube: %v", err)
	}

	// Kill of a running qube.
	d.mustCall(t, "admin.vm.Start", "", "work", "")
	d.mustCall(t, "admin.vm.Kill", "", "work", "")
	if s := listState(t, d, "work"); s != "Halted" {
		t.Fatalf("state after Kill: %s", s)
	}
	expectEvents(t, evr, evc, "work domain-start", "work domain-shutdown")

	// Disposables: fresh home, removed after shutdown.
	d.mustCall(t, "admin.vm.property.Set", "template_for_dispvms", "work", "True")
	disp := d.mustCall(t, "admin.vm.CreateDisposable", "", "work", "")
	if !strings.HasPrefix(disp, "disp") {
		t.Fatalf("CreateDisposable answered %q", disp)
	}
	if lbl := d.mustCall(t, "admin.vm.property.Get", "label", disp, ""); lbl != "default=False type=label blue" {
		t.Errorf("disposable label: %q", lbl)
	}
	d.mustCall(t, "admin.vm.Start", "", disp, "")
	d.mustCall(t, "admin.vm.Shutdown", "wait", disp, "")
	expectEvents(t, evr, evc, disp+" domain-shutdown", " domain-delete")
	if _, err := d.call(t, "admin.vm.List", "", disp, ""); !errors.Is(err, adminapi.ErrVMNotFound) {
		t.Errorf("disposable still listed after shutdown: %v", err)
	}
}

func waitFile(t *testing.T, path, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(path)
		if err == nil && string(b) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %q, %v; want %q", path, b, err, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestStatsStream(t *testing.T) {
	d := sandboxDaemon(t)
	d.mustCall(t, "admin.property.Set", "stats_interval", "dom0", "1")
	d.mustCall(t, "admin.vm.Create.StandaloneVM", "", "dom0", "name=busy label=red")
	d.mustCall(t, "admin.vm.Start", "", "busy", "")
	d.mustCall(t, adminapi.RunMethod, "", "busy", "while :; do :; done")

	c, err := net.Dial("unix", d.sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write(adminapi.Request{Method: "admin.vm.Stats", Source: "dom0", Dest: "dom0"}.Bytes())
	c.(*net.UnixConn).CloseWrite()
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	r := adminapi.NewEventReader(c)
	if ev, err := r.Next(); err != nil || ev.Name != "connection-established" {
		t.Fatalf("first: %+v %v", ev, err)
	}
	// The second report has a CPU usage computed over one interval.
	for i := 0; i < 2; i++ {
		ev, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if ev.Subject != "busy" || ev.Name != "vm-stats" {
			t.Fatalf("event %+v", ev)
		}
		mem, _ := ev.Arg("memory_kb")
		usage, _ := ev.Arg("cpu_usage")
		if mem == "" || mem == "0" {
			t.Errorf("memory_kb %q", mem)
		}
		if i == 1 && (usage == "" || usage == "0") {
			t.Errorf("busy qube's cpu_usage %q, want more than 0", usage)
		}
	}
}

// Bad requests get qubesd's exception or a dropped connection, and the
// daemon keeps serving.
func TestBadRequestsKeepTheDaemonServing(t *testing.T) {
	d := startDaemon(t, failingDriver(t))
	d.mustCall(t, "admin.vm.Create.StandaloneVM", "", "dom0", "name=work label=red")
	cases := []struct {
		req  []byte
		want string // exception class, or "" for no answer
	}{
		{[]byte("\x00\x01\x02garbage"), ""},
		{[]byte("admin.vm.List+ dom0 name dom0"), ""},                   // no NUL
		{[]byte("admin.vm.List+ dom0 name\x00"), ""},                    // 3 tokens
		{[]byte("admin.vm.List+ dom0 bogus dom0\x00"), ""},              // dest type
		{bytes.Repeat([]byte("x"), adminapi.MaxRequest+1), ""},          // too long
		{[]byte("admin.vm.Nope+ dom0 name dom0\x00"), "ProtocolError"},  // unknown method
		{[]byte("admin.vm.List+x dom0 name dom0\x00"), "ProtocolError"}, // unexpected arg
		{[]byte("admin.vm.Start+ dom0 name 0bad\x00"), "QubesValueError"},
		{[]byte("admin.vm.Start+ dom0 name uuid:zz\x00"), "QubesVMInvalidUUIDError"},
		{[]byte("admin.vm.Start+ nosuch name dom0\x00"), "QubesVMNotFoundError"},
		{[]byte("admin.vm.property.Set+vcpus dom0 name work\x00many"), "QubesValueError"},
		{[]byte("admin.vm.property.Set+vcpus dom0 name work\x000"), "QubesPropertyValueError"},
		{[]byte("admin.vm.property.Set+label dom0 name work\x00\xff"), "QubesValueError"},
		{[]byte("admin.vm.feature.Set+a/b dom0 name work\x00x"), "QubesValueError"},
		{[]byte("admin.vm.tag.Set+a\x7fb dom0 name work\x00"), ""}, // non-printable header
		{[]byte("admin.label.Create+pink dom0 name dom0\x00red"), "QubesValueError"},
		{[]byte("admin.vm.Create.AppVM+work dom0 name dom0\x00name=x label=red"), "QubesValueError"},
		{[]byte("admin.vm.Create.NoClass+ dom0 name dom0\x00name=x label=red"), "ProtocolError"},
		{[]byte("admin.vm.device.pci.Attach+x dom0 name work\x00"), "ProtocolError"},
		{[]byte("admin.vm.notes.Get+ dom0 name dom0\x00"), "ProtocolError"},
		{[]byte("admin.vm.firewall.Set+ dom0 name work\x00action=drop\n"), "QubesNotImplementedError"},
	}
	for _, c := range cases {
		resp := d.roundTrip(t, c.req)
		got := ""
		if len(resp) > 0 {
			got = strings.TrimPrefix(kindOf(resp), "exception ")
		}
		if got != c.want {
			t.Errorf("%.60q: answered %q (%q), want %q", c.req, got, trunc(resp), c.want)
		}
		// Still serving.
		if out := d.mustCall(t, "admin.vm.List", "", "work", ""); !strings.HasPrefix(out, "work class=StandaloneVM") {
			t.Fatalf("after %.40q: List answered %q", c.req, out)
		}
	}
	// A client that connects and leaves without a word is harmless too.
	c, _ := net.Dial("unix", d.sock)
	c.Close()
	d.mustCall(t, "admin.vm.List", "", "dom0", "")
}

func TestSocketModeAndStaleSocket(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "q", "qubesd.sock")
	l, err := Listen(sock, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(sock)
	if fi.Mode().Perm() != 0o600 || fi.Mode()&os.ModeSocket == 0 {
		t.Errorf("socket mode %v", fi.Mode())
	}
	if _, err := Listen(sock, 0o600); err == nil {
		t.Error("second daemon on a live socket")
	}
	// A crashed daemon leaves its socket file behind.
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	l2, err := Listen(sock, 0o660)
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	l2.Close()
	if _, err := Listen(sock, 0o666); err == nil {
		t.Error("world-writable socket accepted")
	}
	file := filepath.Join(dir, "not-a-socket")
	os.WriteFile(file, []byte("data"), 0o600)
	if _, err := Listen(file, 0o600); err == nil {
		t.Error("a regular file was replaced by the socket")
	}
	if b, _ := os.ReadFile(file); string(b) != "data" {
		t.Error("a regular file in the socket's place was removed")
	}
}

// An events client that leaves is noticed without waiting for an event,
// and one that only half-closed (as every client does) is kept.
func TestEventsClientLeaving(t *testing.T) {
	d := startDaemon(t, failingDriver(t))
	subs := func() int {
		d.srv.events.mu.Lock()
		defer d.srv.events.mu.Unlock()
		return len(d.srv.events.subs)
	}
	_, stay := d.events(t, "dom0")
	_, leave := d.events(t, "dom0")
	if n := subs(); n != 2 {
		t.Fatalf("%d subscribers", n)
	}
	leave.Close()
	deadline := time.Now().Add(5 * time.Second)
	for subs() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("%d subscribers 5 s after a client left", subs())
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(2 * hangupPoll)
	if n := subs(); n != 1 {
		t.Fatalf("the half-closed client was dropped: %d subscribers", n)
	}
	stay.Close()
}

// lifecycleRecorder is what the GUI launcher will be: told of every start
// (with the label for the frame colour) and stop.
type lifecycleRecorder struct{ calls chan string }

func (l lifecycleRecorder) QubeStarted(name, label string) {
	l.calls <- "started " + name + " " + label
}
func (l lifecycleRecorder) QubeStopped(name string) { l.calls <- "stopped " + name }

func TestLifecycleHooksAndServices(t *testing.T) {
	rec := lifecycleRecorder{make(chan string, 4)}
	// A per-qube service gets a host file as its fd 3, as qube-agent will
	// get its shared region and GUI socket.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	d := sandboxDaemon(t, func(c *Config) {
		c.Services = []driver.Service{{Name: "marker", Argv: []string{"sh", "-c", "echo up > ~/service; exec sleep 1000"}}}
		c.Lifecycle = rec
		c.QubeServices = func(name, label string) ([]driver.Service, error) {
			return []driver.Service{{Name: "fd", Argv: []string{"sh", "-c", "echo " + name + " " + label + " >&3"}, Files: []*os.File{w}}}, nil
		}
	})
	d.mustCall(t, "admin.vm.Create.StandaloneVM", "", "dom0", "name=sa label=green")
	d.mustCall(t, "admin.vm.Start", "", "sa", "")
	waitFile(t, filepath.Join(d.dir, "data", "qubes", "sa", "home", "service"), "up\n")
	buf := make([]byte, 64)
	r.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, _ := r.Read(buf); string(buf[:n]) != "sa green\n" {
		t.Errorf("per-qube service wrote %q to its fd 3", buf[:n])
	}
	d.mustCall(t, "admin.vm.Kill", "", "sa", "")
	for _, want := range []string{"started sa green", "stopped sa"} {
		select {
		case got := <-rec.calls:
			if got != want {
				t.Errorf("hook %q, want %q", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no hook call %q", want)
		}
	}
}

// A qube with a netvm has the host's network; one without has loopback only.
func TestNetvmMeansHostNetwork(t *testing.T) {
	d := sandboxDaemon(t)
	d.mustCall(t, "admin.vm.Create.StandaloneVM", "", "dom0", "name=net label=red")
	if _, err := d.call(t, "admin.vm.property.Set", "netvm", "dom0", "net"); err == nil {
		t.Fatal("dom0's netvm was set")
	}
	d.mustCall(t, "admin.vm.Create.StandaloneVM", "", "dom0", "name=online label=yellow")
	if _, err := d.call(t, "admin.vm.property.Set", "netvm", "online", "net"); !errors.Is(err, adminapi.ErrPropertyValue) {
		t.Fatalf("netvm without provides_network: %v", err)
	}
	d.mustCall(t, "admin.vm.property.Set", "provides_network", "net", "True")
	d.mustCall(t, "admin.vm.property.Set", "netvm", "online", "net")
	d.mustCall(t, "admin.vm.Create.StandaloneVM", "", "dom0", "name=offline label=green")
	host, _ := os.ReadFile("/proc/net/dev")
	for name, want := range map[string]string{"online": string(host), "offline": ""} {
		d.mustCall(t, adminapi.RunMethod, "", name, "cat /proc/net/dev > ~/dev")
		p := filepath.Join(d.dir, "data", "qubes", name, "home", "dev")
		if want != "" {
			waitFile(t, p, want)
			continue
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			b, _ := os.ReadFile(p)
			if bytes.Count(b, []byte(":")) == 1 && bytes.Contains(b, []byte("lo:")) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("offline qube sees interfaces %q", b)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// stoppingRecorder also wants to know when a shutdown begins.
type stoppingRecorder struct{ lifecycleRecorder }

func (l stoppingRecorder) QubeStopping(name string) { l.calls <- "stopping " + name }

// A Lifecycle that implements Stopping hears of a shutdown before the halt,
// and of a kill only at the halt.
func TestLifecycleStopping(t *testing.T) {
	rec := stoppingRecorder{lifecycleRecorder{make(chan string, 8)}}
	d := sandboxDaemon(t, func(c *Config) { c.Lifecycle = rec })
	d.mustCall(t, "admin.vm.Create.StandaloneVM", "", "dom0", "name=sa label=green")
	d.mustCall(t, "admin.vm.Start", "", "sa", "")
	d.mustCall(t, "admin.vm.Shutdown", "wait", "sa", "")
	d.mustCall(t, "admin.vm.Start", "", "sa", "")
	d.mustCall(t, "admin.vm.Kill", "", "sa", "")
	for _, want := range []string{"started sa green", "stopping sa", "stopped sa", "started sa green", "stopped sa"} {
		select {
		case got := <-rec.calls:
			if got != want {
				t.Fatalf("hook %q, want %q", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no hook call %q", want)
		}
	}
}
