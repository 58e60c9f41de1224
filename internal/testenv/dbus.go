package testenv

import (
	"bufio"
	"context"
	"fmt"
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
	Address string // DBUS_SESSION_BUS_ADDRESS value, without a guid so it survives Restart
	config  string
	cmd     *exec.Cmd
}

// busConfig is a session bus without service activation: a name nobody
// owns must fail at once, not start the desktop's real service (KDE's
// notification daemon, say) from /usr/share/dbus-1/services.
const busConfig = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`

// StartDBus starts a session dbus-daemon (without service activation) on a socket in a test temp dir
// and stops it when the test ends.
func StartDBus(t testing.TB) *Bus {
	t.Helper()
	NeedCommands(t, "dbus-daemon")
	dir := t.TempDir()
	b := &Bus{Address: "unix:path=" + escapeAddress(filepath.Join(dir, "bus")), config: filepath.Join(dir, "bus.conf")}
	if err := os.WriteFile(b.config, []byte(fmt.Sprintf(busConfig, b.Address)), 0o600); err != nil {
		t.Fatal(err)
	}
	b.start(t)
	t.Cleanup(func() { stop(b.cmd) })
	return b
}

// Restart stops the daemon, dropping every connection, and starts a new
// one at the same address, as when a session bus dies and comes back.
func (b *Bus) Restart(t testing.TB) {
	t.Helper()
	stop(b.cmd)
	b.start(t)
}

func (b *Bus) start(t testing.TB) {
	t.Helper()
	cmd := exec.Command("dbus-daemon", "--config-file="+b.config, "--nofork", "--nopidfile", "--print-address=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = &prefixWriter{t: t, prefix: "dbus-daemon: "}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dbus-daemon: %v", err)
	}
	b.cmd = cmd
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
	case <-time.After(10 * time.Second):
		t.Fatalf("dbus-daemon did not print its address within 10 s")
	}
}

// escapeAddress escapes a value for a D-Bus address: bytes outside
// [-0-9A-Za-z_/.\*] become %XX (test temp dirs carry subtest names).
func escapeAddress(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || strings.IndexByte("-_/.\\*", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02x", c)
		}
	}
	return b.String()
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
	waitWatcher(t, b, nil)
	return p
}

// waitWatcher waits until org.kde.StatusNotifierWatcher answers on the bus;
// watchers own the name a moment before they export their object. poke,
// if set, runs before each try.
func waitWatcher(t testing.TB, b *Bus, poke func(c *dbus.Conn)) {
	t.Helper()
	c := b.Conn(t)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if poke != nil {
			poke(c)
		}
		_, err := c.Object("org.kde.StatusNotifierWatcher", "/StatusNotifierWatcher").
			GetProperty("org.kde.StatusNotifierWatcher.RegisteredStatusNotifierItems")
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no StatusNotifierWatcher answers on the bus after 20 s: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// StartKDEWatcher runs KDE's own StatusNotifierWatcher, the kded5 module
// from plasma-workspace, on the bus with a private HOME and config (see
// the display-test-env notes, §6), and waits until it answers. It is
// stopped when the test ends.
func StartKDEWatcher(t testing.TB, b *Bus) *Proc {
	t.Helper()
	NeedCommands(t, "kded5")
	const module = "/usr/lib/x86_64-linux-gnu/qt5/plugins/kf5/kded/statusnotifierwatcher.so"
	if _, err := os.Stat(module); err != nil {
		Missing(t, "KDE's statusnotifierwatcher kded module (Debian plasma-workspace): %v", err)
	}
	dir := t.TempDir()
	env := b.Env()
	for _, d := range []string{"home", "config", "cache", "data", "run"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	env = append(env, "HOME="+filepath.Join(dir, "home"), "XDG_CONFIG_HOME="+filepath.Join(dir, "config"),
		"XDG_CACHE_HOME="+filepath.Join(dir, "cache"), "XDG_DATA_HOME="+filepath.Join(dir, "data"),
		"XDG_RUNTIME_DIR="+filepath.Join(dir, "run"), "QT_QPA_PLATFORM=offscreen")
	// Without this seed kded5 waits ~30 s for a kconf_update that needs
	// kactivitymanagerd.
	if fi, err := os.Stat("/usr/share/kconf_update/krunnerhistory.upd"); err == nil {
		seed := fmt.Sprintf("[krunnerhistory.upd]\ndone=5.21KRunnerHistory\nmtime=%d\n", fi.ModTime().Unix())
		if err := os.WriteFile(filepath.Join(dir, "config", "kconf_updaterc"), []byte(seed), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("kded5")
	cmd.Env = env
	cmd.Stdout = &prefixWriter{t: t, prefix: "kded5: "}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatalf("start kded5: %v", err)
	}
	p := &Proc{cmd: cmd}
	t.Cleanup(p.Stop)
	// kded does not autoload the module headlessly: ask for it, once our
	// kded5 owns its name; asking earlier would make a bus with service
	// activation (KWin's) start the desktop's own kded5.
	waitWatcher(t, b, func(c *dbus.Conn) {
		var owned bool
		if c.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, "org.kde.kded5").Store(&owned); !owned {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		c.Object("org.kde.kded5", "/kded").CallWithContext(ctx, "org.kde.kded5.loadModule", 0, "statusnotifierwatcher")
	})
	return p
}
