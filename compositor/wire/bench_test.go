package wire

import (
	"io"
	"testing"
)

// BenchmarkEncodeDamageCommit encodes what a content update sends:
// wl_surface.damage_buffer and wl_surface.commit.
func BenchmarkEncodeDamageCommit(b *testing.B) {
	var m Builder
	b.ReportAllocs()
	for b.Loop() {
		m.Start(5, 9)
		m.Int(0)
		m.Int(0)
		m.Int(1920)
		m.Int(1080)
		if _, _, err := m.Finish(); err != nil {
			b.Fatal(err)
		}
		m.Start(5, 6)
		if _, _, err := m.Finish(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadAndDecode frames and decodes pointer motion events
// (wl_pointer.motion: time, fixed x, fixed y) from a 4 KiB stream.
func BenchmarkReadAndDecode(b *testing.B) {
	var m Builder
	m.Start(12, 2)
	m.Uint(1)
	m.Fixed(FixedFromInt(10))
	m.Fixed(FixedFromInt(20))
	ev, _, _ := m.Finish()
	var stream []byte
	for len(stream)+len(ev) <= 4096 {
		stream = append(stream, ev...)
	}
	n := len(stream) / len(ev)
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		rest := stream
		c := newConn(func(p, oob []byte) (int, int, int, error) {
			if len(rest) == 0 {
				return 0, 0, 0, io.EOF
			}
			k := copy(p, rest)
			rest = rest[k:]
			return k, 0, 0, nil
		})
		for range n {
			msg, err := c.ReadMessage()
			if err != nil {
				b.Fatal(err)
			}
			d := NewDecoder(msg.Body, nil)
			d.Uint()
			d.Fixed()
			d.Fixed()
			if err := d.Finish(); err != nil {
				b.Fatal(err)
			}
		}
	}
}
