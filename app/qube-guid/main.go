// Command qube-guid is the trusted GUI daemon of one qube: it connects to
// the qube's agent and shows the qube's windows on the Wayland compositor
// with a frame in the qube's label colour.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/qube-desktop/qube-desktop/guid"
	"github.com/qube-desktop/qube-desktop/internal/adminapi"
	"github.com/qube-desktop/qube-desktop/internal/clipboard"
	"github.com/qube-desktop/qube-desktop/internal/guiproto"
	"github.com/qube-desktop/qube-desktop/internal/notify"
	"github.com/qube-desktop/qube-desktop/internal/policy"
	"github.com/qube-desktop/qube-desktop/internal/qube"
	"github.com/qube-desktop/qube-desktop/internal/transport"
)

func main() {
	var o guid.Options
	name := flag.String("qube", "", "the qube's name, shown as [qube] in titles")
	label := flag.String("label", "red", "label: a name (red, orange, yellow, green, gray, blue, purple, black) or 0xRRGGBB")
	flag.StringVar(&o.Socket, "socket", "", "the agent's unix socket (the daemon connects and retries until it appears)")
	regionFd := flag.Int("region-fd", -1, "inherited fd of the qube's shared region (a sealed memfd)")
	regionPath := flag.String("region", "", "file of the qube's shared region, instead of -region-fd")
	flag.StringVar(&o.Display, "display", "", "Wayland display (default $WAYLAND_DISPLAY)")
	flag.BoolVar(&o.AllowFullscreen, "allow-fullscreen", false, "let the qube make windows fullscreen (otherwise they are maximized)")
	flag.BoolVar(&o.AllowUTF8Titles, "allow-utf8-titles", false, "keep well-formed UTF-8 in titles (otherwise non-ASCII becomes _)")
	flag.IntVar(&o.MaxClipboard, "max-clipboard", guiproto.DefaultClipboardBuffer,
		fmt.Sprintf("the qube's clipboard limit in bytes (%d..%d)", guiproto.MinClipboardBuffer, guiproto.MaxClipboardBuffer))
	var cf clipFlags
	flag.StringVar(&cf.copy, "copy-sequence", "Ctrl-Shift-c", "secure copy hotkey in Qubes' syntax (Ctrl-, Shift-, Alt-, Mod4- ... then an X key name), or none")
	flag.StringVar(&cf.paste, "paste-sequence", "Ctrl-Shift-v", "secure paste hotkey, same syntax, or none")
	flag.StringVar(&cf.dir, "clipboard-dir", "", "directory of the global clipboard shared by all qube-guids (default $XDG_RUNTIME_DIR/qubes; "+clipboard.SystemDir+" for a system setup)")
	flag.StringVar(&cf.policyDir, "policy-dir", "/etc/qubes/policy.d", "qrexec policy directory for qubes.ClipboardPaste (missing: the built-in default policy, which allows)")
	flag.StringVar(&cf.adminSocket, "admin-socket", "", "qubesd Admin API socket for @tag:/@type: policy rules (default: $QUBESD_SOCKET, "+adminapi.DefaultSocket+" or $XDG_RUNTIME_DIR/qubes/qubesd.sock)")
	flag.IntVar(&o.Style.Border, "border", 2, "frame width in pixels")
	flag.IntVar(&o.Style.TitleBar, "titlebar", 20, "height of the title bar drawn where the compositor draws none")
	flag.Func("events-max-delay", "delay each input event randomly by up to MS milliseconds (0..5000; 0, the default, is off) to hide typing and mouse timing from the qube",
		func(v string) (err error) { o.EventsMaxDelay, err = parseEventsMaxDelay(v); return err })
	flag.StringVar(&o.Style.Palette, "palette", "", "KDE colour scheme for KWin's title bar, e.g. a per-label scheme")
	flag.Parse()

	log.SetFlags(0)
	log.SetPrefix("qube-guid: ")
	if err := run(&o, cf, *name, *label, *regionFd, *regionPath); err != nil && !errors.Is(err, context.Canceled) {
		log.Fatal(err)
	}
}

func run(o *guid.Options, cf clipFlags, name, label string, regionFd int, regionPath string) error {
	if err := qube.ValidateName(name); err != nil {
		return fmt.Errorf("-qube: %w", err)
	}
	o.Qube = name
	log.SetPrefix("qube-guid[" + name + "]: ")
	l, err := parseLabel(label)
	if err != nil {
		return err
	}
	o.Style.Label = l.Color()
	if o.Socket == "" {
		return errors.New("-socket is required: the path of the agent's unix socket")
	}
	if o.Style.Border < 1 || o.Style.Border > 32 || o.Style.TitleBar < 0 || o.Style.TitleBar > 64 {
		return errors.New("-border must be 1..32 and -titlebar 0..64")
	}
	if _, err := clipboard.ParseMaxSize(strconv.Itoa(o.MaxClipboard)); err != nil {
		return fmt.Errorf("-max-clipboard: %w", err)
	}
	switch {
	case regionFd >= 0:
		o.Region, err = transport.OpenRegionFd(regionFd)
	case regionPath != "":
		o.Region, err = transport.OpenRegionPath(regionPath)
	default:
		return errors.New("the shared region is required: -region-fd N or -region PATH")
	}
	if err != nil {
		return err
	}
	defer o.Region.Close()
	o.Log = log.Default()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if o.Clipboard, err = cf.clipboard(ctx, o.Log); err != nil {
		return err
	}
	return guid.Run(ctx, *o)
}

// clipFlags configure secure copy and paste.
type clipFlags struct{ copy, paste, dir, policyDir, adminSocket string }

// adminTimeout bounds one policy lookup of a qube's tags and type.
const adminTimeout = 3 * time.Second

// clipboard opens the global clipboard and the notification service.
// Both hotkeys off, or no directory for the global clipboard, means no
// clipboard at all. Without a session bus the notifications only go to
// the log.
func (cf clipFlags) clipboard(ctx context.Context, lg *log.Logger) (*guid.Clipboard, error) {
	c := &guid.Clipboard{}
	var err error
	if c.Copy, err = clipboard.ParseHotkey(cf.copy); err != nil {
		return nil, fmt.Errorf("-copy-sequence: %w", err)
	}
	if c.Paste, err = clipboard.ParseHotkey(cf.paste); err != nil {
		return nil, fmt.Errorf("-paste-sequence: %w", err)
	}
	if c.Copy.Disabled && c.Paste.Disabled {
		return nil, nil
	}
	dir := cf.dir
	if dir == "" {
		if dir, err = clipboard.UserDir(); err != nil {
			lg.Printf("secure copy and paste are off: %v", err)
			return nil, nil
		}
	}
	if c.Store, err = clipboard.Open(dir); err != nil {
		return nil, err
	}
	admin := adminapi.New(adminapi.TransportFromEnv(cf.adminSocket))
	c.Policy = policy.ClipboardPaste{Dir: cf.policyDir, Qubes: guid.AdminLookup(admin, adminTimeout)}
	bus, err := sessionBus()
	if err != nil {
		lg.Printf("no session bus (%v): clipboard notifications go to this log only", err)
		return c, nil
	}
	context.AfterFunc(ctx, func() { bus.Close() })
	c.Notify = guid.Notifications(ctx, notify.New(bus, "qube-guid"), lg)
	return c, nil
}

// parseEventsMaxDelay reads -events-max-delay: whole milliseconds.
func parseEventsMaxDelay(v string) (time.Duration, error) {
	ms, err := strconv.Atoi(v)
	if err != nil || ms < 0 || time.Duration(ms)*time.Millisecond > guid.MaxEventsDelay {
		return 0, fmt.Errorf("want milliseconds from 0 (off) to %d", guid.MaxEventsDelay.Milliseconds())
	}
	return time.Duration(ms) * time.Millisecond, nil
}

func parseLabel(s string) (qube.Label, error) {
	if l, ok := qube.LabelByName(s); ok {
		return l, nil
	}
	rgb, err := qube.ParseRGB(s)
	if err != nil {
		return qube.Label{}, fmt.Errorf("-label %q: neither a label name nor 0xRRGGBB", s)
	}
	return qube.Label{Name: s, RGB: rgb}, nil
}

func init() {
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: qube-guid -qube NAME -label COLOUR -socket PATH (-region-fd N | -region PATH) [flags]\n")
		flag.PrintDefaults()
	}
}

// sessionBus connects to the user's session bus, never starting one (as
// dbus-launch would): a guid without a desktop session has no notifications.
func sessionBus() (*dbus.Conn, error) {
	c, err := dbus.SessionBusPrivateNoAutoStartup()
	if err != nil {
		return nil, err
	}
	if err = c.Auth(nil); err == nil {
		err = c.Hello()
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}
