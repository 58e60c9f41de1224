package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/qube-desktop/qube-desktop/internal/adminapi"
	"github.com/qube-desktop/qube-desktop/internal/clipboard"
	"github.com/qube-desktop/qube-desktop/internal/hostd/guilaunch"
)

// guiFlags configure the GUI launcher (see docs/qube-hostd.md).
type guiFlags struct {
	mode, agent, guid, xvfb, screen, wayland, sockets, palette string
	regionMiB                                                  int
}

func (g *guiFlags) register() {
	flag.StringVar(&g.mode, "gui", "auto", "start each running qube's GUI (X server, qube-agent inside, qube-guid outside): on, off, or auto (on when a Wayland display is set and both programs are found)")
	flag.StringVar(&g.agent, "gui-agent", "", "qube-agent binary (default: next to qube-hostd, else in PATH)")
	flag.StringVar(&g.guid, "gui-guid", "", "qube-guid binary (default: next to qube-hostd, else in PATH)")
	flag.StringVar(&g.xvfb, "gui-xvfb", "Xvfb", "X server command inside qubes")
	flag.StringVar(&g.screen, "gui-screen", "1920x1080x24", "screen of the qubes' X servers, WxHxDEPTH")
	flag.IntVar(&g.regionMiB, "gui-region-mib", guilaunch.DefaultRegionSize>>20, "size of each qube's shared pixel region in MiB")
	flag.StringVar(&g.wayland, "wayland-display", "", "Wayland display for qube-guid (default: $WAYLAND_DISPLAY)")
	flag.StringVar(&g.palette, "gui-palette", "", "KDE colour scheme for KWin's title bar of qube windows, {label} replaced by the qube's label, e.g. /usr/share/color-schemes/Qube{label}.colors")
	flag.StringVar(&g.sockets, "gui-sockets", "", "host-only directory of the GUI sockets (default: gui/ beside -socket)")
}

// launcher builds the GUI launcher, or returns nil when the GUI is off.
func (g *guiFlags) launcher(r guilaunch.Runner, adminSocket, logDir string, lg *log.Logger) (*guilaunch.Launcher, error) {
	if g.mode != "on" && g.mode != "off" && g.mode != "auto" {
		return nil, fmt.Errorf("-gui %q: want on, off or auto", g.mode)
	}
	if g.mode == "off" {
		return nil, nil
	}
	var errs []error
	if g.wayland == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		errs = append(errs, errors.New("no Wayland display: set WAYLAND_DISPLAY or -wayland-display"))
	}
	agent, err := findProgram(g.agent, "qube-agent")
	errs = append(errs, err)
	guid, err := findProgram(g.guid, "qube-guid")
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		if g.mode == "auto" {
			lg.Printf("GUI off (-gui=auto): %v", err)
			return nil, nil
		}
		return nil, fmt.Errorf("-gui=on: %w", err)
	}
	var args []string
	if g.wayland != "" {
		args = []string{"-display", g.wayland}
	}
	sockets := g.sockets
	if sockets == "" {
		sockets = filepath.Join(filepath.Dir(adminSocket), "gui")
	}
	if abs, err := filepath.Abs(adminSocket); err == nil {
		adminSocket = abs
	}
	l, err := guilaunch.New(guilaunch.Config{
		Runner: r, Agent: agent, Guid: guid, Xvfb: g.xvfb, Screen: g.screen,
		RegionSize: g.regionMiB << 20, SocketDir: sockets, GuidArgs: args, Palette: g.palette,
		Features:    guiFeatures(adminapi.New(adminapi.UnixTransport{Path: adminSocket})),
		AdminSocket: adminSocket, ClipboardDir: clipboardDir(lg),
		LogDir: logDir, Log: lg,
	})
	if err != nil {
		return nil, err
	}
	lg.Printf("GUI on: %s in each qube, %s on the host", agent, guid)
	return l, nil
}

// guiFeatures reads a qube's gui-* features and dom0's (the GUI domain's)
// through the daemon's own Admin API, as qvm-start-daemon does.
func guiFeatures(c *adminapi.Client) func(ctx context.Context, qube string) (map[string]string, map[string]string, error) {
	read := func(ctx context.Context, name string) (map[string]string, error) {
		names, err := c.FeatureList(ctx, name)
		if err != nil {
			return nil, err
		}
		m := map[string]string{}
		for _, f := range names {
			if !strings.HasPrefix(f, "gui-") {
				continue
			}
			if m[f], err = c.FeatureGet(ctx, name, f); err != nil {
				return nil, err
			}
		}
		return m, nil
	}
	return func(ctx context.Context, qube string) (map[string]string, map[string]string, error) {
		q, err := read(ctx, qube)
		if err != nil {
			return nil, nil, fmt.Errorf("features of %s: %w", qube, err)
		}
		gui, err := read(ctx, "dom0")
		if err != nil {
			return q, nil, fmt.Errorf("features of dom0: %w", err)
		}
		return q, gui, nil
	}
}

// clipboardDir is the global clipboard of the qube-guids: /run/qubes for
// a system daemon, as in Qubes, else $XDG_RUNTIME_DIR/qubes ("" leaves
// qube-guid to say why it has none).
func clipboardDir(lg *log.Logger) string {
	if os.Geteuid() == 0 {
		return clipboard.SystemDir
	}
	dir, err := clipboard.UserDir()
	if err != nil {
		lg.Printf("no global clipboard for qube-guid: %v", err)
	}
	return dir
}

// findProgram resolves a GUI binary: the flag's value, else the file next
// to this executable, else PATH.
func findProgram(flagValue, name string) (string, error) {
	if flagValue != "" {
		return exec.LookPath(flagValue)
	}
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s not found next to qube-hostd or in PATH (set -gui-%s)", name, name[len("qube-"):])
	}
	return p, nil
}
