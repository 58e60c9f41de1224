// Package adminapi speaks the qubesd Admin API: the client the manager, the
// tray and qvm use, and the server-side framing qube-hostd reuses. The wire
// format and every method are described in shared/spec/qubes-admin-api.md;
// the conformance tests replay bytes recorded from the real qubesd.
package adminapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"syscall"
)

// Client calls the Admin API. It is safe for concurrent use: every call
// opens its own connection, as qubesd wants.
type Client struct {
	Transport   Transport
	Source      string // the source token; "dom0" unless calling as a qube
	MaxResponse int    // DefaultMaxResponse when 0
	Workers     int    // concurrent calls in bulk loads; DefaultWorkers when 0
}

// New returns a client for dom0 tools over t.
func New(t Transport) *Client { return &Client{Transport: t, Source: "dom0"} }

// Request builds the request for method[+arg] to dest with this client's source.
func (c *Client) Request(method, arg, dest string, payload []byte) Request {
	return Request{Method: method, Arg: arg, Source: c.Source, DestType: "name", Dest: dest, Payload: payload}
}

// Call sends method[+arg] to dest and returns the body of the answer.
func (c *Client) Call(ctx context.Context, method, arg, dest string, payload []byte) ([]byte, error) {
	return c.Do(ctx, c.Request(method, arg, dest, payload))
}

// Do sends one request and decodes its answer. A request over MaxRequest is
// refused here, since qubesd would drop it silently.
func (c *Client) Do(ctx context.Context, req Request) ([]byte, error) {
	if n := len(req.Bytes()); n > MaxRequest {
		return nil, fmt.Errorf("%s: %w: %d bytes, qubesd accepts at most %d", req.Call(), ErrRequestTooLong, n, MaxRequest)
	}
	rc, err := c.Transport.Open(ctx, req)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	max := c.MaxResponse
	if max <= 0 {
		max = DefaultMaxResponse
	}
	b, err := io.ReadAll(io.LimitReader(rc, int64(max)+1))
	if errors.Is(err, syscall.ECONNRESET) && len(b) == 0 {
		err = nil // qubesd aborted the connection: no answer, like EOF
	}
	if err != nil {
		return nil, fmt.Errorf("read answer to %s: %w", req.Call(), err)
	}
	if len(b) > max {
		return nil, fmt.Errorf("%w to %s: answer larger than %d bytes", ErrMalformed, req.Call(), max)
	}
	body, err := DecodeResponse(req.Call(), b)
	var na *NoAnswerError
	if h, ok := c.Transport.(interface{ noAnswerHint() string }); ok && errors.As(err, &na) {
		na.Hint = h.noAnswerHint()
	}
	return body, err
}

// call is Call for methods whose answer must be empty.
func (c *Client) call0(ctx context.Context, method, arg, dest string, payload []byte) error {
	b, err := c.Call(ctx, method, arg, dest, payload)
	if err == nil && len(b) != 0 {
		err = fmt.Errorf("%w to %s: unexpected body %q", ErrMalformed, method, truncate(b))
	}
	return err
}

func truncate(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}
