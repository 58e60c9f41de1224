package guiproto

import (
	"bytes"
	"fmt"
	"unicode/utf8"
)

// The one Validate per agent message. Each applies the reference daemon's
// checks (spec §3.2) that need no window table; the guid applies the rest
// (window existence, mapped state, override-redirect policy, work area).

func clamp(v, lim int32) int32 { return min(max(v, -lim), lim) }

// Validate clamps the geometry into the protocol maxima and zeroes the
// parent. A width or height of 2³¹ or more is suspicious (Verify).
func (m UntrustedCreate) Validate(Limits) (Create, error) {
	if int32(m.width) < 0 || int32(m.height) < 0 {
		return Create{}, verifyf(MsgCreate, "size %d×%d: width and height must be below 2^31", m.width, m.height)
	}
	return Create{
		X:                clamp(m.x, MaxWindowWidth),
		Y:                clamp(m.y, MaxWindowHeight),
		Width:            min(m.width, MaxWindowWidth),
		Height:           min(m.height, MaxWindowHeight),
		OverrideRedirect: m.overrideRedirect != 0,
	}, nil
}

// Validate accepts every destroy; the window rule is the guid's.
func (UntrustedDestroy) Validate(Limits) (Destroy, error) { return Destroy{}, nil }

// Validate passes the transient-for window ID on for the guid to look up
// among this qube's windows (an unknown one clears the hint).
func (m UntrustedMap) Validate(Limits) (MapInfo, error) {
	return MapInfo{TransientFor: m.transientFor, OverrideRedirect: m.overrideRedirect != 0}, nil
}

// Validate accepts every unmap.
func (UntrustedUnmap) Validate(Limits) (Unmap, error) { return Unmap{}, nil }

// Validate clamps size and position into the protocol maxima; an empty
// window is suspicious (Verify). The override-redirect field is ignored.
func (m UntrustedConfigure) Validate(Limits) (Configure, error) {
	c := Configure{
		X:      clamp(m.x, MaxWindowWidth),
		Y:      clamp(m.y, MaxWindowHeight),
		Width:  min(m.width, MaxWindowWidth),
		Height: min(m.height, MaxWindowHeight),
	}
	if c.Width == 0 || c.Height == 0 {
		return Configure{}, verifyf(MsgConfigure, "size %d×%d: width and height must be positive", c.Width, c.Height)
	}
	return c, nil
}

// Validate accepts an MFN dump only in dom0 and only if the frames cover the
// image; anything else is Fatal.
func (m UntrustedMFNDump) Validate(l Limits) (MFNDump, error) {
	const t = MsgMFNDump
	switch {
	case !l.Dom0:
		return MFNDump{}, fatalf(t, "only a daemon in dom0 maps raw MFNs")
	case len(m.mfns) > MaxGrantRefs:
		return MFNDump{}, fatalf(t, "num_mfn %d exceeds %d", len(m.mfns), MaxGrantRefs)
	case m.width > MaxWindowWidth || m.height > MaxWindowHeight:
		return MFNDump{}, fatalf(t, "image %d×%d exceeds %d×%d", m.width, m.height, MaxWindowWidth, MaxWindowHeight)
	case m.off >= PageSize:
		return MFNDump{}, fatalf(t, "offset %d is not inside the first page", m.off)
	case uint64(len(m.mfns))*PageSize < uint64(m.width)*uint64(m.height)*4+uint64(m.off):
		return MFNDump{}, fatalf(t, "%d pages cannot hold a %d×%d image at offset %d", len(m.mfns), m.width, m.height, m.off)
	}
	return MFNDump{Width: m.width, Height: m.height, BPP: m.bpp, Offset: m.off, MFNs: m.mfns}, nil
}

// Validate drops a rectangle with a negative coordinate or size.
func (m UntrustedShmImage) Validate(Limits) (ShmImage, error) {
	if m.x < 0 || m.y < 0 || m.width < 0 || m.height < 0 {
		return ShmImage{}, newError(Drop, MsgShmImage, "negative rectangle %d,%d %d×%d", m.x, m.y, m.width, m.height)
	}
	return ShmImage{X: m.x, Y: m.y, Width: uint32(m.width), Height: uint32(m.height)}, nil
}

// Validate drops data above the qube's limit with ErrClipboardOversized;
// the agent's "too big" marker (ClipboardTooBig bytes) always is. The
// protocol bound was already enforced by ReadUntrusted. Whether data was
// requested is the guid's business.
func (m UntrustedClipboardData) Validate(l Limits) (ClipboardData, error) {
	if limit := l.clipboardMax(); len(m.data) > limit {
		return ClipboardData{}, &Error{Kind: Drop, Type: MsgClipboardData, Err: ErrClipboardOversized,
			Reason: fmt.Sprintf("%d bytes exceed the qube's clipboard limit of %d", len(m.data), limit)}
	}
	return ClipboardData{Data: m.data}, nil
}

// Validate sanitizes the title (spec §3.5).
func (m UntrustedWMName) Validate(l Limits) (WMName, error) {
	title := cString(m.data[:MaxTitleLen])
	if !l.AllowUTF8Titles && bytes.HasSuffix(title, []byte("\u2026")) {
		// The agent marks a truncated title with "…"; keep the hint in ASCII.
		title = append(bytes.TrimSuffix(title, []byte("\u2026")), "..."...)
	}
	return WMName{Title: sanitize(title, l.AllowUTF8Titles)}, nil
}

// Validate accepts every dock request; the guid refuses it for mapped windows.
func (UntrustedDock) Validate(Limits) (Dock, error) { return Dock{}, nil }

// Validate keeps only the size hints the reference daemon passes on, each
// only when its values are in range; everything else is dropped silently.
func (m UntrustedWindowHints) Validate(Limits) (WindowHints, error) {
	f := m.f
	flags := f[0]
	var h WindowHints
	if flags&HintPMinSize != 0 && f[1] <= MaxWindowWidth && f[2] <= MaxWindowHeight {
		h.Flags |= HintPMinSize
		h.MinWidth, h.MinHeight = f[1], f[2]
	}
	if flags&HintPMaxSize != 0 && f[3] >= 1 && f[3] <= MaxWindowWidth && f[4] >= 1 && f[4] <= MaxWindowHeight {
		h.Flags |= HintPMaxSize
		h.MaxWidth, h.MaxHeight = f[3], f[4]
	}
	if flags&HintPResizeInc != 0 && f[5] < MaxWindowWidth && f[6] < MaxWindowHeight {
		h.Flags |= HintPResizeInc
		h.WidthInc, h.HeightInc = f[5], f[6]
	}
	if flags&HintPBaseSize != 0 && f[7] <= MaxWindowWidth && f[8] <= MaxWindowHeight {
		h.Flags |= HintPBaseSize
		h.BaseWidth, h.BaseHeight = f[7], f[8]
	}
	h.Flags |= flags & (HintPPosition | HintUSPosition)
	return h, nil
}

// Validate rejects a request that both sets and unsets a flag (Verify) and
// masks the rest: set may carry fullscreen, attention and minimize, unset
// only fullscreen and attention. The fullscreen policy is the guid's.
func (m UntrustedWindowFlags) Validate(Limits) (WindowFlags, error) {
	if m.set&m.unset != 0 {
		return WindowFlags{}, verifyf(MsgWindowFlags, "flags %#x both set and unset", m.set&m.unset)
	}
	return WindowFlags{
		Set:   m.set & (FlagFullscreen | FlagDemandsAttention | FlagMinimize),
		Unset: m.unset & (FlagFullscreen | FlagDemandsAttention),
	}, nil
}

// Validate makes both fields printable ASCII; the guid adds "vmname:".
func (m UntrustedWMClass) Validate(Limits) (WMClass, error) {
	return WMClass{
		Class: sanitize(cString(m.class[:MaxWMClassLen]), false),
		Name:  sanitize(cString(m.name[:MaxWMClassLen]), false),
	}, nil
}

// Validate checks a dump of either type. For grant refs: the body is whole
// refs and they cover the image. For a region buffer: the body is exactly
// offset, stride and reserved, the offset page-aligned, the stride
// Width*4, reserved 0 and the image inside the region. Every violation is
// Fatal, as in the reference daemon.
func (m UntrustedWindowDump) Validate(l Limits) (WindowDump, error) {
	const t = MsgWindowDump
	if m.width > MaxWindowWidth || m.height > MaxWindowHeight {
		return WindowDump{}, fatalf(t, "image %d×%d exceeds %d×%d", m.width, m.height, MaxWindowWidth, MaxWindowHeight)
	}
	d := WindowDump{Kind: DumpType(m.kind), Width: m.width, Height: m.height, BPP: m.bpp}
	imageSize := uint64(m.width) * uint64(m.height) * 4
	switch d.Kind {
	case DumpGrantRefs:
		if len(m.body)%4 != 0 || len(m.body) > 4*MaxGrantRefs {
			return WindowDump{}, fatalf(t, "grant-ref body of %d bytes is not up to %d whole refs", len(m.body), MaxGrantRefs)
		}
		n := len(m.body) / 4
		if uint64(n)*PageSize < imageSize {
			return WindowDump{}, fatalf(t, "%d grant refs cannot hold a %d×%d image", n, m.width, m.height)
		}
		d.Grants = make([]uint32, n)
		for i := range d.Grants {
			d.Grants[i] = le.Uint32(m.body[4*i:])
		}
	case DumpRegion:
		if len(m.body) != regionDumpBody {
			return WindowDump{}, fatalf(t, "region dump length %d, want exactly %d", windowDumpHdrSize+len(m.body), windowDumpHdrSize+regionDumpBody)
		}
		off, stride, reserved := le.Uint64(m.body), le.Uint32(m.body[8:]), le.Uint32(m.body[12:])
		switch {
		case l.RegionSize == 0:
			return WindowDump{}, fatalf(t, "region dump but this qube has no shared region")
		case off%PageSize != 0:
			return WindowDump{}, fatalf(t, "region offset %#x is not a multiple of %d", off, PageSize)
		case stride != m.width*4:
			return WindowDump{}, fatalf(t, "stride %d, want width×4 = %d", stride, m.width*4)
		case reserved != 0:
			return WindowDump{}, fatalf(t, "reserved field is %#x, want 0", reserved)
		case off > l.RegionSize || imageSize > l.RegionSize-off:
			return WindowDump{}, fatalf(t, "image of %d bytes at offset %#x does not fit the %d-byte region", imageSize, off, l.RegionSize)
		}
		d.Region = RegionBuffer{Offset: off, Stride: stride}
	default:
		return WindowDump{}, fatalf(t, "unknown dump type %#x", m.kind)
	}
	return d, nil
}

// Validate accepts the default cursor or an X11 font glyph; other values are
// suspicious (Verify). Odd glyphs, which the daemon does not load, become
// the default cursor.
func (m UntrustedCursor) Validate(Limits) (Cursor, error) {
	c := m.cursor
	if c == CursorDefault {
		return Cursor{ID: CursorDefault}, nil
	}
	if c < CursorX11 || c >= CursorX11Max {
		return Cursor{}, verifyf(MsgCursor, "cursor %#x is neither 0 nor in %#x..%#x", c, CursorX11, CursorX11Max-1)
	}
	if (c-CursorX11)%2 != 0 {
		return Cursor{ID: CursorDefault}, nil
	}
	return Cursor{ID: c}, nil
}

// cString returns b up to its first NUL.
func cString(b []byte) []byte {
	for i, c := range b {
		if c == 0 {
			return b[:i]
		}
	}
	return b
}

// sanitize applies spec §3.5 to a string from the agent: printable ASCII
// stays, and with allowUTF8 so do well-formed UTF-8 sequences; every other
// byte becomes '_'. A bidirectional control becomes one '_': it would let
// a qube reorder the "[qube]" prefix the guid puts before a title.
func sanitize(b []byte, allowUTF8 bool) string {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		c := b[i]
		if c >= 0x20 && c <= 0x7e {
			out = append(out, c)
			i++
			continue
		}
		if allowUTF8 {
			if n := utf8SeqLen(b[i:]); n > 0 {
				if r, _ := utf8.DecodeRune(b[i : i+n]); isBidiControl(r) {
					out = append(out, '_')
				} else {
					out = append(out, b[i:i+n]...)
				}
				i += n
				continue
			}
		}
		out = append(out, '_')
		i++
	}
	return string(out)
}

// isBidiControl reports the explicit bidirectional formatting characters:
// embeddings and overrides, isolates, and the implicit marks.
func isBidiControl(r rune) bool {
	switch {
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return r == 0x200e || r == 0x200f || r == 0x061c
}

// utf8SeqLen returns the length of the well-formed multi-byte UTF-8
// sequence (RFC 3629) at the start of b, or 0. Like the reference
// validator it never accepts lead byte F4, so U+100000..U+10FFFF are
// rejected.
func utf8SeqLen(b []byte) int {
	if len(b) == 0 {
		return 0
	}
	lo, hi := byte(0x80), byte(0xbf) // range of the second byte
	var n int
	switch c := b[0]; {
	case c >= 0xc2 && c <= 0xdf:
		n = 2
	case c == 0xe0:
		n, lo = 3, 0xa0
	case c >= 0xe1 && c <= 0xec, c == 0xee, c == 0xef:
		n = 3
	case c == 0xed:
		n, hi = 3, 0x9f // no surrogates
	case c == 0xf0:
		n, lo = 4, 0x90
	case c >= 0xf1 && c <= 0xf3:
		n = 4
	default:
		return 0
	}
	if len(b) < n || b[1] < lo || b[1] > hi {
		return 0
	}
	for _, c := range b[2:n] {
		if c < 0x80 || c > 0xbf {
			return 0
		}
	}
	return n
}
