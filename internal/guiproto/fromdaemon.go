package guiproto

import "io"

// maxDaemonFixedBody is the largest fixed-size body a daemon sends
// (KEYMAP_NOTIFY).
const maxDaemonFixedBody = 32

// ReadFromDaemon reads the next message from the daemon for an agent
// speaking version v. The agent trusts the daemon no more than it must:
// lengths must be exact, enumerated fields in range, and a type only agents
// send is an error. Unknown and obsolete types are skipped, as the reference
// agent does. The result is one of Keypress, Button, Motion, Crossing, Focus,
// MapInfo, Configure, Close, ClipboardReq, ClipboardData, KeymapNotify,
// WindowFlags, Destroy or WindowDumpAck. io.EOF means the daemon hung up
// between messages.
func ReadFromDaemon(r io.Reader, v Version) (Message, Header, error) {
	for {
		h, err := readHeader(r)
		if err != nil {
			return nil, h, err
		}
		t := h.Type
		if !t.FromDaemon() {
			if t.FromAgent() {
				return nil, h, fatalf(t, "the daemon may not send this message type")
			}
			if _, err := io.CopyN(io.Discard, r, int64(h.Len)); err != nil {
				return nil, h, bodyErr(t, err)
			}
			continue
		}
		if t == MsgClipboardData {
			limit := uint32(MaxClipboardLegacy)
			if v >= VersionClipboard4x {
				limit = MaxClipboardBuffer
			}
			if h.Len > limit {
				return nil, h, fatalf(t, "length %d exceeds %d, the maximum of protocol %s", h.Len, limit, v)
			}
			b, err := readBody(r, t, int(h.Len))
			if err != nil {
				return nil, h, err
			}
			return ClipboardData{Data: b}, h, nil
		}
		size, _ := t.BodySize()
		if h.Len != uint32(size) {
			return nil, h, fatalf(t, "length %d, want exactly %d", h.Len, size)
		}
		var buf [maxDaemonFixedBody]byte
		b := buf[:size]
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, h, bodyErr(t, err)
		}
		m, err := decodeFromDaemon(t, b)
		return m, h, err
	}
}

func decodeFromDaemon(t Type, b []byte) (Message, error) {
	switch t {
	case MsgKeypress:
		m := Keypress{Event: le.Uint32(b), X: i32(b[4:]), Y: i32(b[8:]), State: le.Uint32(b[12:]), Keycode: le.Uint32(b[16:])}
		if m.Event != KeyPress && m.Event != KeyRelease {
			return nil, fatalf(t, "event type %d is neither KeyPress nor KeyRelease", m.Event)
		}
		return m, nil
	case MsgButton:
		m := Button{Event: le.Uint32(b), X: i32(b[4:]), Y: i32(b[8:]), State: le.Uint32(b[12:]), Button: le.Uint32(b[16:])}
		if m.Event != ButtonPress && m.Event != ButtonRelease {
			return nil, fatalf(t, "event type %d is neither ButtonPress nor ButtonRelease", m.Event)
		}
		return m, nil
	case MsgMotion:
		return Motion{X: i32(b), Y: i32(b[4:]), State: le.Uint32(b[8:]), IsHint: le.Uint32(b[12:])}, nil
	case MsgCrossing:
		m := Crossing{Event: le.Uint32(b), X: i32(b[4:]), Y: i32(b[8:]), State: le.Uint32(b[12:]),
			Mode: le.Uint32(b[16:]), Detail: le.Uint32(b[20:]), Focus: le.Uint32(b[24:])}
		switch {
		case m.Event != EnterNotify && m.Event != LeaveNotify:
			return nil, fatalf(t, "event type %d is neither EnterNotify nor LeaveNotify", m.Event)
		case m.Mode > maxCrossingMode:
			return nil, fatalf(t, "mode %d is not a crossing mode (0..%d)", m.Mode, maxCrossingMode)
		case m.Detail > maxNotifyDetail:
			return nil, fatalf(t, "detail %d is not a notify detail (0..%d)", m.Detail, maxNotifyDetail)
		}
		return m, nil
	case MsgFocus:
		m := Focus{Event: le.Uint32(b), Mode: le.Uint32(b[4:]), Detail: le.Uint32(b[8:])}
		switch {
		case m.Event != FocusIn && m.Event != FocusOut:
			return nil, fatalf(t, "event type %d is neither FocusIn nor FocusOut", m.Event)
		case m.Mode != 0:
			return nil, fatalf(t, "mode %d, the daemon must send NotifyNormal (0)", m.Mode)
		case m.Detail > maxNotifyDetail:
			return nil, fatalf(t, "detail %d is not a notify detail (0..%d)", m.Detail, maxNotifyDetail)
		}
		return m, nil
	case MsgMap:
		// The reference daemon leaves transient_for uninitialised.
		return MapInfo{OverrideRedirect: le.Uint32(b[4:]) != 0}, nil
	case MsgConfigure:
		return Configure{X: i32(b), Y: i32(b[4:]), Width: le.Uint32(b[8:]), Height: le.Uint32(b[12:]),
			OverrideRedirect: le.Uint32(b[16:]) != 0}, nil
	case MsgClose:
		return Close{}, nil
	case MsgClipboardReq:
		return ClipboardReq{}, nil
	case MsgKeymapNotify:
		var m KeymapNotify
		copy(m.Keys[:], b)
		return m, nil
	case MsgWindowFlags:
		return WindowFlags{Set: le.Uint32(b), Unset: le.Uint32(b[4:])}, nil
	case MsgDestroy:
		return Destroy{}, nil
	case MsgWindowDumpAck:
		return WindowDumpAck{}, nil
	}
	return nil, fatalf(t, "no decoder for this type") // the direction table and this switch disagree
}
