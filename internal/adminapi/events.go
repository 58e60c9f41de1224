package adminapi

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// FrameScanner splits a byte stream into NUL-terminated fields, whatever the
// read boundaries: one read may carry several fields or part of one.
type FrameScanner struct {
	s *bufio.Scanner
}

// NewFrameScanner reads fields of at most max bytes (MaxToken if max <= 0).
func NewFrameScanner(r io.Reader, max int) *FrameScanner {
	if max <= 0 {
		max = MaxToken
	}
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 0, 4096), max+1)
	s.Split(splitNUL)
	return &FrameScanner{s: s}
}

var errTruncated = errors.New("stream ended inside a field")

func splitNUL(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return 0, nil, errTruncated
	}
	return 0, nil, nil
}

// Next returns the next field. At a clean end of stream it returns io.EOF;
// a stream cut inside a field gives io.ErrUnexpectedEOF.
func (f *FrameScanner) Next() ([]byte, error) {
	if f.s.Scan() {
		return f.s.Bytes(), nil
	}
	switch err := f.s.Err(); {
	case err == nil:
		return nil, io.EOF
	case errors.Is(err, errTruncated):
		return nil, io.ErrUnexpectedEOF
	case errors.Is(err, bufio.ErrTooLong):
		return nil, fmt.Errorf("%w: field longer than the limit", ErrMalformed)
	default:
		return nil, err
	}
}

// Event is one message of an admin.Events or admin.vm.Stats stream.
type Event struct {
	Subject string // the qube; empty for app-level events
	Name    string // e.g. "domain-start", "property-set:label"
	Args    []Arg  // in wire order
}

// Arg is one key/value pair of an event; values are Python str() of the
// object: None, True/False, a qube's name.
type Arg struct{ Key, Value string }

// Arg returns the value of a key.
func (e Event) Arg(key string) (string, bool) {
	for _, a := range e.Args {
		if a.Key == key {
			return a.Value, true
		}
	}
	return "", false
}

// Kind returns the event name without its ":detail" part
// ("property-set:label" → "property-set").
func (e Event) Kind() string {
	k, _, _ := strings.Cut(e.Name, ":")
	return k
}

// Names of the events the client itself acts on.
const (
	EventConnectionEstablished = "connection-established"
	EventVMStats               = "vm-stats"
)

// ConnectionEstablished is the first event of every stream; a server sends
// it once its handlers are registered.
var ConnectionEstablished = Event{Name: EventConnectionEstablished}

// EventReader decodes events from a stream.
type EventReader struct {
	f *FrameScanner
}

// NewEventReader reads events from r, split on the NUL framing.
func NewEventReader(r io.Reader) *EventReader {
	return &EventReader{f: NewFrameScanner(r, MaxToken)}
}

// Next returns the next event. io.EOF means the server ended the stream
// between events. An exception in place of an event comes back as *Error.
func (er *EventReader) Next() (Event, error) {
	kind, err := er.f.Next()
	if err != nil {
		return Event{}, err
	}
	switch string(kind) {
	case "1":
	case "2":
		var f [3]string
		for i := range f {
			b, err := er.f.Next()
			if err != nil {
				return Event{}, er.cut(err)
			}
			f[i] = string(b)
		}
		if f[0] == "" {
			return Event{}, fmt.Errorf("%w: exception without a class name", ErrMalformed)
		}
		return Event{}, &Error{Class: f[0], Traceback: f[1], Message: f[2]}
	default:
		return Event{}, fmt.Errorf("%w: event stream message type %q", ErrMalformed, kind)
	}
	subject, err := er.f.Next()
	if err != nil {
		return Event{}, er.cut(err)
	}
	ev := Event{Subject: string(subject)}
	name, err := er.f.Next()
	if err != nil {
		return Event{}, er.cut(err)
	}
	if len(name) == 0 {
		return Event{}, fmt.Errorf("%w: event without a name", ErrMalformed)
	}
	ev.Name = string(name)
	for {
		k, err := er.f.Next()
		if err != nil {
			return Event{}, er.cut(err)
		}
		if len(k) == 0 {
			return ev, nil
		}
		if len(ev.Args) == MaxEventArgs {
			return Event{}, fmt.Errorf("%w: event %s has more than %d arguments", ErrMalformed, ev.Name, MaxEventArgs)
		}
		key := string(k)
		v, err := er.f.Next()
		if err != nil {
			return Event{}, er.cut(err)
		}
		ev.Args = append(ev.Args, Arg{Key: key, Value: string(v)})
	}
}

// cut turns an end of stream inside an event into io.ErrUnexpectedEOF.
func (er *EventReader) cut(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// AppendEvent appends the wire form of ev: 1 NUL subject NUL name NUL
// (key NUL value NUL)* NUL. Fields must not contain NUL.
func AppendEvent(b []byte, ev Event) []byte {
	b = append(b, '1', 0)
	b = append(b, ev.Subject...)
	b = append(b, 0)
	b = append(b, ev.Name...)
	b = append(b, 0)
	for _, a := range ev.Args {
		b = append(b, a.Key...)
		b = append(b, 0)
		b = append(b, a.Value...)
		b = append(b, 0)
	}
	return append(b, 0)
}

// WriteEvent writes one event in a single Write, so goroutines sharing a
// net.Conn never interleave their events.
func WriteEvent(w io.Writer, ev Event) error {
	for _, s := range append([]string{ev.Subject, ev.Name}, argStrings(ev.Args)...) {
		if strings.IndexByte(s, 0) >= 0 {
			return fmt.Errorf("event %s: a field contains NUL", ev.Name)
		}
	}
	for _, a := range ev.Args {
		if a.Key == "" {
			return fmt.Errorf("event %s: empty argument key (it would end the event)", ev.Name)
		}
	}
	_, err := w.Write(AppendEvent(nil, ev))
	return err
}

func argStrings(args []Arg) []string {
	s := make([]string, 0, 2*len(args))
	for _, a := range args {
		s = append(s, a.Key, a.Value)
	}
	return s
}
