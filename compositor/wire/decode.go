package wire

import (
	"bytes"
	"fmt"
	"unicode/utf8"
)

// FDQueue holds descriptors received from the compositor until a message
// claims them, in the order they arrived. It owns the descriptors it holds.
type FDQueue struct{ fds []int }

// Push adds received descriptors; it fails, closing them, when the queue
// would exceed MaxFDs.
func (q *FDQueue) Push(fds ...int) error {
	if len(q.fds)+len(fds) > MaxFDs {
		closeFDs(fds)
		return fmt.Errorf("wayland wire: more than %d file descriptors received without messages using them", MaxFDs)
	}
	q.fds = append(q.fds, fds...)
	return nil
}

// Pop hands the oldest descriptor to the caller.
func (q *FDQueue) Pop() (int, bool) {
	if len(q.fds) == 0 {
		return -1, false
	}
	fd := q.fds[0]
	q.fds = q.fds[1:]
	return fd, true
}

// Close closes every waiting descriptor.
func (q *FDQueue) Close() {
	closeFDs(q.fds)
	q.fds = nil
}

// Decoder reads the arguments of one message body in order. Errors are
// sticky: after the first, every getter returns a zero value and Err reports
// the first error.
type Decoder struct {
	body []byte
	fds  *FDQueue
	err  error
}

// NewDecoder decodes body, taking descriptors from fds (which may be nil
// when the message carries none).
func NewDecoder(body []byte, fds *FDQueue) *Decoder { return &Decoder{body: body, fds: fds} }

// Err returns the first decoding error.
func (d *Decoder) Err() error { return d.err }

// Finish returns the first error, or an error if bytes are left over.
func (d *Decoder) Finish() error {
	if d.err == nil && len(d.body) != 0 {
		d.err = fmt.Errorf("wayland wire: %d unexpected bytes after the last argument", len(d.body))
	}
	return d.err
}

func (d *Decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

// Uint reads a uint argument.
func (d *Decoder) Uint() uint32 {
	if d.err != nil {
		return 0
	}
	if len(d.body) < 4 {
		d.fail(ErrShort)
		return 0
	}
	v := le32(d.body)
	d.body = d.body[4:]
	return v
}

// Int reads an int argument.
func (d *Decoder) Int() int32 { return int32(d.Uint()) }

// Fixed reads a fixed argument.
func (d *Decoder) Fixed() Fixed { return Fixed(d.Uint()) }

// Object reads an object id; a null id is an error unless nullable.
func (d *Decoder) Object(nullable bool) ObjectID {
	id := ObjectID(d.Uint())
	if id == 0 && !nullable && d.err == nil {
		d.fail(fmt.Errorf("wayland wire: null object where the protocol forbids it"))
	}
	return id
}

// NewID reads a typed new_id, which is never null.
func (d *Decoder) NewID() ObjectID { return d.Object(false) }

// bytesArg reads a length-prefixed, padded byte run.
func (d *Decoder) bytesArg() ([]byte, bool) {
	n := d.Uint()
	if d.err != nil {
		return nil, false
	}
	if uint64(n) > uint64(len(d.body)) || pad4(int(n)) > len(d.body) {
		d.fail(ErrShort)
		return nil, false
	}
	b := d.body[:n:n]
	d.body = d.body[pad4(int(n)):]
	return b, true
}

// String reads a string argument. Null is an error unless nullable, in which
// case it reads as "". The string must be NUL-terminated, contain no other
// NUL and be valid UTF-8.
func (d *Decoder) String(nullable bool) string {
	b, ok := d.bytesArg()
	if !ok {
		return ""
	}
	if len(b) == 0 {
		if !nullable {
			d.fail(fmt.Errorf("wayland wire: null string where the protocol forbids it"))
		}
		return ""
	}
	if b[len(b)-1] != 0 || bytes.IndexByte(b[:len(b)-1], 0) >= 0 {
		d.fail(fmt.Errorf("wayland wire: string argument is not a single NUL-terminated string"))
		return ""
	}
	if !utf8.Valid(b[:len(b)-1]) {
		d.fail(fmt.Errorf("wayland wire: string argument is not valid UTF-8"))
		return ""
	}
	return string(b[:len(b)-1])
}

// Array reads an array argument; the result is a copy.
func (d *Decoder) Array() []byte {
	b, ok := d.bytesArg()
	if !ok {
		return nil
	}
	return append([]byte(nil), b...)
}

// UntypedNewID reads the (interface, version, id) triple of wl_registry.bind.
func (d *Decoder) UntypedNewID() (iface string, version uint32, id ObjectID) {
	iface = d.String(false)
	version = d.Uint()
	id = d.NewID()
	return iface, version, id
}

// FD takes the next received descriptor; the caller owns it.
func (d *Decoder) FD() int {
	if d.err != nil {
		return -1
	}
	if d.fds == nil {
		d.fail(ErrNoFD)
		return -1
	}
	fd, ok := d.fds.Pop()
	if !ok {
		d.fail(ErrNoFD)
		return -1
	}
	return fd
}
