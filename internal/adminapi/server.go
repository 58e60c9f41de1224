package adminapi

import (
	"context"
	"errors"
	"io"
	"net"
)

// HandlerFunc answers one request on w: with Answer for a plain method, or
// with WriteEvent until ctx ends for a stream method.
type HandlerFunc func(ctx context.Context, req Request, w io.Writer) error

// ServeConn serves the one request of a connection, as qubesd does: it reads
// the request up to the client's half-close (at most MaxRequest bytes) and
// hands it to h. A request that is too long or badly framed gets no answer at
// all, the connection is just closed; the parse error is returned for the log.
func ServeConn(ctx context.Context, conn net.Conn, h HandlerFunc) error {
	defer conn.Close()
	req, err := ReadRequest(conn, MaxRequest)
	if err != nil {
		return err
	}
	return h(ctx, req, conn)
}

// Answer writes the answer for a method's result: body on success, an
// exception for an *Error, and nothing for any other error, which is what
// qubesd does with an unhandled exception (the client sees ErrNoAnswer).
func Answer(w io.Writer, body []byte, err error) error {
	if err == nil {
		return WriteOK(w, body)
	}
	var e *Error
	if errors.As(err, &e) {
		return WriteException(w, e.Class, e.Message)
	}
	return err
}
