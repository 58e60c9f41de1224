// Package wire is the Wayland wire format: message framing, argument
// encoding and decoding, and file descriptors passed with SCM_RIGHTS.
//
// Everything read from the compositor is treated as hostile input: sizes are
// checked against MaxMessageSize, the descriptor queue is bounded and no
// malformed message makes the decoder panic.
package wire

import (
	"errors"
	"fmt"
	"math"
)

// ObjectID names a protocol object; 0 is the null object.
type ObjectID uint32

// Fixed is the protocol's signed 24.8 fixed-point number.
type Fixed int32

// FixedFromFloat rounds f to the nearest Fixed.
func FixedFromFloat(f float64) Fixed { return Fixed(math.Round(f * 256)) }

// FixedFromInt converts an integer.
func FixedFromInt(i int) Fixed { return Fixed(i * 256) }

// Float returns the value as a float64.
func (f Fixed) Float() float64 { return float64(f) / 256 }

// Int returns the value truncated towards negative infinity.
func (f Fixed) Int() int { return int(f >> 8) }

const (
	// HeaderSize is the size of a message header: object id, then size<<16|opcode.
	HeaderSize = 8
	// MaxMessageSize bounds a whole message, as libwayland does.
	MaxMessageSize = 4096
	// MaxFDs bounds descriptors waiting for the message that uses them.
	MaxFDs = 256
	// maxFDsPerMessage is what one sendmsg of libwayland carries at most.
	maxFDsPerMessage = 28
)

// Errors a caller may want to tell apart.
var (
	ErrShort    = errors.New("wayland wire: message body too short for its arguments")
	ErrNoFD     = errors.New("wayland wire: message expects a file descriptor the compositor did not send")
	ErrTooLarge = errors.New("wayland wire: message larger than 4096 bytes")
)

// Header is the fixed start of every message.
type Header struct {
	Sender ObjectID
	Opcode uint16
	Size   uint16 // header included
}

// ParseHeader decodes and checks a header from the first 8 bytes of b.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, ErrShort
	}
	w := le32(b[4:])
	h := Header{Sender: ObjectID(le32(b)), Opcode: uint16(w), Size: uint16(w >> 16)}
	switch {
	case h.Size < HeaderSize:
		return h, fmt.Errorf("wayland wire: message size %d is smaller than its header", h.Size)
	case h.Size%4 != 0:
		return h, fmt.Errorf("wayland wire: message size %d is not a multiple of 4", h.Size)
	case h.Size > MaxMessageSize:
		return h, ErrTooLarge
	}
	return h, nil
}

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

func put32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

// pad4 rounds n up to a multiple of 4.
func pad4(n int) int { return (n + 3) &^ 3 }
