package guiproto

import "io"

// Untrusted is a message body decoded from an agent and not yet validated.
// Its contents are reachable only through the concrete type's Validate.
type Untrusted interface {
	Type() Type
	untrusted()
}

// Untrusted message bodies, one per type an agent may send.
type (
	UntrustedCreate struct {
		x, y                            int32
		width, height, overrideRedirect uint32
	}
	UntrustedDestroy   struct{}
	UntrustedMap       struct{ transientFor, overrideRedirect uint32 }
	UntrustedUnmap     struct{}
	UntrustedConfigure struct {
		x, y                            int32
		width, height, overrideRedirect uint32
	}
	UntrustedMFNDump struct {
		width, height, bpp, off uint32
		mfns                    []uint32
	}
	UntrustedShmImage      struct{ x, y, width, height int32 }
	UntrustedClipboardData struct{ data []byte }
	UntrustedWMName        struct{ data [128]byte }
	UntrustedDock          struct{}
	UntrustedWindowHints   struct{ f [9]uint32 }
	UntrustedWindowFlags   struct{ set, unset uint32 }
	UntrustedWMClass       struct{ class, name [64]byte }
	UntrustedWindowDump    struct {
		kind, width, height, bpp uint32
		body                     []byte
	}
	UntrustedCursor struct{ cursor uint32 }
)

func (UntrustedCreate) Type() Type        { return MsgCreate }
func (UntrustedDestroy) Type() Type       { return MsgDestroy }
func (UntrustedMap) Type() Type           { return MsgMap }
func (UntrustedUnmap) Type() Type         { return MsgUnmap }
func (UntrustedConfigure) Type() Type     { return MsgConfigure }
func (UntrustedMFNDump) Type() Type       { return MsgMFNDump }
func (UntrustedShmImage) Type() Type      { return MsgShmImage }
func (UntrustedClipboardData) Type() Type { return MsgClipboardData }
func (UntrustedWMName) Type() Type        { return MsgWMName }
func (UntrustedDock) Type() Type          { return MsgDock }
func (UntrustedWindowHints) Type() Type   { return MsgWindowHints }
func (UntrustedWindowFlags) Type() Type   { return MsgWindowFlags }
func (UntrustedWMClass) Type() Type       { return MsgWMClass }
func (UntrustedWindowDump) Type() Type    { return MsgWindowDump }
func (UntrustedCursor) Type() Type        { return MsgCursor }

func (UntrustedCreate) untrusted()        {}
func (UntrustedDestroy) untrusted()       {}
func (UntrustedMap) untrusted()           {}
func (UntrustedUnmap) untrusted()         {}
func (UntrustedConfigure) untrusted()     {}
func (UntrustedMFNDump) untrusted()       {}
func (UntrustedShmImage) untrusted()      {}
func (UntrustedClipboardData) untrusted() {}
func (UntrustedWMName) untrusted()        {}
func (UntrustedDock) untrusted()          {}
func (UntrustedWindowHints) untrusted()   {}
func (UntrustedWindowFlags) untrusted()   {}
func (UntrustedWMClass) untrusted()       {}
func (UntrustedWindowDump) untrusted()    {}
func (UntrustedCursor) untrusted()        {}

// Fixed parts of the variable-size bodies.
const (
	windowDumpHdrSize = 16
	mfnDumpHdrSize    = 28
	regionDumpBody    = 16 // offset u64, stride u32, reserved u32
	// maxAgentFixedBody is the largest fixed-size body an agent sends
	// (WMNAME, WMCLASS).
	maxAgentFixedBody = 128
)

// ReadUntrusted reads one message from an agent, speaking the negotiated
// version v. The body length comes from the type; untrusted_len must match
// it (from 1.6 on) and bounds the variable-size bodies before anything is
// allocated. Every error is Fatal; io.EOF means the agent hung up between
// messages.
func ReadUntrusted(r io.Reader, v Version) (Untrusted, Header, error) {
	h, err := readHeader(r)
	if err != nil {
		return nil, h, err
	}
	t := h.Type
	if !t.FromAgent() {
		return nil, h, fatalf(t, "an agent may not send this message type")
	}
	switch t {
	case MsgClipboardData:
		limit := uint32(MaxClipboardLegacy)
		if v >= VersionClipboard4x {
			limit = ClipboardTooBig
		}
		if h.Len > limit {
			return nil, h, fatalf(t, "length %d exceeds %d, the maximum of protocol %s", h.Len, limit, v)
		}
		b, err := readBody(r, t, int(h.Len))
		if err != nil {
			return nil, h, err
		}
		return UntrustedClipboardData{data: b}, h, nil
	case MsgWindowDump:
		if h.Len < windowDumpHdrSize || h.Len > maxWindowDumpBody {
			return nil, h, fatalf(t, "length %d outside %d..%d", h.Len, windowDumpHdrSize, maxWindowDumpBody)
		}
		b, err := readBody(r, t, int(h.Len))
		if err != nil {
			return nil, h, err
		}
		return UntrustedWindowDump{
			kind: le.Uint32(b), width: le.Uint32(b[4:]), height: le.Uint32(b[8:]), bpp: le.Uint32(b[12:]),
			body: b[windowDumpHdrSize:],
		}, h, nil
	case MsgMFNDump:
		return readMFNDump(r, h, v)
	}
	size, _ := t.BodySize()
	if h.Len != uint32(size) && v >= versionStrictLen {
		return nil, h, fatalf(t, "length %d, want exactly %d", h.Len, size)
	}
	// Below 1.6 the reference daemon warns and reads the right size anyway.
	var buf [maxAgentFixedBody]byte
	b := buf[:size]
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, h, bodyErr(t, err)
	}
	m := decodeFixed(t, b)
	if m == nil {
		return nil, h, fatalf(t, "no decoder for this type") // the direction table and decodeFixed disagree
	}
	return m, h, nil
}

// readMFNDump takes the length from num_mfn, bounded before allocating.
func readMFNDump(r io.Reader, h Header, v Version) (Untrusted, Header, error) {
	t := h.Type
	var hb [mfnDumpHdrSize]byte
	if _, err := io.ReadFull(r, hb[:]); err != nil {
		return nil, h, bodyErr(t, err)
	}
	n := le.Uint32(hb[20:])
	if n > MaxGrantRefs {
		return nil, h, fatalf(t, "num_mfn %d exceeds %d", n, MaxGrantRefs)
	}
	if want := mfnDumpHdrSize + 4*n; h.Len != want && v >= versionStrictLen {
		return nil, h, fatalf(t, "length %d, want exactly %d for %d MFNs", h.Len, want, n)
	}
	b, err := readBody(r, t, int(4*n))
	if err != nil {
		return nil, h, err
	}
	m := UntrustedMFNDump{
		width: le.Uint32(hb[4:]), height: le.Uint32(hb[8:]), bpp: le.Uint32(hb[12:]), off: le.Uint32(hb[16:]),
		mfns: make([]uint32, n),
	}
	for i := range m.mfns {
		m.mfns[i] = le.Uint32(b[4*i:])
	}
	return m, h, nil
}

func i32(b []byte) int32 { return int32(le.Uint32(b)) }

// decodeFixed decodes a body of exactly the type's size.
func decodeFixed(t Type, b []byte) Untrusted {
	switch t {
	case MsgCreate:
		// parent (b[16:20]) is dropped: the daemon forces it to 0.
		return UntrustedCreate{x: i32(b), y: i32(b[4:]), width: le.Uint32(b[8:]), height: le.Uint32(b[12:]),
			overrideRedirect: le.Uint32(b[20:])}
	case MsgDestroy:
		return UntrustedDestroy{}
	case MsgMap:
		return UntrustedMap{transientFor: le.Uint32(b), overrideRedirect: le.Uint32(b[4:])}
	case MsgUnmap:
		return UntrustedUnmap{}
	case MsgConfigure:
		return UntrustedConfigure{x: i32(b), y: i32(b[4:]), width: le.Uint32(b[8:]), height: le.Uint32(b[12:]),
			overrideRedirect: le.Uint32(b[16:])}
	case MsgShmImage:
		return UntrustedShmImage{x: i32(b), y: i32(b[4:]), width: i32(b[8:]), height: i32(b[12:])}
	case MsgWMName:
		var m UntrustedWMName
		copy(m.data[:], b)
		return m
	case MsgDock:
		return UntrustedDock{}
	case MsgWindowHints:
		var m UntrustedWindowHints
		for i := range m.f {
			m.f[i] = le.Uint32(b[4*i:])
		}
		return m
	case MsgWindowFlags:
		return UntrustedWindowFlags{set: le.Uint32(b), unset: le.Uint32(b[4:])}
	case MsgWMClass:
		var m UntrustedWMClass
		copy(m.class[:], b)
		copy(m.name[:], b[64:])
		return m
	case MsgCursor:
		return UntrustedCursor{cursor: le.Uint32(b)}
	}
	return nil
}
