package guiproto

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
)

// hx decodes hex with spaces and newlines for readability.
func hx(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("bad hex in test: %v", err)
	}
	return b
}

// wire encodes m with its header.
func wire(t testing.TB, window uint32, m Message) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteMessage(&b, window, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// rawMsg builds a message with an arbitrary header length and body.
func rawMsg(typ Type, window, length uint32, body []byte) []byte {
	b := Header{Type: typ, Window: window, Len: length}.append(nil)
	return append(b, body...)
}

func u32s(vs ...uint32) []byte { return appendU32(nil, vs...) }

// validateAny dispatches to the message's Validate, as a guid's type switch would.
func validateAny(u Untrusted, l Limits) (Message, error) {
	switch m := u.(type) {
	case UntrustedCreate:
		return m.Validate(l)
	case UntrustedDestroy:
		return m.Validate(l)
	case UntrustedMap:
		return m.Validate(l)
	case UntrustedUnmap:
		return m.Validate(l)
	case UntrustedConfigure:
		return m.Validate(l)
	case UntrustedMFNDump:
		return m.Validate(l)
	case UntrustedShmImage:
		return m.Validate(l)
	case UntrustedClipboardData:
		return m.Validate(l)
	case UntrustedWMName:
		return m.Validate(l)
	case UntrustedDock:
		return m.Validate(l)
	case UntrustedWindowHints:
		return m.Validate(l)
	case UntrustedWindowFlags:
		return m.Validate(l)
	case UntrustedWMClass:
		return m.Validate(l)
	case UntrustedWindowDump:
		return m.Validate(l)
	case UntrustedCursor:
		return m.Validate(l)
	}
	panic("validateAny: unhandled untrusted type")
}

// readValidated decodes one agent message from b and validates it.
func readValidated(t testing.TB, b []byte, v Version, l Limits) (Message, Header, error) {
	t.Helper()
	u, h, err := ReadUntrusted(bytes.NewReader(b), v)
	if err != nil {
		return nil, h, err
	}
	m, err := validateAny(u, l)
	return m, h, err
}
