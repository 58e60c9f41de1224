package adminapitest

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Server is a Unix-socket qubesd stand-in. Each connection's request is read
// up to the client's half-close (a client that never half-closes makes the
// test fail after a timeout) and answered by the server's function.
type Server struct {
	Path string
	tb   testing.TB
	ln   net.Listener
	wg   sync.WaitGroup

	mu       sync.Mutex
	requests [][]byte
	answer   func(req []byte, w net.Conn)
}

// NewServer serves answer on a fresh socket until the test ends.
func NewServer(tb testing.TB, answer func(req []byte, w net.Conn)) *Server {
	tb.Helper()
	s := &Server{Path: filepath.Join(tb.TempDir(), "qubesd.sock"), tb: tb, answer: answer}
	ln, err := net.Listen("unix", s.Path)
	if err != nil {
		tb.Fatal(err)
	}
	s.ln = ln
	s.wg.Add(1)
	go s.serve()
	tb.Cleanup(s.Close)
	return s
}

// Close stops the server and waits for its connections.
func (s *Server) Close() {
	s.ln.Close()
	s.wg.Wait()
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			req, err := io.ReadAll(c)
			if err != nil {
				s.tb.Errorf("server: request not half-closed: %v (got %q)", err, req)
				return
			}
			c.SetReadDeadline(time.Time{})
			s.mu.Lock()
			s.requests = append(s.requests, req)
			s.mu.Unlock()
			s.answer(req, c)
		}()
	}
}

// Requests returns the requests received so far, in arrival order.
func (s *Server) Requests() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.requests...)
}

// Replay answers each request with the first not yet used recording whose
// request bytes are identical, writing event-stream recordings chunk by
// chunk. A request that matches no recording gets no answer and fails the
// test. Unused reports which recordings were never asked for.
type Replay struct {
	*Server
	mu   sync.Mutex
	recs []*Recording
	used []bool
}

// NewReplay serves the given recordings.
func NewReplay(tb testing.TB, recs ...*Recording) *Replay {
	r := &Replay{recs: recs, used: make([]bool, len(recs))}
	r.Server = NewServer(tb, r.answer)
	return r
}

func (r *Replay) answer(req []byte, c net.Conn) {
	r.mu.Lock()
	var rec *Recording
	for i, x := range r.recs {
		if !r.used[i] && bytes.Equal(x.Request, req) {
			r.used[i], rec = true, x
			break
		}
	}
	r.mu.Unlock()
	if rec == nil {
		r.tb.Errorf("replay: no recording for request %q", truncate(req))
		return
	}
	if len(rec.Chunks) == 0 {
		c.Write(rec.Response)
		return
	}
	for _, ch := range rec.Chunks {
		if _, err := c.Write(ch); err != nil {
			return
		}
		time.Sleep(time.Millisecond) // keep the recorded boundaries apart
	}
}

// Unused returns the names of recordings nobody asked for.
func (r *Replay) Unused() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var n []string
	for i, u := range r.used {
		if !u {
			n = append(n, r.recs[i].Name)
		}
	}
	return n
}

func truncate(b []byte) string {
	if len(b) > 120 {
		return fmt.Sprintf("%q…", b[:120])
	}
	return fmt.Sprintf("%q", b)
}
