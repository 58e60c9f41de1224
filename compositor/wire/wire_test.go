package wire

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
)

func TestEncodeEveryType(t *testing.T) {
	var b Builder
	b.Start(7, 3)
	b.Int(-2)
	b.Uint(0xdeadbeef)
	b.Fixed(FixedFromFloat(1.5))
	b.String("abc", false)
	b.String("", true)
	b.Object(9)
	b.UntypedNewID("wl_seat", 7, 10)
	b.Array([]byte{1, 2, 3, 4, 5})
	msg, fds, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if len(fds) != 0 {
		t.Fatalf("fds = %v", fds)
	}
	want := []byte{
		7, 0, 0, 0, 3, 0, 68, 0, // sender 7, opcode 3, size 68
		0xfe, 0xff, 0xff, 0xff,
		0xef, 0xbe, 0xad, 0xde,
		0x80, 1, 0, 0,
		4, 0, 0, 0, 'a', 'b', 'c', 0,
		0, 0, 0, 0,
		9, 0, 0, 0,
		8, 0, 0, 0, 'w', 'l', '_', 's', 'e', 'a', 't', 0, 7, 0, 0, 0, 10, 0, 0, 0,
		5, 0, 0, 0, 1, 2, 3, 4, 5, 0, 0, 0,
	}
	if !bytes.Equal(msg, want) {
		t.Fatalf("encoded\n%v\nwant\n%v", msg, want)
	}

	h, err := ParseHeader(msg)
	if err != nil || h != (Header{Sender: 7, Opcode: 3, Size: 68}) {
		t.Fatalf("header %+v, %v", h, err)
	}
	d := NewDecoder(msg[HeaderSize:], nil)
	if v := d.Int(); v != -2 {
		t.Errorf("int %d", v)
	}
	if v := d.Uint(); v != 0xdeadbeef {
		t.Errorf("uint %x", v)
	}
	if v := d.Fixed(); v.Float() != 1.5 || v.Int() != 1 {
		t.Errorf("fixed %v", v)
	}
	if v := d.String(false); v != "abc" {
		t.Errorf("string %q", v)
	}
	if v := d.String(true); v != "" {
		t.Errorf("null string %q", v)
	}
	if v := d.Object(false); v != 9 {
		t.Errorf("object %d", v)
	}
	if i, v, id := d.UntypedNewID(); i != "wl_seat" || v != 7 || id != 10 {
		t.Errorf("new_id %q %d %d", i, v, id)
	}
	if v := d.Array(); !bytes.Equal(v, []byte{1, 2, 3, 4, 5}) {
		t.Errorf("array %v", v)
	}
	if err := d.Finish(); err != nil {
		t.Fatal(err)
	}
}

func TestEncodeErrors(t *testing.T) {
	var b Builder
	b.Start(1, 0)
	b.String("a\x00b", false)
	if _, _, err := b.Finish(); err == nil {
		t.Error("NUL in string accepted")
	}
	b.Start(1, 0)
	b.Array(make([]byte, MaxMessageSize))
	if _, _, err := b.Finish(); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized message: %v", err)
	}
	b.Start(1, 0)
	b.FD(-1)
	if _, _, err := b.Finish(); err == nil {
		t.Error("negative fd accepted")
	}
}

func TestDecodeRejects(t *testing.T) {
	cases := map[string]struct {
		body []byte
		dec  func(*Decoder)
	}{
		"short uint":        {[]byte{1, 2}, func(d *Decoder) { d.Uint() }},
		"null object":       {[]byte{0, 0, 0, 0}, func(d *Decoder) { d.Object(false) }},
		"null string":       {[]byte{0, 0, 0, 0}, func(d *Decoder) { d.String(false) }},
		"unterminated":      {[]byte{4, 0, 0, 0, 'a', 'b', 'c', 'd'}, func(d *Decoder) { d.String(false) }},
		"inner NUL":         {[]byte{4, 0, 0, 0, 'a', 0, 'c', 0}, func(d *Decoder) { d.String(false) }},
		"bad UTF-8":         {[]byte{2, 0, 0, 0, 0xff, 0, 0, 0}, func(d *Decoder) { d.String(false) }},
		"array past end":    {[]byte{9, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8}, func(d *Decoder) { d.Array() }},
		"huge array":        {[]byte{0xff, 0xff, 0xff, 0xff}, func(d *Decoder) { d.Array() }},
		"padding past end":  {[]byte{5, 0, 0, 0, 1, 2, 3, 4, 5}, func(d *Decoder) { d.Array() }},
		"missing fd":        {nil, func(d *Decoder) { d.FD() }},
		"trailing bytes":    {[]byte{1, 0, 0, 0, 2, 0, 0, 0}, func(d *Decoder) { d.Uint() }},
		"string past end":   {[]byte{200, 0, 0, 0, 'a', 0, 0, 0}, func(d *Decoder) { d.String(true) }},
		"new_id null":       {[]byte{0, 0, 0, 0}, func(d *Decoder) { d.NewID() }},
		"error stays first": {[]byte{1}, func(d *Decoder) { d.Uint(); d.Array(); d.String(false) }},
	}
	for name, c := range cases {
		d := NewDecoder(c.body, nil)
		c.dec(d)
		if d.Finish() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestParseHeaderRejects(t *testing.T) {
	for _, size := range []uint32{0, 4, 10, 4100, 0xfffc} {
		b := make([]byte, 8)
		put32(b, 1)
		put32(b[4:], size<<16)
		if _, err := ParseHeader(b); err == nil {
			t.Errorf("size %d accepted", size)
		}
	}
}

// socketPair returns a Conn and the raw peer socket it talks to.
func socketPair(t *testing.T) (*Conn, *net.UnixConn) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	conns := make([]*net.UnixConn, 2)
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "socketpair")
		c, err := net.FileConn(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		conns[i] = c.(*net.UnixConn)
	}
	c := NewConn(conns[0])
	t.Cleanup(func() { c.Close(); conns[1].Close() })
	return c, conns[1]
}

func TestConnPassesDescriptors(t *testing.T) {
	c, peer := socketPair(t)
	peerConn := NewConn(peer)

	f, err := os.CreateTemp(t.TempDir(), "fd")
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("keymap")
	var b Builder
	b.Start(3, 0)
	b.Uint(1)
	b.FD(int(f.Fd()))
	b.Uint(6)
	msg, fds, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	// Two messages in one write, the second carrying the descriptor.
	var b2 Builder
	b2.Start(2, 1)
	first, _, _ := b2.Finish()
	if err := peerConn.WriteMessage(append(append([]byte(nil), first...), msg...), fds); err != nil {
		t.Fatal(err)
	}
	f.Close()

	var q FDQueue
	defer q.Close()
	m, err := c.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	if m.Sender != 2 || m.Opcode != 1 || len(m.Body) != 0 {
		t.Fatalf("first message %+v", m)
	}
	q.Push(m.FDs...)
	m, err = c.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	q.Push(m.FDs...)
	d := NewDecoder(m.Body, &q)
	format, fd, size := d.Uint(), d.FD(), d.Uint()
	if err := d.Finish(); err != nil || format != 1 || size != 6 {
		t.Fatalf("decode %d %d %d: %v", format, fd, size, err)
	}
	got := os.NewFile(uintptr(fd), "received")
	defer got.Close()
	buf := make([]byte, 6)
	if _, err := got.ReadAt(buf, 0); err != nil || string(buf) != "keymap" {
		t.Fatalf("received descriptor reads %q, %v", buf, err)
	}

	peer.Close()
	if _, err := c.ReadMessage(); !errors.Is(err, io.EOF) {
		t.Fatalf("after close: %v", err)
	}
}

func TestConnRejectsOversizedHeader(t *testing.T) {
	c, peer := socketPair(t)
	b := make([]byte, 8)
	put32(b, 1)
	put32(b[4:], 0xfff0<<16)
	peer.Write(b)
	if _, err := c.ReadMessage(); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v", err)
	}
}
