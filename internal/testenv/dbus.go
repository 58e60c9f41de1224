package testenv

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// Bus is a private session dbus-daemon owned by one test.
type Bus struct {
	Address string // DBUS_SESSION_BUS_ADDRESS value
	cmd     *exec.Cmd
}

// StartDBus starts `dbus-daemon --session` on a socket in a test temp dir
// and stops it when the test ends.
func StartDBus(t testing.TB) *Bus {
	t.Helper()
	NeedCommands(t, "dbus-daemon")
	sock := filepath.Join(t.TempDir(), "bus")
	cmd := exec.Command("dbus-daemon", "--session", "--nofork", "--nopidfile",
		"--print-address=1", "--address=unix:path="+sock)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = &prefixWriter{t: t, prefix: "dbus-daemon: "}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dbus-daemon: %v", err)
	}
	t.Cleanup(func() { stop(cmd) })
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(out).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case addr := <-line:
		if addr == "" {
			t.Fatalf("dbus-daemon exited before printing its address")
		}
		return &Bus{Address: addr, cmd: cmd}
	case <-time.After(10 * time.Second):
		t.Fatalf("dbus-daemon did not print its address within 10 s")
	}
	return nil
}

// Conn opens a new connection to the bus, closed when the test ends.
func (b *Bus) Conn(t testing.TB) *dbus.Conn {
	t.Helper()
	c, err := dbus.Connect(b.Address)
	if err != nil {
		t.Fatalf("connect to test bus: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Env returns os.Environ with DBUS_SESSION_BUS_ADDRESS pointing at this bus.
func (b *Bus) Env() []string {
	return append(os.Environ(), "DBUS_SESSION_BUS_ADDRESS="+b.Address)
}

// WaitName waits until name has an owner on the bus.
func (b *Bus) WaitName(t testing.TB, name string, within time.Duration) {
	t.Helper()
	c := b.Conn(t)
	deadline := time.Now().Add(within)
	for {
		var has bool
		err := c.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, name).Store(&has)
		if err == nil && has {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("bus name %s has no owner after %v (last error: %v)", name, within, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Proc is a helper process started by a test.
type Proc struct{ cmd *exec.Cmd }

// Stop ends the process (SIGTERM, then SIGKILL) and waits for it.
func (p *Proc) Stop() { stop(p.cmd) }

// StartSNIWatcher runs the real StatusNotifierWatcher from Debian's
// haskell-status-notifier-item-utils on the bus and waits until it owns
// org.kde.StatusNotifierWatcher. It is stopped when the test ends.
func StartSNIWatcher(t testing.TB, b *Bus) *Proc {
	t.Helper()
	NeedCommands(t, "status-notifier-watcher")
	cmd := exec.Command("status-notifier-watcher")
	cmd.Env = b.Env()
	cmd.Stdout = &prefixWriter{t: t, prefix: "sn-watcher: "}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatalf("start status-notifier-watcher: %v", err)
	}
	p := &Proc{cmd: cmd}
	t.Cleanup(p.Stop)
	// The watcher owns its name a moment before it exports its object:
	// wait until the object answers.
	c := b.Conn(t)
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := c.Object("org.kde.StatusNotifierWatcher", "/StatusNotifierWatcher").
			GetProperty("org.kde.StatusNotifierWatcher.RegisteredStatusNotifierItems")
		if err == nil {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("status-notifier-watcher does not answer on the bus after 10 s: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
