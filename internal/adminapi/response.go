package adminapi

import (
	"bytes"
	"fmt"
	"io"
	"strings"
)

// DecodeResponse decodes a complete non-stream response: the body of a
// success (possibly empty), an *Error for an exception, a *NoAnswerError for
// zero bytes. call names the request in errors.
func DecodeResponse(call string, b []byte) ([]byte, error) {
	if len(b) == 0 {
		return nil, &NoAnswerError{Call: call}
	}
	if len(b) < 2 || b[1] != 0 {
		return nil, fmt.Errorf("%w to %s: no type header", ErrMalformed, call)
	}
	switch b[0] {
	case '0':
		return b[2:], nil
	case '2':
		e, err := decodeException(b[2:])
		if err != nil {
			return nil, fmt.Errorf("%w to %s: %v", ErrMalformed, call, err)
		}
		e.Call = call
		return nil, e
	case '1':
		return nil, fmt.Errorf("%w to %s: an event where an answer was expected", ErrMalformed, call)
	}
	return nil, fmt.Errorf("%w to %s: unknown type %q", ErrMalformed, call, b[0])
}

// decodeException parses class NUL traceback NUL message NUL [fields...].
// Current qubesd sends the message formatted and no extra fields; older
// ones may add %-fields after it, which are ignored as qubesadmin does.
func decodeException(b []byte) (*Error, error) {
	f := bytes.SplitN(b, []byte{0}, 4)
	if len(f) < 3 {
		return nil, fmt.Errorf("exception has %d fields, want class, traceback and message", len(f))
	}
	if len(f[0]) == 0 {
		return nil, fmt.Errorf("exception without a class name")
	}
	return &Error{Class: string(f[0]), Traceback: string(f[1]), Message: string(f[2])}, nil
}

// WriteOK writes a success answer: 0 NUL body.
func WriteOK(w io.Writer, body []byte) error {
	_, err := w.Write(append([]byte{'0', 0}, body...))
	return err
}

// WriteException writes an exception answer the way qubesd 4.4 does: class,
// empty traceback, the formatted message, each NUL-terminated.
func WriteException(w io.Writer, class, message string) error {
	// A NUL would end the field early and corrupt the framing; messages
	// often quote what the client sent.
	class = strings.ReplaceAll(class, "\x00", `\x00`)
	message = strings.ReplaceAll(message, "\x00", `\x00`)
	b := make([]byte, 0, len(class)+len(message)+5)
	b = append(b, '2', 0)
	b = append(b, class...)
	b = append(b, 0, 0)
	b = append(b, message...)
	b = append(b, 0)
	_, err := w.Write(b)
	return err
}
