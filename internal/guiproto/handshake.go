package guiproto

import (
	"fmt"
	"io"
)

// Version is a protocol version, major<<16 | minor.
type Version uint32

// Major returns the major version.
func (v Version) Major() uint16 { return uint16(v >> 16) }

// Minor returns the minor version.
func (v Version) Minor() uint16 { return uint16(v) }

func (v Version) String() string { return fmt.Sprintf("%d.%d", v.Major(), v.Minor()) }

// XConf is struct msg_xconf, the daemon's screen description sent after the
// version.
type XConf struct {
	Width  uint32 // root width, a multiple of 8
	Height uint32
	Depth  uint32
	Mem    uint32 // KiB of framebuffer: Width*Height*4/1024 + 1
}

// NewXConf describes a root window of w×h pixels: w is rounded up to a
// multiple of 8 and Mem derived as the reference daemon does.
func NewXConf(w, h, depth uint32) XConf {
	w64 := (uint64(w) + 7) &^ 7
	mem := w64*uint64(h)*4/1024 + 1
	return XConf{Width: uint32(min(w64, 0xffffffff&^7)), Height: h, Depth: depth, Mem: uint32(min(mem, 0xffffffff))}
}

const xconfSize = 16

func handshakeErr(format string, args ...any) error {
	return newError(Fatal, 0, format, args...)
}

// DaemonHandshake runs the daemon's side: it reads the agent's version,
// negotiates the same major and the smaller minor, echoes the result and
// sends xc. Agents older than MinVersion or of another major are refused.
func DaemonHandshake(rw io.ReadWriter, own Version, xc XConf) (Version, error) {
	var b [4]byte
	if _, err := io.ReadFull(rw, b[:]); err != nil {
		return 0, fmt.Errorf("reading the agent's protocol version: %w", err)
	}
	agent := Version(le.Uint32(b[:]))
	switch {
	case agent.Major() < own.Major():
		return 0, handshakeErr("the GUI agent implements outdated protocol %s; this daemon speaks %s: update the agent in the qube", agent, own)
	case agent.Major() > own.Major():
		return 0, handshakeErr("the GUI agent speaks protocol %s, which this daemon (%s) does not support: update the daemon", agent, own)
	}
	v := Version(uint32(own.Major())<<16 | uint32(min(agent.Minor(), own.Minor())))
	if v < MinVersion {
		return 0, handshakeErr("negotiated protocol %s (agent %s, daemon %s) is older than the minimum %s: update the agent", v, agent, own, MinVersion)
	}
	out := make([]byte, 0, 4+xconfSize)
	out = le.AppendUint32(out, uint32(v))
	for _, f := range [...]uint32{xc.Width, xc.Height, xc.Depth, xc.Mem} {
		out = le.AppendUint32(out, f)
	}
	if _, err := rw.Write(out); err != nil {
		return 0, fmt.Errorf("sending the negotiated version and xconf: %w", err)
	}
	return v, nil
}

// AgentHandshake runs the agent's side: it sends its version and checks the
// version the daemon echoes (not newer than own, same major, minor ≥ 4)
// before reading the daemon's XConf.
func AgentHandshake(rw io.ReadWriter, own Version) (Version, XConf, error) {
	if own < MinVersion {
		// The daemon would not echo a version below 1.4 and the read would hang.
		return 0, XConf{}, fmt.Errorf("agent protocol %s is older than the minimum %s", own, MinVersion)
	}
	if _, err := rw.Write(le.AppendUint32(nil, uint32(own))); err != nil {
		return 0, XConf{}, fmt.Errorf("sending the agent's protocol version: %w", err)
	}
	var b [4 + xconfSize]byte
	if _, err := io.ReadFull(rw, b[:4]); err != nil {
		return 0, XConf{}, fmt.Errorf("reading the daemon's protocol version: %w", err)
	}
	v := Version(le.Uint32(b[:]))
	switch {
	case v > own:
		return 0, XConf{}, handshakeErr("the GUI daemon chose protocol %s, newer than this agent's %s", v, own)
	case v.Major() != own.Major():
		return 0, XConf{}, handshakeErr("the GUI daemon chose protocol %s, whose major differs from this agent's %s", v, own)
	case v.Minor() < MinVersion.Minor():
		return 0, XConf{}, handshakeErr("the GUI daemon chose protocol %s, older than the minimum %s", v, MinVersion)
	}
	if _, err := io.ReadFull(rw, b[4:]); err != nil {
		return 0, XConf{}, fmt.Errorf("reading the daemon's xconf: %w", err)
	}
	return v, XConf{Width: le.Uint32(b[4:]), Height: le.Uint32(b[8:]), Depth: le.Uint32(b[12:]), Mem: le.Uint32(b[16:])}, nil
}
