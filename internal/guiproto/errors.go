package guiproto

import (
	"errors"
	"fmt"
)

// Kind says what the daemon does about an invalid message.
type Kind uint8

const (
	// Drop: the message is harmless but unusable; ignore it.
	Drop Kind = iota + 1
	// Verify: the message is suspicious (the reference daemon's VERIFY);
	// drop it and tell the user.
	Verify
	// Fatal: a protocol violation; end the session and destroy the windows.
	Fatal
)

func (k Kind) String() string {
	switch k {
	case Drop:
		return "dropped"
	case Verify:
		return "suspicious"
	case Fatal:
		return "fatal"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Error is a protocol violation by the peer.
type Error struct {
	Kind   Kind
	Type   Type // the offending message type, 0 for the handshake
	Reason string
	Err    error // a sentinel such as ErrClipboardOversized, or nil
}

func (e *Error) Error() string {
	if e.Type == 0 {
		return fmt.Sprintf("gui protocol (%s): %s", e.Kind, e.Reason)
	}
	return fmt.Sprintf("gui protocol %s (%s): %s", e.Type, e.Kind, e.Reason)
}

func (e *Error) Unwrap() error { return e.Err }

// ErrClipboardOversized marks clipboard data longer than the qube's limit.
// The daemon discards it and clears the global clipboard
// (oversized_request=1 in the metadata).
var ErrClipboardOversized = errors.New("clipboard data larger than the qube's limit")

// KindOf returns the kind of a protocol error. Any other non-nil error (an
// I/O error on the channel) is Fatal; nil has kind 0.
func KindOf(err error) Kind {
	if err == nil {
		return 0
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Fatal
}

func newError(k Kind, t Type, format string, args ...any) *Error {
	return &Error{Kind: k, Type: t, Reason: fmt.Sprintf(format, args...)}
}

func fatalf(t Type, format string, args ...any) error {
	return newError(Fatal, t, format, args...)
}

func verifyf(t Type, format string, args ...any) error {
	return newError(Verify, t, format, args...)
}
