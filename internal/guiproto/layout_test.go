package guiproto

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// Hand-written wire bytes from spec §2.1–§2.3 and design §5: header (type,
// window, untrusted_len), then the body, all little-endian u32 unless noted.
// Each row is checked three ways: the encoder writes exactly these bytes, the
// decoder of the receiving side turns them back into the same message, and a
// fixed-size body has the size the type table gives.
var layouts = []struct {
	name    string
	toGuid  bool // agent→daemon (else daemon→agent)
	window  uint32
	msg     Message
	wire    string
	limits  Limits
	comment string
}{
	{name: "CREATE", toGuid: true, window: 0x01020304,
		msg: Create{X: -5, Y: 10, Width: 640, Height: 480, OverrideRedirect: true},
		wire: `82000000 04030201 18000000
		       fbffffff 0a000000 80020000 e0010000 00000000 01000000`,
		comment: "x i32, y i32, width, height, parent (sent as 0), override_redirect"},
	{name: "DESTROY", toGuid: true, window: 0x01020304, msg: Destroy{},
		wire: `83000000 04030201 00000000`},
	{name: "MAP", toGuid: true, window: 0x01020304,
		msg:  MapInfo{TransientFor: 0x0a0b0c0d, OverrideRedirect: true},
		wire: `84000000 04030201 08000000 0d0c0b0a 01000000`},
	{name: "UNMAP", toGuid: true, window: 0x01020304, msg: Unmap{},
		wire: `85000000 04030201 00000000`},
	{name: "CONFIGURE", toGuid: true, window: 0x01020304,
		msg: Configure{X: 100, Y: -20, Width: 800, Height: 600},
		wire: `86000000 04030201 14000000
		       64000000 ecffffff 20030000 58020000 00000000`},
	{name: "MFNDUMP", toGuid: true, window: 0x01020304, limits: Limits{Dom0: true},
		msg: MFNDump{Width: 16, Height: 16, BPP: 24, Offset: 8, MFNs: []uint32{0x1234}},
		wire: `87000000 04030201 20000000
		       00000000 10000000 10000000 18000000 08000000 01000000 00000000 34120000`,
		comment: "shmid, width, height, bpp, off, num_mfn, domid, mfns[num_mfn]"},
	{name: "SHMIMAGE", toGuid: true, window: 0x01020304,
		msg:  ShmImage{X: 1, Y: 2, Width: 3, Height: 4},
		wire: `88000000 04030201 10000000 01000000 02000000 03000000 04000000`},
	{name: "CLIPBOARD_DATA", toGuid: true, window: 0x01020304,
		msg:  ClipboardData{Data: []byte("h\u00e9llo")},
		wire: `8c000000 04030201 06000000 68c3a96c6c6f`},
	{name: "WMNAME", toGuid: true, window: 0x01020304, msg: WMName{Title: "xterm"},
		wire: `8d000000 04030201 80000000 7874 65726d` + strings.Repeat("00", 123)},
	{name: "DOCK", toGuid: true, window: 0x01020304, msg: Dock{},
		wire: `8f000000 04030201 00000000`},
	{name: "WINDOW_HINTS", toGuid: true, window: 0x01020304,
		msg: WindowHints{Flags: HintPMinSize | HintPMaxSize | HintPResizeInc | HintPBaseSize | HintPPosition | HintUSPosition,
			MinWidth: 100, MinHeight: 50, MaxWidth: 1000, MaxHeight: 800, WidthInc: 8, HeightInc: 16, BaseWidth: 2, BaseHeight: 4},
		wire: `90000000 04030201 24000000
		       75010000 64000000 32000000 e8030000 20030000 08000000 10000000 02000000 04000000`},
	{name: "WINDOW_FLAGS", toGuid: true, window: 0x01020304, msg: WindowFlags{Set: FlagFullscreen, Unset: FlagDemandsAttention},
		wire: `91000000 04030201 08000000 01000000 02000000`},
	{name: "WMCLASS", toGuid: true, window: 0x01020304, msg: WMClass{Class: "XTerm", Name: "xterm"},
		wire:    `92000000 04030201 80000000 5854 65726d` + strings.Repeat("00", 59) + `7874 65726d` + strings.Repeat("00", 59),
		comment: "res_class[64], res_name[64]"},
	{name: "WINDOW_DUMP grant refs", toGuid: true, window: 0x01020304,
		msg: WindowDump{Kind: DumpGrantRefs, Width: 32, Height: 32, BPP: 24, Grants: []uint32{7, 8, 9}},
		wire: `93000000 04030201 1c000000
		       00000000 20000000 20000000 18000000 07000000 08000000 09000000`,
		comment: "type 0, width, height, bpp, refs[n]"},
	{name: "WINDOW_DUMP region", toGuid: true, window: 0x01020304, limits: Limits{RegionSize: 1 << 20},
		msg: WindowDump{Kind: DumpRegion, Width: 64, Height: 2, BPP: 24, Region: RegionBuffer{Offset: 0x2000, Stride: 256}},
		wire: `93000000 04030201 20000000
		       00000100 40000000 02000000 18000000 0020000000000000 00010000 00000000`,
		comment: "type 0x00010000, width, height, bpp, offset u64, stride, reserved"},
	{name: "CURSOR", toGuid: true, window: 0x01020304, msg: Cursor{ID: CursorX11 | 68},
		wire: `94000000 04030201 04000000 44010000`},

	{name: "KEYPRESS", window: 0x01020304, msg: Keypress{Event: KeyPress, X: 10, Y: -1, State: 5, Keycode: 38},
		wire: `7c000000 04030201 14000000 02000000 0a000000 ffffffff 05000000 26000000`},
	{name: "BUTTON", window: 0x01020304, msg: Button{Event: ButtonPress, X: 3, Y: 4, State: 0x100, Button: 1},
		wire: `7d000000 04030201 14000000 04000000 03000000 04000000 00010000 01000000`},
	{name: "MOTION", window: 0x01020304, msg: Motion{X: 7, Y: 8, IsHint: 1},
		wire: `7e000000 04030201 10000000 07000000 08000000 00000000 01000000`},
	{name: "CROSSING", window: 0x01020304, msg: Crossing{Event: EnterNotify, X: 1, Y: 2, Detail: 3, Focus: 1},
		wire: `7f000000 04030201 1c000000 07000000 01000000 02000000 00000000 00000000 03000000 01000000`},
	{name: "FOCUS", window: 0x01020304, msg: Focus{Event: FocusIn, Detail: 3},
		wire: `80000000 04030201 0c000000 09000000 00000000 03000000`},
	{name: "MAP from daemon", window: 0x01020304, msg: MapInfo{OverrideRedirect: true},
		wire: `84000000 04030201 08000000 00000000 01000000`},
	{name: "CONFIGURE from daemon", window: 0x01020304, msg: Configure{Width: 1920, Height: 1080, OverrideRedirect: true},
		wire: `86000000 04030201 14000000 00000000 00000000 80070000 38040000 01000000`},
	{name: "CLOSE", window: 0x01020304, msg: Close{}, wire: `89000000 04030201 00000000`},
	{name: "CLIPBOARD_REQ", window: 0x01020304, msg: ClipboardReq{}, wire: `8b000000 04030201 00000000`},
	{name: "CLIPBOARD_DATA from daemon", window: 0x01020304, msg: ClipboardData{Data: []byte("abc")},
		wire: `8c000000 04030201 03000000 616263`},
	{name: "KEYMAP_NOTIFY", window: 0, msg: KeymapNotify{Keys: [32]byte{0: 0x01, 31: 0x80}},
		wire: `8e000000 00000000 20000000 01` + strings.Repeat("00", 30) + `80`},
	{name: "WINDOW_FLAGS from daemon", window: 0x01020304, msg: WindowFlags{Set: FlagMinimize, Unset: FlagFullscreen},
		wire: `91000000 04030201 08000000 04000000 01000000`},
	{name: "DESTROY ack", window: 0x01020304, msg: Destroy{}, wire: `83000000 04030201 00000000`},
	{name: "WINDOW_DUMP_ACK", window: 0x01020304, msg: WindowDumpAck{}, wire: `95000000 04030201 00000000`},
}

func TestLayouts(t *testing.T) {
	for _, tc := range layouts {
		t.Run(tc.name, func(t *testing.T) {
			want := hx(t, tc.wire)
			if got := wire(t, tc.window, tc.msg); !bytes.Equal(got, want) {
				t.Fatalf("encoded\n%x\nwant\n%x", got, want)
			}
			if size, ok := tc.msg.Type().BodySize(); ok && len(want)-HeaderSize != size {
				t.Fatalf("body is %d bytes, type table says %d", len(want)-HeaderSize, size)
			}
			var got Message
			var h Header
			var err error
			if tc.toGuid {
				got, h, err = readValidated(t, want, ProtocolVersion, tc.limits)
			} else {
				got, h, err = ReadFromDaemon(bytes.NewReader(want), ProtocolVersion)
			}
			if err != nil {
				t.Fatal(err)
			}
			wantH := Header{Type: tc.msg.Type(), Window: tc.window, Len: uint32(len(want) - HeaderSize)}
			if h != wantH {
				t.Errorf("header %+v, want %+v", h, wantH)
			}
			if !reflect.DeepEqual(got, tc.msg) {
				t.Errorf("decoded %#v, want %#v", got, tc.msg)
			}
		})
	}
}

// Every type an agent may send and every type a daemon may send has a row.
func TestLayoutsCoverEveryType(t *testing.T) {
	seen := map[bool]map[Type]bool{true: {}, false: {}}
	for _, tc := range layouts {
		seen[tc.toGuid][tc.msg.Type()] = true
	}
	for ty := firstType; ty <= lastType; ty++ {
		if ty.FromAgent() && !seen[true][ty] {
			t.Errorf("no agent→daemon layout for %s", ty)
		}
		if ty.FromDaemon() && !seen[false][ty] {
			t.Errorf("no daemon→agent layout for %s", ty)
		}
	}
}

// Round trips through a stream: the whole table in one buffer, read back in
// order by the receiving side's decoder.
func TestRoundTripStream(t *testing.T) {
	var toGuid, toAgent bytes.Buffer
	for _, tc := range layouts {
		b := &toAgent
		if tc.toGuid {
			b = &toGuid
		}
		if err := WriteMessage(b, tc.window, tc.msg); err != nil {
			t.Fatal(err)
		}
	}
	lim := Limits{Dom0: true, RegionSize: 1 << 20}
	for _, tc := range layouts {
		var got Message
		var err error
		if tc.toGuid {
			var u Untrusted
			if u, _, err = ReadUntrusted(&toGuid, ProtocolVersion); err == nil {
				got, err = validateAny(u, lim)
			}
		} else {
			got, _, err = ReadFromDaemon(&toAgent, ProtocolVersion)
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !reflect.DeepEqual(got, tc.msg) {
			t.Errorf("%s: got %#v, want %#v", tc.name, got, tc.msg)
		}
	}
	if toGuid.Len() != 0 || toAgent.Len() != 0 {
		t.Errorf("bytes left over: %d to guid, %d to agent", toGuid.Len(), toAgent.Len())
	}
}
