// Command qube-agent runs inside a qube next to its X server and bridges
// the qube's windows to the host's qube-guid over the GUI protocol.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/qube-desktop/qube-desktop/agent"
	"github.com/qube-desktop/qube-desktop/internal/transport"
)

func main() {
	tr := flag.String("transport", "unix", "how the daemon reaches the agent: unix or virtio")
	socket := flag.String("socket", "", "unix: path of the socket to listen on")
	listenFd := flag.Int("listen-fd", -1, "unix: inherited fd of a listening socket the host made (instead of -socket)")
	regionFd := flag.Int("region-fd", -1, "unix: inherited fd of the shared region (a sealed memfd)")
	regionPath := flag.String("region", "", "region file to map; virtio default: the ivshmem BAR found in sysfs")
	sysfs := flag.String("sysfs", "/sys", "virtio: sysfs root to find the qubes.gui port and the ivshmem device")
	display := flag.String("display", os.Getenv("DISPLAY"), "X display of the qube")
	flag.Parse()
	// The X server does the pixel copies; one thread saves the agent the
	// cross-thread wake-ups that were a third of its CPU per small frame
	// (docs/benchmarks.md, window path side by side).
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	log.SetPrefix("qube-agent: ")
	log.SetFlags(0)
	if err := run(*tr, *socket, *listenFd, *regionFd, *regionPath, *sysfs, *display); err != nil && !errors.Is(err, context.Canceled) {
		log.Fatal(err)
	}
}

func run(tr, socket string, listenFd, regionFd int, regionPath, sysfs, display string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	var (
		region *transport.Region
		accept agent.AcceptFunc
		err    error
	)
	switch tr {
	case "unix":
		if (socket == "") == (listenFd < 0) {
			return fmt.Errorf("-transport unix needs -socket or -listen-fd (one of them)")
		}
		switch {
		case regionFd >= 0:
			region, err = transport.OpenRegionFd(regionFd)
		case regionPath != "":
			region, err = transport.OpenRegionPath(regionPath)
		default:
			return fmt.Errorf("-transport unix needs -region-fd (or -region)")
		}
		if err != nil {
			return err
		}
		if listenFd >= 0 {
			l, err := inheritedListener(listenFd)
			if err != nil {
				return err
			}
			defer l.Close()
			accept = func(ctx context.Context) (io.ReadWriteCloser, error) { return acceptCtx(ctx, l) }
			break
		}
		l, err := transport.Listen(socket)
		if err != nil {
			return err
		}
		defer l.Close()
		accept = func(ctx context.Context) (io.ReadWriteCloser, error) { return l.Accept(ctx) }
	case "virtio":
		if regionPath == "" {
			if regionPath, err = transport.FindIvshmem(sysfs); err != nil {
				return err
			}
		}
		if region, err = transport.OpenRegionPath(regionPath); err != nil {
			return err
		}
		accept = func(ctx context.Context) (io.ReadWriteCloser, error) {
			return transport.AcceptVirtio(ctx, sysfs, transport.VirtioPortName)
		}
	default:
		return fmt.Errorf("unknown -transport %q (want unix or virtio)", tr)
	}
	defer region.Close()

	a, err := agent.New(display, region, log.Default())
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Run(ctx, accept)
}

// inheritedListener takes over a listening unix socket the host bound
// outside the qube (qube-hostd), so no path is shared between the two.
func inheritedListener(fd int) (*net.UnixListener, error) {
	f := os.NewFile(uintptr(fd), "listen-fd")
	if f == nil {
		return nil, fmt.Errorf("-listen-fd %d: not a file descriptor", fd)
	}
	defer f.Close()
	l, err := net.FileListener(f)
	if err != nil {
		return nil, fmt.Errorf("-listen-fd %d is not a listening socket: %w", fd, err)
	}
	ul, ok := l.(*net.UnixListener)
	if !ok {
		l.Close()
		return nil, fmt.Errorf("-listen-fd %d is not a unix socket", fd)
	}
	return ul, nil
}

// acceptCtx waits for the daemon to connect, or for ctx to end.
func acceptCtx(ctx context.Context, l *net.UnixListener) (net.Conn, error) {
	stop := context.AfterFunc(ctx, func() { l.SetDeadline(time.Now()) })
	defer stop()
	c, err := l.Accept()
	if err != nil {
		if ctx.Err() != nil {
			l.SetDeadline(time.Time{})
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("accept on -listen-fd: %w", err)
	}
	return c, nil
}
