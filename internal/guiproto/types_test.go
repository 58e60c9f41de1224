package guiproto

import "testing"

// The numbering, names, sizes and directions of spec §2.2.
func TestTypeTable(t *testing.T) {
	const (
		A  = "A"  // agent → daemon
		D  = "D"  // daemon → agent
		AD = "AD" // both
		O  = ""   // obsolete: nobody sends it
		V  = -1   // variable size
	)
	want := []struct {
		t    Type
		n    uint32
		name string
		size int
		dir  string
	}{
		{MsgKeypress, 124, "MSG_KEYPRESS", 20, D},
		{MsgButton, 125, "MSG_BUTTON", 20, D},
		{MsgMotion, 126, "MSG_MOTION", 16, D},
		{MsgCrossing, 127, "MSG_CROSSING", 28, D},
		{MsgFocus, 128, "MSG_FOCUS", 12, D},
		{MsgResize, 129, "MSG_RESIZE", 8, O},
		{MsgCreate, 130, "MSG_CREATE", 24, A},
		{MsgDestroy, 131, "MSG_DESTROY", 0, AD},
		{MsgMap, 132, "MSG_MAP", 8, AD},
		{MsgUnmap, 133, "MSG_UNMAP", 0, A},
		{MsgConfigure, 134, "MSG_CONFIGURE", 20, AD},
		{MsgMFNDump, 135, "MSG_MFNDUMP", V, A},
		{MsgShmImage, 136, "MSG_SHMIMAGE", 16, A},
		{MsgClose, 137, "MSG_CLOSE", 0, D},
		{MsgExecute, 138, "MSG_EXECUTE", 255, O},
		{MsgClipboardReq, 139, "MSG_CLIPBOARD_REQ", 0, D},
		{MsgClipboardData, 140, "MSG_CLIPBOARD_DATA", V, AD},
		{MsgWMName, 141, "MSG_WMNAME", 128, A},
		{MsgKeymapNotify, 142, "MSG_KEYMAP_NOTIFY", 32, D},
		{MsgDock, 143, "MSG_DOCK", 0, A},
		{MsgWindowHints, 144, "MSG_WINDOW_HINTS", 36, A},
		{MsgWindowFlags, 145, "MSG_WINDOW_FLAGS", 8, AD},
		{MsgWMClass, 146, "MSG_WMCLASS", 128, A},
		{MsgWindowDump, 147, "MSG_WINDOW_DUMP", V, A},
		{MsgCursor, 148, "MSG_CURSOR", 4, A},
		{MsgWindowDumpAck, 149, "MSG_WINDOW_DUMP_ACK", 0, D},
	}
	if len(want) != int(lastType-firstType+1) {
		t.Fatalf("table has %d rows, the protocol %d types", len(want), lastType-firstType+1)
	}
	for _, w := range want {
		if uint32(w.t) != w.n {
			t.Errorf("%s = %d, want %d", w.name, uint32(w.t), w.n)
		}
		if w.t.String() != w.name {
			t.Errorf("Type(%d).String() = %q, want %q", w.n, w.t.String(), w.name)
		}
		size, ok := w.t.BodySize()
		if w.size == V && ok || w.size != V && (!ok || size != w.size) {
			t.Errorf("%s: BodySize() = %d, %v; want %d", w.name, size, ok, w.size)
		}
		dir := ""
		if w.t.FromAgent() {
			dir += "A"
		}
		if w.t.FromDaemon() {
			dir += "D"
		}
		if dir != w.dir {
			t.Errorf("%s: direction %q, want %q", w.name, dir, w.dir)
		}
	}
	for _, bad := range []Type{0, 123, 150, 0xffffffff} {
		if bad.FromAgent() || bad.FromDaemon() {
			t.Errorf("%d: unknown type accepted", uint32(bad))
		}
		if _, ok := bad.BodySize(); ok {
			t.Errorf("%d: unknown type has a size", uint32(bad))
		}
		if bad.String() != "MSG_UNKNOWN("+itoa(uint32(bad))+")" {
			t.Errorf("String() = %q", bad.String())
		}
	}
}

func itoa(n uint32) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// Spec §2.5: CREATE needs a fresh ID, CLIPBOARD_DATA none, everything else
// from the agent an existing one.
func TestWindowRule(t *testing.T) {
	for ty := firstType; ty <= lastType; ty++ {
		if !ty.FromAgent() {
			continue
		}
		want := WindowMustExist
		switch ty {
		case MsgCreate:
			want = WindowMustNotExist
		case MsgClipboardData:
			want = WindowIgnored
		}
		if got := ty.WindowRule(); got != want {
			t.Errorf("%s: WindowRule() = %d, want %d", ty, got, want)
		}
	}
}

// Spec §2.4 constants.
func TestLimitConstants(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"MaxWindowWidth", MaxWindowWidth, 16384},
		{"MaxWindowHeight", MaxWindowHeight, 6144},
		{"MaxGrantRefs", MaxGrantRefs, 98304},
		{"MaxWindowDumpLen", MaxWindowDumpLen, 393244},
		{"maxWindowDumpBody", maxWindowDumpBody, 393244 - 12},
		{"MaxClipboardLegacy", MaxClipboardLegacy, 65000},
		{"MaxClipboardBuffer", MaxClipboardBuffer, 256000},
		{"ClipboardTooBig", ClipboardTooBig, 256001},
		{"MinClipboardBuffer", MinClipboardBuffer, 256},
		{"DefaultClipboardBuffer", DefaultClipboardBuffer, 64000},
		{"CursorX11Max", CursorX11Max, 0x19a},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
}

func TestClipboardLimit(t *testing.T) {
	for _, c := range []struct{ set, want int }{
		{0, 64000}, {1, 256}, {256, 256}, {1000, 1000}, {256000, 256000}, {1 << 30, 256000}, {-5, 256},
	} {
		if got := (Limits{MaxClipboard: c.set}).clipboardMax(); got != c.want {
			t.Errorf("MaxClipboard %d: limit %d, want %d", c.set, got, c.want)
		}
	}
}

// The decoders read fixed bodies into arrays of these sizes.
func TestFixedBodyBuffers(t *testing.T) {
	for ty := firstType; ty <= lastType; ty++ {
		size, ok := ty.BodySize()
		if !ok {
			continue
		}
		if ty.FromAgent() && size > maxAgentFixedBody || ty.FromDaemon() && size > maxDaemonFixedBody {
			t.Errorf("%s: body of %d bytes does not fit the decoder's buffer", ty, size)
		}
	}
}
