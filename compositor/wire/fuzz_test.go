package wire

import (
	"io"
	"testing"
)

// FuzzReadMessages feeds arbitrary compositor bytes, split into reads of
// chunk bytes, through the framing code.
func FuzzReadMessages(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0, 0, 0, 12, 0, 5, 0, 0, 0}, uint8(3))
	f.Add([]byte{1, 0, 0, 0, 0, 0, 8, 0, 2, 0, 0, 0, 1, 0, 16, 0}, uint8(0))
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0xf0, 0xff}, uint8(8))
	f.Fuzz(func(t *testing.T, stream []byte, chunk uint8) {
		c := newConn(func(b, oob []byte) (int, int, int, error) {
			if len(stream) == 0 {
				return 0, 0, 0, io.EOF
			}
			n := int(chunk%64) + 1
			n = min(n, len(stream), len(b))
			copy(b, stream[:n])
			stream = stream[n:]
			return n, 0, 0, nil
		})
		for {
			m, err := c.ReadMessage()
			if err != nil {
				return
			}
			if int(m.Size) != HeaderSize+len(m.Body) || m.Size > MaxMessageSize {
				t.Fatalf("message size %d with body %d", m.Size, len(m.Body))
			}
		}
	})
}

// FuzzDecode decodes a body with an argument signature in the letters of
// libwayland (i u f s o n a h, ? for nullable).
func FuzzDecode(f *testing.F) {
	f.Add("?sun", []byte{0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0})
	f.Add("afo", []byte{2, 0, 0, 0, 1, 2, 0, 0, 0, 1, 0, 0, 3, 0, 0, 0})
	f.Add("sh", []byte{3, 0, 0, 0, 'a', 'b', 0, 0})
	f.Fuzz(func(t *testing.T, sig string, body []byte) {
		var q FDQueue
		d := NewDecoder(body, &q)
		nullable := false
		for _, c := range sig {
			switch c {
			case '?':
				nullable = true
				continue
			case 'i':
				d.Int()
			case 'u':
				d.Uint()
			case 'f':
				d.Fixed()
			case 's':
				d.String(nullable)
			case 'o':
				d.Object(nullable)
			case 'n':
				d.NewID()
			case 'N':
				d.UntypedNewID()
			case 'a':
				d.Array()
			case 'h':
				if fd := d.FD(); fd != -1 {
					t.Fatalf("descriptor %d from an empty queue", fd)
				}
			}
			nullable = false
		}
		_ = d.Finish()
	})
}
