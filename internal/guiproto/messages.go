package guiproto

import (
	"fmt"
	"io"
	"unicode/utf8"
)

// Message is a trusted message body: one the daemon has validated, one the
// agent has decoded from the daemon, or one either side is about to send.
type Message interface {
	Type() Type
	appendBody(b []byte) []byte
}

// WriteMessage writes the header and body of m in one Write.
func WriteMessage(w io.Writer, window uint32, m Message) error {
	if err := checkEncodable(m); err != nil {
		return err
	}
	b := make([]byte, HeaderSize, HeaderSize+64)
	b = m.appendBody(b)
	Header{Type: m.Type(), Window: window, Len: uint32(len(b) - HeaderSize)}.append(b[:0])
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("writing %s: %w", m.Type(), err)
	}
	return nil
}

// checkEncodable refuses bodies no peer would accept.
func checkEncodable(m Message) error {
	switch m := m.(type) {
	case ClipboardData:
		if len(m.Data) > ClipboardTooBig {
			return fmt.Errorf("encoding %s: %d bytes exceed the protocol maximum %d", MsgClipboardData, len(m.Data), ClipboardTooBig)
		}
	case WindowDump:
		if len(m.Grants) > MaxGrantRefs {
			return fmt.Errorf("encoding %s: %d grant refs exceed the maximum %d", MsgWindowDump, len(m.Grants), MaxGrantRefs)
		}
	case MFNDump:
		if len(m.MFNs) > MaxGrantRefs {
			return fmt.Errorf("encoding %s: %d MFNs exceed the maximum %d", MsgMFNDump, len(m.MFNs), MaxGrantRefs)
		}
	}
	return nil
}

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

func appendU32(b []byte, vs ...uint32) []byte {
	for _, v := range vs {
		b = le.AppendUint32(b, v)
	}
	return b
}

// appendString writes s NUL-padded into a field of n bytes, cut on a UTF-8
// boundary so that at least one NUL remains.
func appendString(b []byte, s string, n int) []byte {
	if len(s) > n-1 {
		cut := n - 1
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	b = append(b, s...)
	return append(b, make([]byte, n-len(s))...)
}

// X11 event types carried in the input messages.
const (
	KeyPress      = 2
	KeyRelease    = 3
	ButtonPress   = 4
	ButtonRelease = 5
	EnterNotify   = 7
	LeaveNotify   = 8
	FocusIn       = 9
	FocusOut      = 10
)

// Window flags of MSG_WINDOW_FLAGS.
const (
	FlagFullscreen       = 1
	FlagDemandsAttention = 2
	FlagMinimize         = 4
)

// ICCCM size-hint flags of MSG_WINDOW_HINTS.
const (
	HintUSPosition = 1
	HintUSSize     = 2
	HintPPosition  = 4
	HintPSize      = 8
	HintPMinSize   = 16
	HintPMaxSize   = 32
	HintPResizeInc = 64
	HintPAspect    = 128
	HintPBaseSize  = 256
)

// Create is MSG_CREATE: a new, unmapped window in root coordinates. The
// parent field is always sent as 0.
type Create struct {
	X, Y             int32
	Width, Height    uint32
	OverrideRedirect bool
}

// Destroy is MSG_DESTROY, and from the daemon its acknowledgement (≥1.5).
type Destroy struct{}

// MapInfo is MSG_MAP. From the daemon only OverrideRedirect is meaningful.
type MapInfo struct {
	TransientFor     uint32 // a window ID, or 0
	OverrideRedirect bool
}

// Unmap is MSG_UNMAP.
type Unmap struct{}

// Configure is MSG_CONFIGURE. The daemon ignores OverrideRedirect from an
// agent; validated values always have it false.
type Configure struct {
	X, Y             int32
	Width, Height    uint32
	OverrideRedirect bool
}

// MFNDump is the deprecated MSG_MFNDUMP (struct shm_cmd).
type MFNDump struct {
	Width, Height, BPP uint32
	Offset             uint32 // image offset in the first page
	MFNs               []uint32
}

// ShmImage is MSG_SHMIMAGE: a damaged rectangle in window coordinates. Once
// validated every field is non-negative and below 2³¹.
type ShmImage struct {
	X, Y          int32
	Width, Height uint32
}

// Close is MSG_CLOSE.
type Close struct{}

// ClipboardReq is MSG_CLIPBOARD_REQ.
type ClipboardReq struct{}

// ClipboardData is MSG_CLIPBOARD_DATA. The daemon never interprets the bytes.
type ClipboardData struct{ Data []byte }

// WMName is MSG_WMNAME. Validated titles are sanitized (spec §3.5).
type WMName struct{ Title string }

// KeymapNotify is MSG_KEYMAP_NOTIFY: bit k set means key code k is down.
type KeymapNotify struct{ Keys [32]byte }

// Dock is MSG_DOCK.
type Dock struct{}

// WindowHints is MSG_WINDOW_HINTS. Validated hints carry only the flags
// HintPMinSize, HintPMaxSize, HintPResizeInc, HintPBaseSize, HintPPosition
// and HintUSPosition, and the fields of dropped flags are zero.
type WindowHints struct {
	Flags                 uint32
	MinWidth, MinHeight   uint32
	MaxWidth, MaxHeight   uint32
	WidthInc, HeightInc   uint32
	BaseWidth, BaseHeight uint32
}

// WindowFlags is MSG_WINDOW_FLAGS: a request from the agent, a state change
// from the daemon.
type WindowFlags struct{ Set, Unset uint32 }

// WMClass is MSG_WMCLASS. Validated fields are printable ASCII without the
// guid's "vmname:" prefix.
type WMClass struct{ Class, Name string }

// DumpType is the type field of a window dump.
type DumpType uint32

const (
	// DumpGrantRefs is Qubes' type 0: the body is grant references.
	DumpGrantRefs DumpType = 0
	// DumpRegion is this project's type: the body is an offset into the
	// qube's shared region (design §5).
	DumpRegion DumpType = 0x00010000
)

// RegionBuffer is where a DumpRegion image lies in the shared region.
type RegionBuffer struct {
	Offset uint64 // a multiple of PageSize
	Stride uint32 // Width*4
}

// WindowDump is MSG_WINDOW_DUMP: the window's image is XRGB8888, stride
// Width*4, in the pages of Grants (DumpGrantRefs) or at Region (DumpRegion).
type WindowDump struct {
	Kind               DumpType
	Width, Height, BPP uint32
	Grants             []uint32
	Region             RegionBuffer
}

// Cursor is MSG_CURSOR: CursorDefault or CursorX11|glyph.
type Cursor struct{ ID uint32 }

// WindowDumpAck is MSG_WINDOW_DUMP_ACK (≥1.7).
type WindowDumpAck struct{}

// Keypress is MSG_KEYPRESS; Keycode is the evdev code + 8.
type Keypress struct {
	Event          uint32 // KeyPress or KeyRelease
	X, Y           int32
	State, Keycode uint32
}

// Button is MSG_BUTTON.
type Button struct {
	Event         uint32 // ButtonPress or ButtonRelease
	X, Y          int32
	State, Button uint32
}

// Motion is MSG_MOTION.
type Motion struct {
	X, Y          int32
	State, IsHint uint32
}

// Crossing is MSG_CROSSING.
type Crossing struct {
	Event                      uint32 // EnterNotify or LeaveNotify
	X, Y                       int32
	State, Mode, Detail, Focus uint32
}

// Focus is MSG_FOCUS. The daemon always sends Mode 0 (NotifyNormal).
type Focus struct{ Event, Mode, Detail uint32 }

func (Create) Type() Type        { return MsgCreate }
func (Destroy) Type() Type       { return MsgDestroy }
func (MapInfo) Type() Type       { return MsgMap }
func (Unmap) Type() Type         { return MsgUnmap }
func (Configure) Type() Type     { return MsgConfigure }
func (MFNDump) Type() Type       { return MsgMFNDump }
func (ShmImage) Type() Type      { return MsgShmImage }
func (Close) Type() Type         { return MsgClose }
func (ClipboardReq) Type() Type  { return MsgClipboardReq }
func (ClipboardData) Type() Type { return MsgClipboardData }
func (WMName) Type() Type        { return MsgWMName }
func (KeymapNotify) Type() Type  { return MsgKeymapNotify }
func (Dock) Type() Type          { return MsgDock }
func (WindowHints) Type() Type   { return MsgWindowHints }
func (WindowFlags) Type() Type   { return MsgWindowFlags }
func (WMClass) Type() Type       { return MsgWMClass }
func (WindowDump) Type() Type    { return MsgWindowDump }
func (Cursor) Type() Type        { return MsgCursor }
func (WindowDumpAck) Type() Type { return MsgWindowDumpAck }
func (Keypress) Type() Type      { return MsgKeypress }
func (Button) Type() Type        { return MsgButton }
func (Motion) Type() Type        { return MsgMotion }
func (Crossing) Type() Type      { return MsgCrossing }
func (Focus) Type() Type         { return MsgFocus }

func (m Create) appendBody(b []byte) []byte {
	return appendU32(b, uint32(m.X), uint32(m.Y), m.Width, m.Height, 0, b2u(m.OverrideRedirect))
}
func (Destroy) appendBody(b []byte) []byte { return b }
func (m MapInfo) appendBody(b []byte) []byte {
	return appendU32(b, m.TransientFor, b2u(m.OverrideRedirect))
}
func (Unmap) appendBody(b []byte) []byte { return b }
func (m Configure) appendBody(b []byte) []byte {
	return appendU32(b, uint32(m.X), uint32(m.Y), m.Width, m.Height, b2u(m.OverrideRedirect))
}
func (m MFNDump) appendBody(b []byte) []byte {
	// shmid and domid are placeholders: the daemon takes the domain from
	// its own configuration.
	b = appendU32(b, 0, m.Width, m.Height, m.BPP, m.Offset, uint32(len(m.MFNs)), 0)
	return appendU32(b, m.MFNs...)
}
func (m ShmImage) appendBody(b []byte) []byte {
	return appendU32(b, uint32(m.X), uint32(m.Y), m.Width, m.Height)
}
func (Close) appendBody(b []byte) []byte           { return b }
func (ClipboardReq) appendBody(b []byte) []byte    { return b }
func (m ClipboardData) appendBody(b []byte) []byte { return append(b, m.Data...) }
func (m WMName) appendBody(b []byte) []byte        { return appendString(b, m.Title, 128) }
func (m KeymapNotify) appendBody(b []byte) []byte  { return append(b, m.Keys[:]...) }
func (Dock) appendBody(b []byte) []byte            { return b }
func (m WindowHints) appendBody(b []byte) []byte {
	return appendU32(b, m.Flags, m.MinWidth, m.MinHeight, m.MaxWidth, m.MaxHeight,
		m.WidthInc, m.HeightInc, m.BaseWidth, m.BaseHeight)
}
func (m WindowFlags) appendBody(b []byte) []byte { return appendU32(b, m.Set, m.Unset) }
func (m WMClass) appendBody(b []byte) []byte {
	return appendString(appendString(b, m.Class, 64), m.Name, 64)
}
func (m WindowDump) appendBody(b []byte) []byte {
	b = appendU32(b, uint32(m.Kind), m.Width, m.Height, m.BPP)
	if m.Kind == DumpRegion {
		b = le.AppendUint64(b, m.Region.Offset)
		return appendU32(b, m.Region.Stride, 0)
	}
	return appendU32(b, m.Grants...)
}
func (m Cursor) appendBody(b []byte) []byte      { return appendU32(b, m.ID) }
func (WindowDumpAck) appendBody(b []byte) []byte { return b }
func (m Keypress) appendBody(b []byte) []byte {
	return appendU32(b, m.Event, uint32(m.X), uint32(m.Y), m.State, m.Keycode)
}
func (m Button) appendBody(b []byte) []byte {
	return appendU32(b, m.Event, uint32(m.X), uint32(m.Y), m.State, m.Button)
}
func (m Motion) appendBody(b []byte) []byte {
	return appendU32(b, uint32(m.X), uint32(m.Y), m.State, m.IsHint)
}
func (m Crossing) appendBody(b []byte) []byte {
	return appendU32(b, m.Event, uint32(m.X), uint32(m.Y), m.State, m.Mode, m.Detail, m.Focus)
}
func (m Focus) appendBody(b []byte) []byte { return appendU32(b, m.Event, m.Mode, m.Detail) }
