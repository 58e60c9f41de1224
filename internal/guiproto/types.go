package guiproto

import "fmt"

// Type is a message type from the header.
type Type uint32

// Message types, numbered from MSG_MIN+1 = 124.
const (
	MsgKeypress      Type = 124
	MsgButton        Type = 125
	MsgMotion        Type = 126
	MsgCrossing      Type = 127
	MsgFocus         Type = 128
	MsgResize        Type = 129 // obsolete, never sent
	MsgCreate        Type = 130
	MsgDestroy       Type = 131
	MsgMap           Type = 132
	MsgUnmap         Type = 133
	MsgConfigure     Type = 134
	MsgMFNDump       Type = 135 // deprecated, dom0 only
	MsgShmImage      Type = 136
	MsgClose         Type = 137
	MsgExecute       Type = 138 // obsolete, never sent
	MsgClipboardReq  Type = 139
	MsgClipboardData Type = 140
	MsgWMName        Type = 141
	MsgKeymapNotify  Type = 142
	MsgDock          Type = 143
	MsgWindowHints   Type = 144
	MsgWindowFlags   Type = 145
	MsgWMClass       Type = 146
	MsgWindowDump    Type = 147
	MsgCursor        Type = 148
	MsgWindowDumpAck Type = 149
)

const (
	firstType = MsgKeypress
	lastType  = MsgWindowDumpAck
	// variable marks a body whose size depends on its contents.
	variable = -1
)

// Who may send a type.
const (
	fromAgent = 1 << iota
	fromDaemon
)

var typeInfo = [lastType - firstType + 1]struct {
	name string
	size int
	from uint8
}{
	MsgKeypress - firstType:      {"MSG_KEYPRESS", 20, fromDaemon},
	MsgButton - firstType:        {"MSG_BUTTON", 20, fromDaemon},
	MsgMotion - firstType:        {"MSG_MOTION", 16, fromDaemon},
	MsgCrossing - firstType:      {"MSG_CROSSING", 28, fromDaemon},
	MsgFocus - firstType:         {"MSG_FOCUS", 12, fromDaemon},
	MsgResize - firstType:        {"MSG_RESIZE", 8, 0},
	MsgCreate - firstType:        {"MSG_CREATE", 24, fromAgent},
	MsgDestroy - firstType:       {"MSG_DESTROY", 0, fromAgent | fromDaemon},
	MsgMap - firstType:           {"MSG_MAP", 8, fromAgent | fromDaemon},
	MsgUnmap - firstType:         {"MSG_UNMAP", 0, fromAgent},
	MsgConfigure - firstType:     {"MSG_CONFIGURE", 20, fromAgent | fromDaemon},
	MsgMFNDump - firstType:       {"MSG_MFNDUMP", variable, fromAgent},
	MsgShmImage - firstType:      {"MSG_SHMIMAGE", 16, fromAgent},
	MsgClose - firstType:         {"MSG_CLOSE", 0, fromDaemon},
	MsgExecute - firstType:       {"MSG_EXECUTE", 255, 0},
	MsgClipboardReq - firstType:  {"MSG_CLIPBOARD_REQ", 0, fromDaemon},
	MsgClipboardData - firstType: {"MSG_CLIPBOARD_DATA", variable, fromAgent | fromDaemon},
	MsgWMName - firstType:        {"MSG_WMNAME", 128, fromAgent},
	MsgKeymapNotify - firstType:  {"MSG_KEYMAP_NOTIFY", 32, fromDaemon},
	MsgDock - firstType:          {"MSG_DOCK", 0, fromAgent},
	MsgWindowHints - firstType:   {"MSG_WINDOW_HINTS", 36, fromAgent},
	MsgWindowFlags - firstType:   {"MSG_WINDOW_FLAGS", 8, fromAgent | fromDaemon},
	MsgWMClass - firstType:       {"MSG_WMCLASS", 128, fromAgent},
	MsgWindowDump - firstType:    {"MSG_WINDOW_DUMP", variable, fromAgent},
	MsgCursor - firstType:        {"MSG_CURSOR", 4, fromAgent},
	MsgWindowDumpAck - firstType: {"MSG_WINDOW_DUMP_ACK", 0, fromDaemon},
}

func (t Type) known() bool { return t >= firstType && t <= lastType }

// String returns the C name, e.g. "MSG_CREATE", or "MSG_UNKNOWN(n)".
func (t Type) String() string {
	if !t.known() {
		return fmt.Sprintf("MSG_UNKNOWN(%d)", uint32(t))
	}
	return typeInfo[t-firstType].name
}

// BodySize returns the exact body size of a fixed-size type; ok is false for
// unknown types and for the variable-size MFNDUMP, CLIPBOARD_DATA and
// WINDOW_DUMP.
func (t Type) BodySize() (size int, ok bool) {
	if !t.known() || typeInfo[t-firstType].size == variable {
		return 0, false
	}
	return typeInfo[t-firstType].size, true
}

// FromAgent reports whether an agent may send the type.
func (t Type) FromAgent() bool { return t.known() && typeInfo[t-firstType].from&fromAgent != 0 }

// FromDaemon reports whether a daemon may send the type. The obsolete
// RESIZE and EXECUTE are never sent.
func (t Type) FromDaemon() bool { return t.known() && typeInfo[t-firstType].from&fromDaemon != 0 }

// WindowRule says what the daemon's window table must hold for the header's
// window ID before it handles a message from the agent.
type WindowRule uint8

const (
	// WindowMustExist: an unknown window ID is fatal.
	WindowMustExist WindowRule = iota
	// WindowMustNotExist: an ID already in use is fatal (MSG_CREATE).
	WindowMustNotExist
	// WindowIgnored: the ID is not looked up (MSG_CLIPBOARD_DATA).
	WindowIgnored
)

// WindowRule returns the window-table rule for a message from the agent.
func (t Type) WindowRule() WindowRule {
	switch t {
	case MsgCreate:
		return WindowMustNotExist
	case MsgClipboardData:
		return WindowIgnored
	}
	return WindowMustExist
}
