package guiproto

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
)

func readDaemon(t *testing.T, b []byte, v Version) (Message, error) {
	t.Helper()
	m, _, err := ReadFromDaemon(bytes.NewReader(b), v)
	return m, err
}

func TestFromDaemonUnknownAndObsoleteSkipped(t *testing.T) {
	var s []byte
	s = append(s, rawMsg(150, 1, 5, []byte("hello"))...)
	s = append(s, rawMsg(MsgResize, 1, 8, make([]byte, 8))...)
	s = append(s, rawMsg(MsgExecute, 1, 255, make([]byte, 255))...)
	s = append(s, rawMsg(0, 1, 0, nil)...)
	s = append(s, wire(t, 3, Close{})...)
	m, h, err := ReadFromDaemon(bytes.NewReader(s), v18)
	if err != nil || m != (Close{}) || h.Window != 3 {
		t.Fatalf("got %#v %+v %v, want the CLOSE after the skipped messages", m, h, err)
	}
}

func TestFromDaemonSkipTruncatedFails(t *testing.T) {
	_, err := readDaemon(t, rawMsg(150, 1, 100, []byte("short")), v18)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err = %v, want unexpected EOF", err)
	}
}

func TestFromDaemonAgentOnlyTypeFails(t *testing.T) {
	for _, ty := range []Type{MsgCreate, MsgUnmap, MsgMFNDump, MsgShmImage, MsgWMName, MsgDock,
		MsgWindowHints, MsgWMClass, MsgWindowDump, MsgCursor} {
		size, _ := ty.BodySize()
		if _, err := readDaemon(t, rawMsg(ty, 1, uint32(size), make([]byte, size)), v18); KindOf(err) != Fatal {
			t.Errorf("%s from the daemon: %v, want a fatal error", ty, err)
		}
	}
}

func TestFromDaemonExactLength(t *testing.T) {
	for ty := firstType; ty <= lastType; ty++ {
		size, ok := ty.BodySize()
		if !ty.FromDaemon() || !ok {
			continue
		}
		for _, n := range []int{size - 1, size + 1} {
			if n < 0 {
				continue
			}
			if _, err := readDaemon(t, rawMsg(ty, 1, uint32(n), make([]byte, n)), v18); KindOf(err) != Fatal || errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("%s with length %d: %v, want a fatal length error", ty, n, err)
			}
		}
	}
}

func TestFromDaemonClipboardBound(t *testing.T) {
	for _, c := range []struct {
		v  Version
		ok int
	}{{v18, MaxClipboardBuffer}, {v17, MaxClipboardLegacy}} {
		if _, err := readDaemon(t, rawMsg(MsgClipboardData, 1, uint32(c.ok+1), nil), c.v); KindOf(err) != Fatal || errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%s, %d bytes: %v, want a fatal length error", c.v, c.ok+1, err)
		}
		data := bytes.Repeat([]byte{'x'}, c.ok)
		m, err := readDaemon(t, rawMsg(MsgClipboardData, 1, uint32(c.ok), data), c.v)
		if err != nil || !bytes.Equal(m.(ClipboardData).Data, data) {
			t.Errorf("%s, %d bytes: %v", c.v, c.ok, err)
		}
	}
}

func TestFromDaemonEnumerations(t *testing.T) {
	bad := []struct {
		name string
		msg  []byte
	}{
		{"keypress event 4", rawMsg(MsgKeypress, 1, 20, u32s(4, 0, 0, 0, 38))},
		{"button event 2", rawMsg(MsgButton, 1, 20, u32s(2, 0, 0, 0, 1))},
		{"crossing event 9", rawMsg(MsgCrossing, 1, 28, u32s(9, 0, 0, 0, 0, 0, 0))},
		{"crossing mode 4", rawMsg(MsgCrossing, 1, 28, u32s(EnterNotify, 0, 0, 0, 4, 0, 0))},
		{"crossing detail 8", rawMsg(MsgCrossing, 1, 28, u32s(LeaveNotify, 0, 0, 0, 0, 8, 0))},
		{"focus event 7", rawMsg(MsgFocus, 1, 12, u32s(7, 0, 0))},
		{"focus mode grab", rawMsg(MsgFocus, 1, 12, u32s(FocusIn, 1, 0))},
		{"focus detail 8", rawMsg(MsgFocus, 1, 12, u32s(FocusOut, 0, 8))},
	}
	for _, c := range bad {
		if _, err := readDaemon(t, c.msg, v18); KindOf(err) != Fatal {
			t.Errorf("%s: %v, want a fatal error", c.name, err)
		}
	}
	good := []struct {
		msg  []byte
		want Message
	}{
		{rawMsg(MsgKeypress, 1, 20, u32s(KeyRelease, 1, 2, 3, 4)), Keypress{Event: KeyRelease, X: 1, Y: 2, State: 3, Keycode: 4}},
		{rawMsg(MsgButton, 1, 20, u32s(ButtonRelease, neg(-1), 2, 3, 7)), Button{Event: ButtonRelease, X: -1, Y: 2, State: 3, Button: 7}},
		{rawMsg(MsgCrossing, 1, 28, u32s(LeaveNotify, 0, 0, 0, 3, 7, 1)), Crossing{Event: LeaveNotify, Mode: 3, Detail: 7, Focus: 1}},
		{rawMsg(MsgFocus, 1, 12, u32s(FocusOut, 0, 7)), Focus{Event: FocusOut, Detail: 7}},
	}
	for _, c := range good {
		m, err := readDaemon(t, c.msg, v18)
		if err != nil || !reflect.DeepEqual(m, c.want) {
			t.Errorf("got %#v, %v; want %#v", m, err, c.want)
		}
	}
}

// The reference daemon leaves transient_for uninitialised in MAP.
func TestFromDaemonMapIgnoresTransientFor(t *testing.T) {
	m, err := readDaemon(t, rawMsg(MsgMap, 1, 8, u32s(0xdeadbeef, 0)), v18)
	if err != nil || m != (MapInfo{}) {
		t.Fatalf("got %#v, %v", m, err)
	}
}

func TestFromDaemonTruncated(t *testing.T) {
	if _, err := readDaemon(t, rawMsg(MsgKeypress, 1, 20, u32s(2, 0)), v18); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("err = %v, want unexpected EOF", err)
	}
	if _, err := readDaemon(t, []byte{0x7c, 0, 0}, v18); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("partial header: %v", err)
	}
	if _, err := readDaemon(t, nil, v18); err != io.EOF {
		t.Errorf("empty stream: %v, want io.EOF", err)
	}
}

func TestWriteMessageRefusesOversized(t *testing.T) {
	for _, m := range []Message{
		ClipboardData{Data: make([]byte, ClipboardTooBig+1)},
		WindowDump{Grants: make([]uint32, MaxGrantRefs+1)},
		MFNDump{MFNs: make([]uint32, MaxGrantRefs+1)},
	} {
		var b bytes.Buffer
		if err := WriteMessage(&b, 1, m); err == nil || b.Len() != 0 {
			t.Errorf("%s: err %v, wrote %d bytes", m.Type(), err, b.Len())
		}
	}
}

// Strings are cut to fit their NUL-terminated field without splitting a rune.
func TestWriteMessageTruncatesStrings(t *testing.T) {
	title := string(bytes.Repeat([]byte{'a'}, 125)) + "\u00e9\u00e9" // 129 bytes
	b := wire(t, 1, WMName{Title: title})
	if len(b) != HeaderSize+128 || b[HeaderSize+125] != 0xc3 || b[HeaderSize+127] != 0 || b[HeaderSize+126] != 0xa9 {
		t.Fatalf("encoded %x", b[HeaderSize:])
	}
	m, _, err := readValidated(t, b, v18, Limits{AllowUTF8Titles: true})
	if err != nil || m.(WMName).Title != title[:127] {
		t.Fatalf("got %#v, %v", m, err)
	}
	b = wire(t, 1, WMClass{Class: string(bytes.Repeat([]byte{'c'}, 70)), Name: "n"})
	if len(b) != HeaderSize+128 || b[HeaderSize+63] != 0 || b[HeaderSize+62] != 'c' || b[HeaderSize+64] != 'n' {
		t.Fatalf("encoded %x", b[HeaderSize:])
	}
}
