package wire

import (
	"fmt"
	"strings"
)

// Builder encodes one request. The zero value is unusable; call Start first.
// Encoding errors are sticky and reported by Finish.
type Builder struct {
	buf []byte
	fds []int
	err error
}

// Start begins a message from sender with opcode, discarding earlier content.
func (b *Builder) Start(sender ObjectID, opcode uint16) {
	b.buf = append(b.buf[:0], 0, 0, 0, 0, 0, 0, 0, 0)
	put32(b.buf, uint32(sender))
	put32(b.buf[4:], uint32(opcode))
	b.fds = b.fds[:0]
	b.err = nil
}

// Uint appends a uint argument.
func (b *Builder) Uint(v uint32) {
	b.buf = append(b.buf, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
}

// Int appends an int argument.
func (b *Builder) Int(v int32) { b.Uint(uint32(v)) }

// Fixed appends a fixed argument.
func (b *Builder) Fixed(v Fixed) { b.Uint(uint32(v)) }

// Object appends an object or typed new_id argument.
func (b *Builder) Object(id ObjectID) { b.Uint(uint32(id)) }

// String appends a string argument. The protocol cannot carry NUL bytes in a
// string, so such a string is an error; nullable distinguishes "" from null
// only when the argument allows null, where "" is sent as null.
func (b *Builder) String(s string, nullable bool) {
	if strings.IndexByte(s, 0) >= 0 {
		b.fail(fmt.Errorf("wayland wire: string argument contains a NUL byte"))
		return
	}
	if s == "" && nullable {
		b.Uint(0)
		return
	}
	b.Uint(uint32(len(s) + 1))
	b.buf = append(b.buf, s...)
	b.buf = append(b.buf, make([]byte, pad4(len(s)+1)-len(s))...)
}

// Array appends an array argument.
func (b *Builder) Array(a []byte) {
	b.Uint(uint32(len(a)))
	b.buf = append(b.buf, a...)
	b.buf = append(b.buf, make([]byte, pad4(len(a))-len(a))...)
}

// UntypedNewID appends the (interface, version, id) triple of wl_registry.bind.
func (b *Builder) UntypedNewID(iface string, version uint32, id ObjectID) {
	b.String(iface, false)
	b.Uint(version)
	b.Object(id)
}

// FD queues a descriptor to travel with the message. The caller keeps
// ownership; the descriptor must stay open until the message is sent.
func (b *Builder) FD(fd int) {
	if fd < 0 {
		b.fail(fmt.Errorf("wayland wire: invalid file descriptor %d", fd))
		return
	}
	b.fds = append(b.fds, fd)
}

func (b *Builder) fail(err error) {
	if b.err == nil {
		b.err = err
	}
}

// Finish writes the size into the header and returns the bytes and
// descriptors of the message. They stay valid until the next Start.
func (b *Builder) Finish() ([]byte, []int, error) {
	if b.err != nil {
		return nil, nil, b.err
	}
	if len(b.buf) < HeaderSize {
		return nil, nil, fmt.Errorf("wayland wire: Finish without Start")
	}
	if len(b.buf) > MaxMessageSize {
		return nil, nil, ErrTooLarge
	}
	if len(b.fds) > maxFDsPerMessage {
		return nil, nil, fmt.Errorf("wayland wire: %d descriptors in one message, at most %d", len(b.fds), maxFDsPerMessage)
	}
	put32(b.buf[4:], uint32(len(b.buf))<<16|le32(b.buf[4:])&0xffff)
	return b.buf, b.fds, nil
}
