package hostd

import (
	"context"
	"io"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// hangupPoll is how often a stream checks whether its client left.
const hangupPoll = 500 * time.Millisecond

// hangup returns a channel closed once the client of a stream has closed
// its end. A stream client half-closes right after its request, so reads
// say nothing; POLLHUP appears only when both directions are shut. Without
// this, a gone client would be noticed only at the next event written.
func hangup(ctx context.Context, w io.Writer) <-chan struct{} {
	ch := make(chan struct{})
	sc, ok := w.(syscall.Conn)
	if !ok {
		return ch
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return ch
	}
	go func() {
		for ctx.Err() == nil {
			hup := false
			err := rc.Control(func(fd uintptr) {
				p := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLRDHUP}}
				if n, err := unix.Poll(p, 0); err == nil && n > 0 && p[0].Revents&(unix.POLLHUP|unix.POLLERR) != 0 {
					hup = true
				}
			})
			if err != nil || hup {
				close(ch)
				return
			}
			select {
			case <-ctx.Done():
			case <-time.After(hangupPoll):
			}
		}
	}()
	return ch
}
