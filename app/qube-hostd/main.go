// Command qube-hostd serves the Qubes Admin API on a Unix socket and runs
// qubes as bubblewrap sandboxes, for desktops without qubesd. Qubes die
// with the daemon; clients (manager, tray, qvm) may come and go.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/qube-desktop/qube-desktop/internal/driver"
	"github.com/qube-desktop/qube-desktop/internal/driver/sandbox"
	"github.com/qube-desktop/qube-desktop/internal/hostd"
	"github.com/qube-desktop/qube-desktop/internal/hostd/guilaunch"
	"github.com/qube-desktop/qube-desktop/internal/store"
)

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ", ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	// The same executable is each qube's init (see internal/driver/sandbox).
	sandbox.RunInitIfRequested()

	defaultUID := 0
	if os.Geteuid() == 0 {
		defaultUID = 65534 // nobody: a root daemon never runs qubes as root
	}
	var services, runEnv listFlag
	socket := flag.String("socket", hostd.DefaultSocket(), "Admin API socket to serve")
	mode := flag.Uint("socket-mode", 0o600, "socket permissions: 0600 (user daemon) or 0660 (system daemon, group members may call)")
	data := flag.String("data", "", "data directory (default $XDG_DATA_HOME/qube-desktop)")
	drv := flag.String("driver", "sandbox", "how qubes run: sandbox (bubblewrap)")
	bwrap := flag.String("bwrap", "", "bubblewrap binary (default: bwrap in PATH)")
	uid := flag.Int("sandbox-uid", defaultUID, "host uid bwrap runs as when the daemon is root (0: the daemon's own)")
	gid := flag.Int("sandbox-gid", defaultUID, "host gid bwrap runs as when the daemon is root")
	flag.Var(&services, "service", "`name=command` started with sh -c in every qube when it starts (repeatable): an X server, qube-agent")
	flag.Var(&runEnv, "run-env", "`KEY=VALUE` added to the environment of commands run in qubes (repeatable), e.g. DISPLAY=:0")
	gui := guiFlags{}
	gui.register()
	examples := flag.Bool("examples", false, "on a first run, create example qubes: "+hostd.ExampleTemplate+", "+hostd.ExampleWork+" (blue), "+hostd.ExampleUntrusted+" (red)")
	flag.Parse()
	lg := log.New(os.Stderr, "qube-hostd: ", 0)

	if *drv != "sandbox" {
		lg.Fatalf("unknown driver %q: only sandbox is available", *drv)
	}
	if *data == "" {
		d, err := store.DefaultDir()
		if err != nil {
			lg.Fatal(err)
		}
		*data = d
	}
	var svcs []driver.Service
	for _, s := range services {
		name, cmd, ok := strings.Cut(s, "=")
		if !ok || name == "" || cmd == "" {
			lg.Fatalf("-service %q: want name=command", s)
		}
		svcs = append(svcs, driver.Service{Name: name, Argv: []string{"sh", "-c", cmd}})
	}

	st, err := store.Open(*data)
	if err != nil {
		lg.Fatal(err)
	}
	if os.Geteuid() == 0 && *uid != 0 {
		// Let the unprivileged sandbox user reach the homes (not list them).
		if err := os.Chmod(*data, 0o711); err != nil {
			lg.Fatal(err)
		}
	}
	d, err := sandbox.New(sandbox.Config{
		Bwrap: *bwrap, Hide: []string{*data}, LogDir: filepath.Join(*data, "logs"),
		UID: *uid, GID: *gid,
	})
	if err != nil {
		lg.Fatal(err)
	}
	cfg := hostd.Config{Store: st, Driver: d, Services: svcs, RunEnv: runEnv, Log: lg}
	launcher, err := gui.launcher(d, *socket, filepath.Join(*data, "logs"), lg)
	if err != nil {
		lg.Fatal(err)
	}
	if launcher != nil {
		defer launcher.Close()
		cfg.QubeServices, cfg.Lifecycle = launcher.Services, launcher
		if !hasKey(runEnv, "DISPLAY") {
			cfg.RunEnv = append(cfg.RunEnv, guilaunch.RunEnv()...)
		}
	}
	srv := hostd.New(cfg)
	l, err := hostd.Listen(*socket, os.FileMode(*mode))
	if err != nil {
		lg.Fatal(err)
	}
	if *examples {
		if made, err := srv.CreateExamples(); err != nil {
			lg.Fatalf("create example qubes: %v", err)
		} else if made {
			lg.Printf("created example qubes %s, %s and %s", hostd.ExampleTemplate, hostd.ExampleWork, hostd.ExampleUntrusted)
		}
	}
	srv.Autostart()

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		s := <-sigs
		lg.Printf("%v: stopping every qube", s)
		srv.Close()
	}()
	fmt.Fprintf(os.Stderr, "qube-hostd: serving %s (data %s); clients: export QUBESD_SOCKET=%s\n", *socket, *data, *socket)
	err = srv.Serve(l)
	os.Remove(*socket)
	st.Close()
	if err != nil {
		lg.Print(err)
		os.Exit(1)
	}
}

func hasKey(env []string, key string) bool {
	for _, kv := range env {
		if strings.HasPrefix(kv, key+"=") {
			return true
		}
	}
	return false
}
