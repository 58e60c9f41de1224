package guiproto

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// HeaderSize is the size of struct msg_hdr.
const HeaderSize = 12

// Header is the 12-byte header in front of every message after the
// handshake. Read from an agent, Window is only a key for the guid's window
// table and Len has already been checked against the type.
type Header struct {
	Type   Type
	Window uint32
	Len    uint32
}

var le = binary.LittleEndian

func (h Header) append(b []byte) []byte {
	b = le.AppendUint32(b, uint32(h.Type))
	b = le.AppendUint32(b, h.Window)
	return le.AppendUint32(b, h.Len)
}

// readHeader returns io.EOF only when the stream ends between messages.
func readHeader(r io.Reader) (Header, error) {
	var b [HeaderSize]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		if err == io.EOF {
			return Header{}, io.EOF
		}
		return Header{}, fmt.Errorf("reading message header: %w", err)
	}
	return Header{Type: Type(le.Uint32(b[0:])), Window: le.Uint32(b[4:]), Len: le.Uint32(b[8:])}, nil
}

// readBody reads exactly n bytes of a message body into a new slice.
func readBody(r io.Reader, t Type, n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, bodyErr(t, err)
	}
	return b, nil
}

func bodyErr(t Type, err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("reading %s body: %w", t, err)
}
