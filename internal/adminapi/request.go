package adminapi

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/qube-desktop/qube-desktop/internal/qube"
)

// Request is one Admin API call: method[+arg] source dest-type dest NUL payload.
type Request struct {
	Method   string
	Arg      string
	Source   string // the calling qube; "dom0" for dom0 tools
	DestType string // "name" (the usual) or "keyword" ("keyword adminvm")
	Dest     string
	Payload  []byte
}

// Bytes returns the request exactly as it goes on the wire. The '+' is always
// written, as qubesadmin does.
func (r Request) Bytes() []byte {
	dt := r.DestType
	if dt == "" {
		dt = "name"
	}
	var b bytes.Buffer
	b.Grow(len(r.Method) + len(r.Arg) + len(r.Source) + len(dt) + len(r.Dest) + len(r.Payload) + 5)
	b.WriteString(r.Method)
	b.WriteByte('+')
	b.WriteString(r.Arg)
	b.WriteByte(' ')
	b.WriteString(r.Source)
	b.WriteByte(' ')
	b.WriteString(dt)
	b.WriteByte(' ')
	b.WriteString(r.Dest)
	b.WriteByte(0)
	b.Write(r.Payload)
	return b.Bytes()
}

// Call names the request the way a person would look it up: admin.vm.Start+arg.
func (r Request) Call() string {
	if r.Arg == "" {
		return r.Method
	}
	return r.Method + "+" + r.Arg
}

// ErrRequestTooLong is returned for a request over MaxRequest bytes, which
// qubesd would drop without an answer.
var ErrRequestTooLong = errors.New("request too long")

// ErrFraming is returned by ParseRequest for a request qubesd would refuse as
// a framing error (no NUL, wrong number of tokens, bad dest type).
var ErrFraming = errors.New("framing error")

// ReadRequest reads one request from a connection up to EOF (the client's
// half-close) and parses it. At most max bytes are read (MaxRequest if max <= 0).
func ReadRequest(r io.Reader, max int) (Request, error) {
	if max <= 0 {
		max = MaxRequest
	}
	b, err := io.ReadAll(io.LimitReader(r, int64(max)+1))
	if err != nil {
		return Request{}, fmt.Errorf("read request: %w", err)
	}
	if len(b) > max {
		return Request{}, fmt.Errorf("%w: more than %d bytes", ErrRequestTooLong, max)
	}
	return ParseRequest(b)
}

// ParseRequest parses request bytes the way qubesd does: the header ends at
// the first NUL and has exactly four space-separated tokens; the method is
// split from its argument at the first '+'; "keyword adminvm" becomes
// "name dom0". The payload is everything after the NUL and may be binary.
// Header tokens must be printable ASCII.
func ParseRequest(b []byte) (Request, error) {
	if len(b) > MaxRequest {
		return Request{}, fmt.Errorf("%w: %d bytes, at most %d", ErrRequestTooLong, len(b), MaxRequest)
	}
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		return Request{}, fmt.Errorf("%w: no NUL after the header", ErrFraming)
	}
	header := b[:i]
	for _, c := range header {
		if c < 0x20 || c > 0x7e {
			return Request{}, fmt.Errorf("%w: byte 0x%02x in the header", ErrFraming, c)
		}
	}
	tok := strings.Split(string(header), " ")
	if len(tok) != 4 {
		return Request{}, fmt.Errorf("%w: header has %d tokens, want 4", ErrFraming, len(tok))
	}
	r := Request{Source: tok[1], DestType: tok[2], Dest: tok[3], Payload: b[i+1:]}
	r.Method, r.Arg, _ = strings.Cut(tok[0], "+")
	switch {
	case r.Method == "":
		return Request{}, fmt.Errorf("%w: empty method", ErrFraming)
	case r.Source == "":
		return Request{}, fmt.Errorf("%w: empty source", ErrFraming)
	case r.DestType == "keyword" && r.Dest == "adminvm":
		r.DestType, r.Dest = "name", "dom0"
	case r.DestType != "name":
		return Request{}, fmt.Errorf("%w: destination type %q", ErrFraming, r.DestType)
	case r.Dest == "":
		return Request{}, fmt.Errorf("%w: empty destination", ErrFraming)
	}
	return r, nil
}

// CheckNames applies qubesd's checks on the source and destination of a
// parsed request, for servers: each must be a valid qube name or, for the
// destination, uuid:<uuid>. The error is the exception qubesd would send.
func (r Request) CheckNames() error {
	if err := qube.ValidateName(r.Source); err != nil {
		return &Error{Class: "QubesValueError", Message: err.(*qube.NameError).Reason}
	}
	if u, ok := strings.CutPrefix(r.Dest, "uuid:"); ok {
		if !isUUID(u) {
			return &Error{Class: "QubesVMInvalidUUIDError", Message: fmt.Sprintf("VM UUID is not valid: '%s'", u)}
		}
		return nil
	}
	if err := qube.ValidateName(r.Dest); err != nil {
		return &Error{Class: "QubesValueError", Message: err.(*qube.NameError).Reason}
	}
	return nil
}

// isUUID accepts the canonical 8-4-4-4-12 hex form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}
