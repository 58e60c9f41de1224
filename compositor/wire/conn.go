package wire

import (
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
)

// Message is one received message. Body is the argument bytes after the
// header; FDs are the descriptors that arrived since the previous message,
// which the receiver must push onto its FDQueue before decoding Body.
type Message struct {
	Header
	Body []byte
	FDs  []int
}

// readMsgFunc is recvmsg: it fills b and oob, as net.UnixConn.ReadMsgUnix.
type readMsgFunc func(b, oob []byte) (n, oobn, flags int, err error)

// Conn is a Wayland connection over a Unix socket. ReadMessage and
// WriteMessage may run on different goroutines; each of them on one only.
type Conn struct {
	uc   *net.UnixConn
	read readMsgFunc
	in   []byte // bounded: holds at most one maximum-size message plus one read
	oob  []byte
	fds  []int // received since the last message returned
}

// Dial connects to the compositor socket at path.
func Dial(path string) (*Conn, error) {
	uc, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("connect to Wayland compositor: %w", err)
	}
	return NewConn(uc), nil
}

// NewConn wraps an established socket.
func NewConn(uc *net.UnixConn) *Conn {
	c := newConn(func(b, oob []byte) (int, int, int, error) {
		n, oobn, flags, _, err := uc.ReadMsgUnix(b, oob)
		return n, oobn, flags, err
	})
	c.uc = uc
	return c
}

func newConn(read readMsgFunc) *Conn {
	return &Conn{
		read: read,
		in:   make([]byte, 0, 2*MaxMessageSize),
		oob:  make([]byte, syscall.CmsgSpace(maxFDsPerMessage*4)),
	}
}

// Close closes the socket; a blocked ReadMessage then fails. It is safe to
// call while another goroutine reads.
func (c *Conn) Close() error {
	if c.uc == nil {
		return nil
	}
	return c.uc.Close()
}

// ReadMessage returns the next complete message. Body is a fresh copy.
// An error is final: the stream is out of sync or closed.
func (c *Conn) ReadMessage() (Message, error) {
	for {
		if len(c.in) >= HeaderSize {
			h, err := ParseHeader(c.in)
			if err != nil {
				closeFDs(c.fds)
				c.fds = nil
				return Message{}, err
			}
			if len(c.in) >= int(h.Size) {
				m := Message{Header: h, Body: append([]byte(nil), c.in[HeaderSize:h.Size]...), FDs: c.fds}
				c.fds = nil
				c.in = c.in[:copy(c.in, c.in[h.Size:])]
				return m, nil
			}
		}
		if err := c.fill(); err != nil {
			closeFDs(c.fds) // nobody will claim them now
			c.fds = nil
			return Message{}, err
		}
	}
}

// fill performs one recvmsg into the free part of the input buffer.
func (c *Conn) fill() error {
	free := c.in[len(c.in):cap(c.in)]
	if len(free) > MaxMessageSize {
		free = free[:MaxMessageSize]
	}
	n, oobn, flags, err := c.read(free, c.oob)
	if n < 0 || n > len(free) || oobn < 0 || oobn > len(c.oob) {
		return fmt.Errorf("wayland wire: socket read returned impossible sizes %d/%d", n, oobn)
	}
	if oobn > 0 {
		if perr := c.takeFDs(c.oob[:oobn]); perr != nil {
			return perr
		}
	}
	if flags&syscall.MSG_CTRUNC != 0 {
		return fmt.Errorf("wayland wire: file descriptors from the compositor were truncated")
	}
	c.in = c.in[:len(c.in)+n]
	if n > 0 {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		return io.EOF
	}
	return fmt.Errorf("read from Wayland compositor: %w", err)
}

func (c *Conn) takeFDs(oob []byte) error {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return fmt.Errorf("wayland wire: bad control message: %w", err)
	}
	for _, m := range msgs {
		if m.Header.Level != syscall.SOL_SOCKET || m.Header.Type != syscall.SCM_RIGHTS {
			continue
		}
		fds, err := syscall.ParseUnixRights(&m)
		if err != nil {
			return fmt.Errorf("wayland wire: bad SCM_RIGHTS message: %w", err)
		}
		if len(c.fds)+len(fds) > MaxFDs {
			closeFDs(fds)
			return fmt.Errorf("wayland wire: more than %d file descriptors received without messages", MaxFDs)
		}
		c.fds = append(c.fds, fds...)
	}
	return nil
}

// WriteMessage sends one encoded message with its descriptors.
func (c *Conn) WriteMessage(b []byte, fds []int) error {
	var oob []byte
	if len(fds) > 0 {
		oob = syscall.UnixRights(fds...)
	}
	n, oobn, err := c.uc.WriteMsgUnix(b, oob, nil)
	if err != nil {
		return fmt.Errorf("write to Wayland compositor: %w", err)
	}
	if n != len(b) || oobn != len(oob) {
		return fmt.Errorf("write to Wayland compositor: short write %d of %d bytes", n, len(b))
	}
	return nil
}

func closeFDs(fds []int) {
	for _, fd := range fds {
		_ = syscall.Close(fd)
	}
}
