package guiproto

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
	"unicode/utf8"
)

// fuzzVersion maps a fuzzed byte onto the versions a handshake can yield.
func fuzzVersion(minor uint8) Version {
	return Version(1<<16 | uint32(MinVersion.Minor()+uint16(minor%5)))
}

// addSeeds seeds with the layout table and a few messages that break rules.
func addSeeds(f *testing.F, toGuid bool, add func(minor uint8, b []byte)) {
	for _, tc := range layouts {
		if tc.toGuid == toGuid {
			add(4, hx(f, tc.wire))
		}
	}
	if toGuid {
		add(4, create(-20000, 7000, 1<<31, 7, 9, 1))
		add(4, dump(uint32(DumpRegion), 64, 64, region(12*PageSize, 256, 0)))
		add(4, dump(0, 33, 32, u32s(9)))
		add(4, mfn(32, 32, 4, 2, 36))
		add(1, mfn(1, 1, 0, 1, 99))
		add(4, wmname("caf\u00e9 \xf4\x80\x80\x80 \u2026"))
		add(3, clip(100))
	} else {
		add(4, rawMsg(150, 1, 5, []byte("hello")))
		add(4, rawMsg(MsgFocus, 1, 12, u32s(FocusIn, 1, 0)))
	}
}

// FuzzReadUntrusted: the agent→daemon decoder never panics, and every error
// is fatal, io.EOF between messages, or an I/O error.
func FuzzReadUntrusted(f *testing.F) {
	addSeeds(f, true, func(m uint8, b []byte) { f.Add(m, b) })
	f.Fuzz(func(t *testing.T, minor uint8, data []byte) {
		v := fuzzVersion(minor)
		r := bytes.NewReader(data)
		for {
			u, h, err := ReadUntrusted(r, v)
			if err == io.EOF {
				return
			}
			if err != nil {
				if KindOf(err) != Fatal {
					t.Fatalf("decoder error of kind %s: %v", KindOf(err), err)
				}
				return
			}
			if u.Type() != h.Type || !h.Type.FromAgent() {
				t.Fatalf("decoded %s from header %+v", u.Type(), h)
			}
			if size, ok := h.Type.BodySize(); ok && v >= versionStrictLen && h.Len != uint32(size) {
				t.Fatalf("%s: accepted length %d at %s", h.Type, h.Len, v)
			}
		}
	})
}

// FuzzReadFromDaemon: the agent's decoder never panics, and whatever it
// returns encodes and decodes back to itself.
func FuzzReadFromDaemon(f *testing.F) {
	addSeeds(f, false, func(m uint8, b []byte) { f.Add(m, b) })
	f.Fuzz(func(t *testing.T, minor uint8, data []byte) {
		v := fuzzVersion(minor)
		r := bytes.NewReader(data)
		for {
			m, h, err := ReadFromDaemon(r, v)
			if err != nil {
				return
			}
			if m.Type() != h.Type || !h.Type.FromDaemon() {
				t.Fatalf("decoded %s from header %+v", m.Type(), h)
			}
			again, _, err := ReadFromDaemon(bytes.NewReader(wire(t, h.Window, m)), v)
			if err != nil || !reflect.DeepEqual(again, m) {
				t.Fatalf("%#v re-encoded decodes to %#v, %v", m, again, err)
			}
		}
	})
}

// FuzzValidate: decode then validate under fuzzed limits. Validation never
// panics, errors carry a kind, validated values respect the limits, and a
// validated message sent again validates to itself.
func FuzzValidate(f *testing.F) {
	addSeeds(f, true, func(m uint8, b []byte) { f.Add(m, uint8(0xff), uint32(0), uint64(1<<20), b) })
	f.Fuzz(func(t *testing.T, minor, opts uint8, maxClip uint32, regionSize uint64, data []byte) {
		v := fuzzVersion(minor)
		l := Limits{
			MaxClipboard:    int(maxClip % (2 * MaxClipboardBuffer)),
			AllowUTF8Titles: opts&1 != 0,
			Dom0:            opts&2 != 0,
			RegionSize:      regionSize,
		}
		r := bytes.NewReader(data)
		for {
			u, h, err := ReadUntrusted(r, v)
			if err != nil {
				return
			}
			m, err := validateAny(u, l)
			if err != nil {
				var e *Error
				if !errors.As(err, &e) || e.Kind < Drop || e.Kind > Fatal || e.Reason == "" || e.Type != h.Type {
					t.Fatalf("validation error without kind, type or reason: %#v", err)
				}
				continue
			}
			checkTrusted(t, m, l)
			u2, _, err := ReadUntrusted(bytes.NewReader(wire(t, h.Window, m)), v)
			if err != nil {
				t.Fatalf("validated %#v does not decode again: %v", m, err)
			}
			if m2, err := validateAny(u2, l); err != nil || !reflect.DeepEqual(m2, m) {
				t.Fatalf("validated %#v validates again to %#v, %v", m, m2, err)
			}
		}
	})
}

func inRange(v, lim int32) bool { return v >= -lim && v <= lim }

// checkTrusted asserts what a guid may rely on in a validated message.
func checkTrusted(t *testing.T, m Message, l Limits) {
	t.Helper()
	bad := func() { t.Helper(); t.Fatalf("validated message breaks the limits: %#v", m) }
	printable := func(s string, allowUTF8 bool, maxLen int) {
		t.Helper()
		if len(s) > maxLen || !utf8.ValidString(s) {
			bad()
		}
		for _, r := range s {
			if r < 0x20 || r == 0x7f || (!allowUTF8 && r > 0x7e) || r >= 0x100000 || isBidiControl(r) {
				bad()
			}
		}
	}
	switch m := m.(type) {
	case Create:
		if !inRange(m.X, MaxWindowWidth) || !inRange(m.Y, MaxWindowHeight) || m.Width > MaxWindowWidth || m.Height > MaxWindowHeight {
			bad()
		}
	case Configure:
		if !inRange(m.X, MaxWindowWidth) || !inRange(m.Y, MaxWindowHeight) || m.OverrideRedirect ||
			m.Width == 0 || m.Width > MaxWindowWidth || m.Height == 0 || m.Height > MaxWindowHeight {
			bad()
		}
	case ShmImage:
		if m.X < 0 || m.Y < 0 || int32(m.Width) < 0 || int32(m.Height) < 0 {
			bad()
		}
	case ClipboardData:
		if len(m.Data) > l.clipboardMax() {
			bad()
		}
	case WMName:
		printable(m.Title, l.AllowUTF8Titles, MaxTitleLen)
	case WMClass:
		printable(m.Class, false, MaxWMClassLen)
		printable(m.Name, false, MaxWMClassLen)
	case WindowHints:
		if m.Flags&^(HintPMinSize|HintPMaxSize|HintPResizeInc|HintPBaseSize|HintPPosition|HintUSPosition) != 0 ||
			m.MinWidth > MaxWindowWidth || m.MinHeight > MaxWindowHeight ||
			m.MaxWidth > MaxWindowWidth || m.MaxHeight > MaxWindowHeight ||
			m.WidthInc >= MaxWindowWidth || m.HeightInc >= MaxWindowHeight ||
			m.BaseWidth > MaxWindowWidth || m.BaseHeight > MaxWindowHeight ||
			m.Flags&HintPMaxSize != 0 && (m.MaxWidth == 0 || m.MaxHeight == 0) {
			bad()
		}
	case WindowFlags:
		if m.Set&^(FlagFullscreen|FlagDemandsAttention|FlagMinimize) != 0 ||
			m.Unset&^(FlagFullscreen|FlagDemandsAttention) != 0 || m.Set&m.Unset != 0 {
			bad()
		}
	case Cursor:
		if m.ID != CursorDefault && (m.ID < CursorX11 || m.ID >= CursorX11Max || m.ID%2 != 0) {
			bad()
		}
	case WindowDump:
		size := uint64(m.Width) * uint64(m.Height) * 4
		if m.Width > MaxWindowWidth || m.Height > MaxWindowHeight {
			bad()
		}
		switch m.Kind {
		case DumpGrantRefs:
			if len(m.Grants) > MaxGrantRefs || uint64(len(m.Grants))*PageSize < size {
				bad()
			}
		case DumpRegion:
			if m.Region.Offset%PageSize != 0 || m.Region.Stride != m.Width*4 ||
				m.Region.Offset > l.RegionSize || l.RegionSize-m.Region.Offset < size {
				bad()
			}
		default:
			bad()
		}
	case MFNDump:
		if !l.Dom0 || m.Width > MaxWindowWidth || m.Height > MaxWindowHeight || m.Offset >= PageSize ||
			len(m.MFNs) > MaxGrantRefs || uint64(len(m.MFNs))*PageSize < uint64(m.Width)*uint64(m.Height)*4+uint64(m.Offset) {
			bad()
		}
	}
}

// FuzzHandshake: both handshake sides read peer bytes without panicking and
// accept only versions they may.
func FuzzHandshake(f *testing.F) {
	f.Add([]byte{8, 0, 1, 0, 0x80, 7, 0, 0, 0x38, 4, 0, 0, 24, 0, 0, 0, 0xa5, 0x1f, 0, 0})
	f.Add([]byte{3, 0, 1, 0})
	f.Add([]byte{8, 0, 2, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		if v, err := DaemonHandshake(&rw{in: bytes.NewReader(data)}, ProtocolVersion, NewXConf(1920, 1080, 24)); err == nil &&
			(v < MinVersion || v > ProtocolVersion) {
			t.Fatalf("daemon negotiated %s", v)
		}
		if v, _, err := AgentHandshake(&rw{in: bytes.NewReader(data)}, ProtocolVersion); err == nil &&
			(v < MinVersion || v > ProtocolVersion) {
			t.Fatalf("agent accepted %s", v)
		}
	})
}
