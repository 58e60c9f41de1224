package guiproto

import (
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
)

// rw is a scripted peer: reads come from in, writes land in out.
type rw struct {
	in  io.Reader
	out bytes.Buffer
}

func (p *rw) Read(b []byte) (int, error)  { return p.in.Read(b) }
func (p *rw) Write(b []byte) (int, error) { return p.out.Write(b) }

func TestNewXConf(t *testing.T) {
	for _, c := range []struct {
		w, h, d uint32
		want    XConf
	}{
		{1920, 1080, 24, XConf{1920, 1080, 24, 1920*1080*4/1024 + 1}},
		{1366, 768, 24, XConf{1368, 768, 24, 1368*768*4/1024 + 1}},
		{1, 1, 24, XConf{8, 1, 24, 1}},
		{0, 0, 24, XConf{0, 0, 24, 1}},
	} {
		if got := NewXConf(c.w, c.h, c.d); got != c.want {
			t.Errorf("NewXConf(%d, %d) = %+v, want %+v", c.w, c.h, got, c.want)
		}
	}
}

// Both sides over a real full-duplex connection.
func TestHandshakeBothSides(t *testing.T) {
	a, d := net.Pipe()
	defer a.Close()
	defer d.Close()
	xc := NewXConf(1366, 768, 24)
	type res struct {
		v   Version
		err error
	}
	dres := make(chan res, 1)
	go func() {
		v, err := DaemonHandshake(d, ProtocolVersion, xc)
		dres <- res{v, err}
	}()
	v, gotXC, err := AgentHandshake(a, 0x00010007)
	if err != nil {
		t.Fatal(err)
	}
	r := <-dres
	if r.err != nil {
		t.Fatal(r.err)
	}
	if v != 0x00010007 || r.v != 0x00010007 {
		t.Errorf("negotiated agent %s, daemon %s, want 1.7", v, r.v)
	}
	if gotXC != xc {
		t.Errorf("xconf %+v, want %+v", gotXC, xc)
	}
}

func TestDaemonHandshakeWire(t *testing.T) {
	for _, c := range []struct {
		name    string
		agent   string // the agent's 4 bytes
		own     Version
		wantOut string // version echo + xconf
		wantV   Version
		wantErr string
	}{
		{name: "same version", agent: "08000100", own: 0x00010008, wantV: 0x00010008,
			wantOut: "08000100 80070000 38040000 18000000 a51f0000"},
		{name: "older agent minor wins", agent: "05000100", own: 0x00010008, wantV: 0x00010005,
			wantOut: "05000100 80070000 38040000 18000000 a51f0000"},
		{name: "newer agent minor capped", agent: "09000100", own: 0x00010008, wantV: 0x00010008,
			wantOut: "08000100 80070000 38040000 18000000 a51f0000"},
		{name: "agent below 1.4", agent: "03000100", own: 0x00010008, wantErr: "older than the minimum 1.4"},
		{name: "agent major lower", agent: "08000000", own: 0x00010008, wantErr: "outdated protocol 0.8"},
		{name: "agent major higher", agent: "00000200", own: 0x00010008, wantErr: "does not support"},
		{name: "short read", agent: "0800", own: 0x00010008, wantErr: "reading the agent's protocol version"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := &rw{in: bytes.NewReader(hx(t, c.agent))}
			v, err := DaemonHandshake(p, c.own, NewXConf(1920, 1080, 24))
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, c.wantErr)
				}
				if p.out.Len() != 0 {
					t.Errorf("wrote %x after refusing", p.out.Bytes())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if v != c.wantV {
				t.Errorf("version %s, want %s", v, c.wantV)
			}
			if !bytes.Equal(p.out.Bytes(), hx(t, c.wantOut)) {
				t.Errorf("wrote %x, want %x", p.out.Bytes(), hx(t, c.wantOut))
			}
		})
	}
}

func TestAgentHandshakeWire(t *testing.T) {
	const xconf = "80070000 38040000 18000000 a51f0000" // 1920×1080×24, mem 1920*1080*4/1024+1 = 8101
	for _, c := range []struct {
		name    string
		daemon  string
		own     Version
		wantV   Version
		wantErr string
	}{
		{name: "echo 1.8", daemon: "08000100" + xconf, own: 0x00010008, wantV: 0x00010008},
		{name: "echo 1.4", daemon: "04000100" + xconf, own: 0x00010008, wantV: 0x00010004},
		{name: "newer than own", daemon: "08000100" + xconf, own: 0x00010007, wantErr: "newer than this agent's 1.7"},
		{name: "major differs", daemon: "08000000" + xconf, own: 0x00010008, wantErr: "major differs"},
		{name: "minor below 4", daemon: "03000100" + xconf, own: 0x00010008, wantErr: "older than the minimum 1.4"},
		{name: "own below 1.4", daemon: "", own: 0x00010003, wantErr: "older than the minimum 1.4"},
		{name: "no xconf", daemon: "08000100 8007", own: 0x00010008, wantErr: "reading the daemon's xconf"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := &rw{in: bytes.NewReader(hx(t, c.daemon))}
			v, xc, err := AgentHandshake(p, c.own)
			if got := p.out.Bytes(); c.own >= MinVersion && !bytes.Equal(got, le.AppendUint32(nil, uint32(c.own))) {
				t.Errorf("agent sent %x, want its version %s without header", got, c.own)
			}
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if v != c.wantV || xc != (XConf{1920, 1080, 24, 0x1fa5}) {
				t.Errorf("got %s %+v", v, xc)
			}
		})
	}
}
