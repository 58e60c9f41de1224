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
	"syscall"

	"github.com/qube-desktop/qube-desktop/guid"
	"github.com/qube-desktop/qube-desktop/internal/guiproto"
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
	flag.IntVar(&o.MaxClipboard, "max-clipboard", guiproto.DefaultClipboardBuffer, "the qube's clipboard limit in bytes")
	flag.IntVar(&o.Style.Border, "border", 2, "frame width in pixels")
	flag.IntVar(&o.Style.TitleBar, "titlebar", 20, "height of the title bar drawn where the compositor draws none")
	flag.StringVar(&o.Style.Palette, "palette", "", "KDE colour scheme for KWin's title bar, e.g. a per-label scheme")
	flag.Parse()

	log.SetFlags(0)
	log.SetPrefix("qube-guid: ")
	if err := run(&o, *name, *label, *regionFd, *regionPath); err != nil && !errors.Is(err, context.Canceled) {
		log.Fatal(err)
	}
}

func run(o *guid.Options, name, label string, regionFd int, regionPath string) error {
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
	return guid.Run(ctx, *o)
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
