package guiproto

// Every limit of the protocol and of the daemon's validation lives here.

// Window geometry (MAX_WINDOW_WIDTH, MAX_WINDOW_HEIGHT). Coordinates are
// clamped to ±these values.
const (
	MaxWindowWidth  = 16384
	MaxWindowHeight = 6144
)

// Shared memory.
const (
	// PageSize is the granularity of grant refs, MFNs and region offsets.
	PageSize = 4096
	// MaxGrantRefs bounds the pages of one dump (MAX_GRANT_REFS_COUNT,
	// equal to MAX_MFN_COUNT): enough for a maximal window.
	MaxGrantRefs = 98304
	// MaxWindowDumpLen is QUBES_MAX_MSG_WINDOW_DUMP_LEN, header included.
	MaxWindowDumpLen = MaxGrantRefs*4 + HeaderSize + windowDumpHdrSize
	// maxWindowDumpBody bounds untrusted_len of MSG_WINDOW_DUMP.
	maxWindowDumpBody = MaxWindowDumpLen - HeaderSize
)

// Clipboard sizes (spec §2.4, §5.3).
const (
	// MaxClipboardLegacy is the limit before protocol 1.8.
	MaxClipboardLegacy = 65000
	// MaxClipboardBuffer is the largest per-qube clipboard from 1.8 on.
	MaxClipboardBuffer = 256000
	// ClipboardTooBig is the length an agent sends to say "too big to copy".
	ClipboardTooBig = MaxClipboardBuffer + 1
	// MinClipboardBuffer is the smallest per-qube clipboard limit.
	MinClipboardBuffer = 256
	// DefaultClipboardBuffer is the per-qube limit when none is configured.
	DefaultClipboardBuffer = 64000
)

// Strings.
const (
	// MaxTitleLen is the longest window title in bytes (128 with the NUL).
	MaxTitleLen = 127
	// MaxWMClassLen is the longest WM_CLASS field in bytes (64 with the NUL).
	MaxWMClassLen = 63
)

// Cursors: 0 is the default cursor, otherwise CursorX11|glyph with the glyph
// from X11/cursorfont.h, below CursorX11Max.
const (
	CursorDefault = 0
	CursorX11     = 0x100
	CursorX11Max  = 0x19a
)

// X11 enumerations the agent accepts from the daemon.
const (
	maxCrossingMode = 3 // NotifyNormal, Grab, Ungrab, WhileGrabbed
	maxNotifyDetail = 7 // NotifyAncestor .. NotifyDetailNone
)

// Protocol versions.
const (
	// ProtocolVersion is the version this package implements.
	ProtocolVersion Version = 0x00010008
	// MinVersion is the oldest version a handshake accepts: bidirectional
	// negotiation starts there.
	MinVersion Version = 0x00010004
	// VersionDestroyAck is the first version in which the daemon answers
	// MSG_DESTROY with MSG_DESTROY.
	VersionDestroyAck Version = 0x00010005
	// VersionWindowDumpAck is the first version with MSG_WINDOW_DUMP_ACK.
	VersionWindowDumpAck Version = 0x00010007
	// versionStrictLen makes a wrong untrusted_len of a fixed-size message fatal.
	versionStrictLen Version = 0x00010006
	// VersionClipboard4x is the first version whose agents accept
	// clipboard data beyond MaxClipboardLegacy, up to ClipboardTooBig.
	VersionClipboard4x Version = 0x00010008
)

// Limits are the per-qube settings the daemon validates against. The zero
// value is a GUI-VM daemon with default settings and no shared region.
type Limits struct {
	// MaxClipboard is the qube's max_clipboard_size; 0 means
	// DefaultClipboardBuffer. Values outside MinClipboardBuffer..
	// MaxClipboardBuffer are clamped into that range.
	MaxClipboard int
	// AllowUTF8Titles keeps well-formed UTF-8 in titles (allow_utf8_titles).
	AllowUTF8Titles bool
	// Dom0 says the daemon runs in dom0, the only place MSG_MFNDUMP is allowed.
	Dom0 bool
	// RegionSize is the size in bytes of the qube's shared region; 0 means
	// there is none and region dumps are rejected.
	RegionSize uint64
}

func (l Limits) clipboardMax() int {
	if l.MaxClipboard == 0 {
		return DefaultClipboardBuffer
	}
	return min(max(l.MaxClipboard, MinClipboardBuffer), MaxClipboardBuffer)
}
