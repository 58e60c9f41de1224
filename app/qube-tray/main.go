// Command qube-tray shows running qubes in the desktop's system tray (a
// StatusNotifierItem, as KDE Plasma and waybar host them), with a menu of
// per-qube actions, and notifies when qubes start, stop or fail.
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/qube-desktop/qube-desktop/internal/adminapi"
	"github.com/qube-desktop/qube-desktop/internal/tray"
)

func main() {
	socket := flag.String("socket", "", "Admin API socket (default $"+adminapi.SocketEnv+", else "+adminapi.DefaultSocket+
		" if present, else qube-hostd's $XDG_RUNTIME_DIR/qubes/qubesd.sock)")
	clipDir := flag.String("clipboard-dir", defaultClipboardDir(), "directory of the global clipboard files (qubes-clipboard.bin*)")
	terminal := flag.String("terminal", tray.DefaultTerminal, "shell command run in a qube for \"Run terminal\"")
	manager := flag.String("manager", "qube-manager", "command that opens the Qube Manager")
	settings := flag.String("settings", "qube-manager -settings", "command that opens a qube's settings; the qube name is appended")
	flag.Parse()

	src := &tray.AdminSource{
		Client:   adminapi.New(adminapi.TransportFromEnv(*socket)),
		Terminal: *terminal,
		Manager:  strings.Fields(*manager),
		Settings: strings.Fields(*settings),
	}
	t := tray.New(tray.Options{Source: src, Clipboard: tray.ClipboardFiles{Dir: *clipDir}.Status})

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The session bus may be absent at login or restart under us: wait and
	// reconnect rather than exit.
	// Retry after 2 s, doubling up to 30 s while the bus stays away, so a
	// session without one does not fill the journal.
	delay := 2 * time.Second
	for ctx.Err() == nil {
		conn, err := dbus.ConnectSessionBus()
		if err != nil {
			log.Printf("qube-tray: session bus: %v; retrying in %v", err, delay)
		} else {
			delay = 2 * time.Second
			err = t.Run(ctx, conn)
			conn.Close()
			if errors.Is(err, context.Canceled) {
				return
			}
			log.Printf("qube-tray: %v; reconnecting in %v", err, delay)
		}
		select {
		case <-ctx.Done():
		case <-time.After(delay):
		}
		delay = min(2*delay, 30*time.Second)
	}
}

// defaultClipboardDir is where the guid keeps the global clipboard: the
// user's runtime dir, as the design says, or Qubes' /run/qubes.
func defaultClipboardDir() string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "qubes")
	}
	return "/run/qubes"
}
