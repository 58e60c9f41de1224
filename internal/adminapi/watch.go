package adminapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/qube-desktop/qube-desktop/internal/qube"
)

// Stream is one open admin.Events or admin.vm.Stats connection.
type Stream struct {
	rc io.ReadCloser
	r  *EventReader
}

// OpenEvents opens admin.Events to dest: dom0 for every event, a qube name
// for that qube's own events.
func (c *Client) OpenEvents(ctx context.Context, dest string) (*Stream, error) {
	return c.OpenStream(ctx, c.Request("admin.Events", "", dest, nil))
}

// OpenStats opens admin.vm.Stats to dest (dom0 for every running qube).
func (c *Client) OpenStats(ctx context.Context, dest string) (*Stream, error) {
	return c.OpenStream(ctx, c.Request("admin.vm.Stats", "", dest, nil))
}

// OpenStream opens a streaming request.
func (c *Client) OpenStream(ctx context.Context, req Request) (*Stream, error) {
	rc, err := c.Transport.Open(ctx, req)
	if err != nil {
		return nil, err
	}
	return &Stream{rc: rc, r: NewEventReader(rc)}, nil
}

// Next returns the next event; io.EOF when the server ended the stream.
func (s *Stream) Next() (Event, error) { return s.r.Next() }

// Close ends the stream.
func (s *Stream) Close() error { return s.rc.Close() }

// WatchOptions configure Watch.
type WatchOptions struct {
	Method string // "admin.Events" (default) or "admin.vm.Stats"
	Dest   string // dom0 (default) or one qube
	// Resync, if set, gets a fresh admin.vm.List each time the stream is
	// (re)established, before any later event: caches built from events
	// must be rebuilt from it, since events were missed while disconnected.
	Resync func([]qube.Qube)
	// Delay between reconnects; qubesadmin waits 1 s.
	ReconnectDelay time.Duration
	// OnError, if set, hears why a connection ended before each reconnect.
	OnError func(error)
}

// Watch follows an event stream until ctx ends, reconnecting whenever the
// connection ends (qubesd restarts close it). Every event, including each
// connection-established, goes to handle, in order, on Watch's goroutine.
// It returns ctx's error.
func (c *Client) Watch(ctx context.Context, o WatchOptions, handle func(Event)) error {
	if o.Method == "" {
		o.Method = "admin.Events"
	}
	if o.Dest == "" {
		o.Dest = AdminVM
	}
	if o.ReconnectDelay <= 0 {
		o.ReconnectDelay = time.Second
	}
	for {
		err := c.watchOnce(ctx, o, handle)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if o.OnError != nil {
			o.OnError(err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(o.ReconnectDelay):
		}
	}
}

// ErrStreamEnded is what Watch hands OnError when the server closed the
// stream (qubesd restarted).
var ErrStreamEnded = errors.New("qubesd ended the event stream")

func (c *Client) watchOnce(ctx context.Context, o WatchOptions, handle func(Event)) error {
	s, err := c.OpenStream(ctx, c.Request(o.Method, "", o.Dest, nil))
	if err != nil {
		return err
	}
	defer s.Close()
	for {
		ev, err := s.Next()
		if err == io.EOF {
			return ErrStreamEnded
		}
		if err != nil {
			return fmt.Errorf("%s: %w", o.Method, err)
		}
		if ev.Name == EventConnectionEstablished && ev.Subject == "" && o.Resync != nil {
			qs, err := c.ListQubes(ctx)
			if err != nil {
				return fmt.Errorf("resync after %s: %w", ev.Name, err)
			}
			o.Resync(qs)
		}
		handle(ev)
	}
}
