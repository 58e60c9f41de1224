// Command virtioguest runs inside the QEMU guest of TestVirtioInQEMU: it
// maps the ivshmem region, opens the qubes.gui port through the transport
// package and plays the agent's side of the handshake with the host.
package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"time"

	"github.com/qube-desktop/qube-desktop/internal/guiproto"
	"github.com/qube-desktop/qube-desktop/internal/transport"
)

func main() {
	if err := run(); err != nil {
		fmt.Println("GUEST-ERROR", err)
		os.Exit(1)
	}
}

func run() error {
	bar, err := transport.FindIvshmem("/sys")
	if err != nil {
		return err
	}
	region, err := transport.OpenRegionPath(bar)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	port, err := transport.AcceptVirtio(ctx, "/sys", transport.VirtioPortName)
	if err != nil {
		return err
	}
	v, xc, err := guiproto.AgentHandshake(port, guiproto.ProtocolVersion)
	if err != nil {
		return err
	}
	fmt.Printf("GUEST-HANDSHAKE version %s screen %dx%d region %d bytes\n", v, xc.Width, xc.Height, region.Size())

	host, err := region.Slice(0, 16)
	if err != nil {
		return err
	}
	mine, err := region.Slice(transport.PageSize, 16)
	if err != nil {
		return err
	}
	copy(mine, "GUESTHELLO")
	title := "region:" + string(bytes.TrimRight(host, "\x00"))
	if err := guiproto.WriteMessage(port, 7, guiproto.Create{Width: 10, Height: 10}); err != nil {
		return err
	}
	if err := guiproto.WriteMessage(port, 7, guiproto.WMName{Title: title}); err != nil {
		return err
	}
	m, h, err := guiproto.ReadFromDaemon(port, v)
	if err != nil {
		return err
	}
	fmt.Printf("GUEST-GOT %s window %d\n", m.Type(), h.Window)
	return nil
}
