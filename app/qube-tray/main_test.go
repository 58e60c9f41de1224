package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/qube-desktop/qube-desktop/internal/adminapi"
	"github.com/qube-desktop/qube-desktop/internal/adminapi/adminapitest"
	"github.com/qube-desktop/qube-desktop/internal/notify/notifytest"
	"github.com/qube-desktop/qube-desktop/internal/sni"
	"github.com/qube-desktop/qube-desktop/internal/testenv"
)

// qubesd is a scripted daemon: three qubes whose states the test and the
// lifecycle calls change, an event stream the test feeds, and a log of the
// calls it got.
type qubesd struct {
	*adminapitest.Server
	events chan adminapi.Event
	mu     sync.Mutex
	states map[string]string
	calls  []string
}

// emit changes a qube's state and sends the event that announces it.
func (d *qubesd) emit(qube, event, state string) {
	d.mu.Lock()
	d.states[qube] = state
	d.mu.Unlock()
	d.events <- adminapi.Event{Subject: qube, Name: event}
}

func startQubesd(t *testing.T) *qubesd {
	d := &qubesd{events: make(chan adminapi.Event),
		states: map[string]string{"dom0": "Running", "work": "Running", "personal": "Halted"}}
	quit := make(chan struct{}) // ends open streams before the server waits for them
	labels := map[string]string{"dom0": "black", "work": "blue", "personal": "green"}
	d.Server = adminapitest.NewServer(t, func(raw []byte, c net.Conn) {
		req, err := adminapi.ParseRequest(raw)
		if err != nil {
			return
		}
		switch req.Method {
		case "admin.vm.List":
			d.mu.Lock()
			list := fmt.Sprintf("dom0 class=AdminVM state=%s\nwork class=AppVM state=%s\npersonal class=AppVM state=%s\n",
				d.states["dom0"], d.states["work"], d.states["personal"])
			d.mu.Unlock()
			adminapi.WriteOK(c, []byte(list))
		case "admin.vm.property.GetAll":
			adminapi.WriteOK(c, []byte("label default=False type=label "+labels[req.Dest]+"\n"))
		case "admin.Events":
			adminapi.WriteEvent(c, adminapi.Event{Name: "connection-established"})
			for {
				select {
				case e := <-d.events:
					adminapi.WriteEvent(c, e)
				case <-quit:
					return
				}
			}
		case "admin.vm.Stats":
			adminapi.WriteEvent(c, adminapi.Event{Name: "connection-established"})
			<-quit
		default:
			d.mu.Lock()
			d.calls = append(d.calls, req.Method+" "+req.Dest)
			if req.Method == "admin.vm.Pause" {
				d.states[req.Dest] = "Paused" // the event is left out: the tray sees it on its next reload
			}
			d.mu.Unlock()
			adminapi.WriteOK(c, nil)
		}
	})
	t.Cleanup(func() { close(quit) })
	return d
}

func buildTray(t *testing.T) string {
	bin := filepath.Join(t.TempDir(), "qube-tray")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// startTray runs the built tray with args on the bus, its log in the
// test's, and stops it with SIGINT at the end, expecting a clean exit.
func startTray(t *testing.T, bus *testenv.Bus, args ...string) {
	cmd := exec.Command(buildTray(t), args...)
	cmd.Env = bus.Env()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			t.Log("qube-tray: " + sc.Text())
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { <-logDone; done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("qube-tray exited with %v after SIGINT, want status 0", err)
			}
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			t.Error("qube-tray did not exit within 5 s of SIGINT")
		}
	})
}

// trayItem waits until the watcher lists one item and returns its bus name.
func trayItem(t *testing.T, host *dbus.Conn) string {
	t.Helper()
	var item string
	waitFor(t, "the tray item", func() bool {
		v, err := host.Object(sni.WatcherName, sni.WatcherPath).GetProperty(sni.WatcherInterface + ".RegisteredStatusNotifierItems")
		if err != nil || len(v.Value().([]string)) != 1 {
			return false
		}
		item = v.Value().([]string)[0]
		return true
	})
	return item
}

type menuEntry struct {
	ID       int32
	Props    map[string]dbus.Variant
	Children []dbus.Variant
}

func topLabels(t *testing.T, c *dbus.Conn, item string) ([]string, []int32) {
	var rev uint32
	var root menuEntry
	if err := c.Object(item, sni.MenuPath).Call(sni.MenuInterface+".GetLayout", 0, int32(0), int32(1), []string{"label", "type"}).Store(&rev, &root); err != nil {
		t.Fatalf("GetLayout: %v", err)
	}
	var labels []string
	var ids []int32
	for _, v := range root.Children {
		var e menuEntry
		if err := dbus.Store([]any{v.Value()}, &e); err != nil {
			t.Fatal(err)
		}
		l, _ := e.Props["label"].Value().(string)
		if e.Props["type"].Value() == "separator" {
			l = "---"
		}
		labels = append(labels, l)
		ids = append(ids, e.ID)
	}
	return labels, ids
}

// clickSubmenu clicks the entry labelled label in submenu parent, as a
// tray host does.
func clickSubmenu(t *testing.T, c *dbus.Conn, item string, parent int32, label string) {
	t.Helper()
	var rev uint32
	var sub menuEntry
	menu := c.Object(item, sni.MenuPath)
	if err := menu.Call(sni.MenuInterface+".GetLayout", 0, parent, int32(1), []string{"label"}).Store(&rev, &sub); err != nil {
		t.Fatalf("GetLayout %d: %v", parent, err)
	}
	for _, v := range sub.Children {
		var e menuEntry
		if err := dbus.Store([]any{v.Value()}, &e); err != nil {
			t.Fatal(err)
		}
		if e.Props["label"].Value() == label {
			if err := menu.Call(sni.MenuInterface+".Event", 0, e.ID, "clicked", dbus.MakeVariant(int32(0)), uint32(0)).Err; err != nil {
				t.Fatalf("click %s (%d): %v", label, e.ID, err)
			}
			return
		}
	}
	t.Fatalf("submenu %d has no %s: %+v", parent, label, sub)
}

// TestBinary runs the built qube-tray on a private session bus with the
// real SNI watcher, a test notification server and a scripted qubesd that
// appears only after the tray started.
func TestBinary(t *testing.T) {
	bus := testenv.StartDBus(t)
	testenv.StartSNIWatcher(t, bus)
	notes, err := notifytest.Serve(bus.Conn(t))
	if err != nil {
		t.Fatal(err)
	}
	host := bus.Conn(t)

	dir := t.TempDir()
	sock := filepath.Join(dir, "qubesd.sock") // absent: the daemon is not up yet
	clip := filepath.Join(dir, "clip")
	if err := os.MkdirAll(clip, 0o700); err != nil {
		t.Fatal(err)
	}
	startTray(t, bus, "-socket", sock, "-clipboard-dir", clip, "-settings", "true")
	waitFor := func(what string, ok func() bool) { t.Helper(); waitFor(t, what, ok) }
	item := trayItem(t, host)
	var labels []string
	var ids []int32
	menuIs := func(want ...string) func() bool {
		return func() bool { labels, ids = topLabels(t, host, item); return slices.Equal(labels, want) }
	}
	waitFor("the no-daemon menu", menuIs("Qube daemon not reachable; retrying", "---", "Qube Manager"))

	// qubesd comes up at the configured path; a clipboard holds data.
	d := startQubesd(t)
	if err := os.Symlink(d.Path, sock); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(clip, "qubes-clipboard.bin")
	if err := os.WriteFile(data, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(data+".source", []byte("work"), 0o600); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(data)
	clipLine := "Clipboard: 5 bytes from work at " + fi.ModTime().Format("15:04:05")
	waitFor("qubes and clipboard in the menu", menuIs("dom0", "work", "---", clipLine, "---", "Qube Manager"))

	// A qube starts: menu entry and notification.
	d.emit("personal", "domain-start", "Running")
	waitFor("personal in the menu", menuIs("dom0", "personal", "work", "---", clipLine, "---", "Qube Manager"))
	select {
	case n := <-notes.C:
		if n.Summary != "Qube Status: personal" || n.Body != "has started" {
			t.Fatalf("notification %+v", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no notification for the start")
	}

	// Pause work from its submenu: the call reaches qubesd.
	clickSubmenu(t, host, item, ids[2], "Pause")
	waitFor("admin.vm.Pause work", func() bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		return slices.Contains(d.calls, "admin.vm.Pause work")
	})

	// The session bus dies and comes back: the tray reconnects, registers
	// with the new watcher and reloads the qubes (work was paused meanwhile,
	// without an event, so only a reload shows it).
	bus.Restart(t)
	testenv.StartSNIWatcher(t, bus)
	host = bus.Conn(t)
	item = trayItem(t, host)
	waitFor("the menu on the new bus", menuIs("dom0", "personal", "work (paused)", "---", clipLine, "---", "Qube Manager"))
}

func TestAutostartEntry(t *testing.T) {
	b, err := os.ReadFile("../../assets/org.qubedesktop.QubeTray.desktop")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{"[Desktop Entry]\n", "\nType=Application\n", "\nExec=qube-tray\n",
		"\nIcon=org.qubedesktop.QubeTray\n", "\nNoDisplay=true\n", "\nX-GNOME-Autostart-enabled=true\n"} {
		if !strings.Contains(s, want) {
			t.Errorf("autostart entry lacks %q", strings.TrimSpace(want))
		}
	}
	if _, err := os.Stat("../../assets/org.qubedesktop.QubeTray.svg"); err != nil {
		t.Errorf("the entry's icon is missing: %v", err)
	}
}
