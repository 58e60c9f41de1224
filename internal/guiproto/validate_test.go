package guiproto

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// One named test per rule of spec §3.2 (and design §5 for region dumps):
// each breaks the rule and asserts the exact outcome.

const v16, v17, v18 Version = 0x00010006, 0x00010007, 0x00010008

func neg(v int32) uint32 { return uint32(v) }

// expectKind decodes and validates b and wants an error of kind k.
func expectKind(t *testing.T, b []byte, v Version, l Limits, k Kind) error {
	t.Helper()
	_, _, err := readValidated(t, b, v, l)
	if err == nil {
		t.Fatalf("accepted, want a %s error", k)
	}
	if KindOf(err) != k {
		t.Fatalf("error %q is %s, want %s", err, KindOf(err), k)
	}
	return err
}

// expectMsg decodes and validates b and wants exactly m.
func expectMsg(t *testing.T, b []byte, v Version, l Limits, want Message) {
	t.Helper()
	got, _, err := readValidated(t, b, v, l)
	if err != nil {
		t.Fatalf("rejected: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}
}

func TestRuleUnknownTypeFatal(t *testing.T) {
	for _, ty := range []Type{0, 123, 150, 0xffffffff} {
		expectKind(t, rawMsg(ty, 1, 0, nil), v18, Limits{}, Fatal)
	}
}

func TestRuleDaemonOnlyTypeFromAgentFatal(t *testing.T) {
	for _, ty := range []Type{MsgKeypress, MsgButton, MsgMotion, MsgCrossing, MsgFocus, MsgResize,
		MsgClose, MsgExecute, MsgClipboardReq, MsgKeymapNotify, MsgWindowDumpAck} {
		size, _ := ty.BodySize()
		err := expectKind(t, rawMsg(ty, 1, uint32(size), make([]byte, size)), v18, Limits{}, Fatal)
		if !strings.Contains(err.Error(), ty.String()) {
			t.Errorf("error %q does not name %s", err, ty)
		}
	}
}

func TestRuleFixedLengthExactFrom16(t *testing.T) {
	body := u32s(1, 2, 3, 4, 5, 6)
	for _, v := range []Version{v16, v17, v18} {
		expectKind(t, rawMsg(MsgCreate, 1, 23, body), v, Limits{}, Fatal)
		expectKind(t, rawMsg(MsgCreate, 1, 25, append(body, 0)), v, Limits{}, Fatal)
		expectKind(t, rawMsg(MsgDestroy, 1, 4, u32s(0)), v, Limits{}, Fatal)
	}
}

// Below 1.6 the reference daemon warns and reads sizeof(body) anyway.
func TestRuleFixedLengthToleratedBefore16(t *testing.T) {
	stream := append(rawMsg(MsgCreate, 1, 99, u32s(1, 2, 3, 4, 5, 0)), rawMsg(MsgUnmap, 2, 0, nil)...)
	r := bytes.NewReader(stream)
	u, h, err := ReadUntrusted(r, 0x00010005)
	if err != nil || h.Len != 99 {
		t.Fatalf("got %v, %+v", err, h)
	}
	if c, _ := u.(UntrustedCreate).Validate(Limits{}); c != (Create{X: 1, Y: 2, Width: 3, Height: 4}) {
		t.Errorf("create %+v", c)
	}
	if u, _, err := ReadUntrusted(r, 0x00010005); err != nil || u.Type() != MsgUnmap {
		t.Errorf("next message: %v, %v", u, err)
	}
}

func TestRuleTruncatedBodyFatal(t *testing.T) {
	_, _, err := ReadUntrusted(bytes.NewReader(rawMsg(MsgCreate, 1, 24, u32s(1, 2))), v18)
	if !errors.Is(err, io.ErrUnexpectedEOF) || KindOf(err) != Fatal {
		t.Fatalf("err = %v, want a fatal unexpected EOF", err)
	}
	if _, _, err := ReadUntrusted(bytes.NewReader(nil), v18); err != io.EOF {
		t.Fatalf("empty stream: %v, want io.EOF", err)
	}
}

func create(x, y int32, w, h, parent, or uint32) []byte {
	return rawMsg(MsgCreate, 7, 24, u32s(uint32(x), uint32(y), w, h, parent, or))
}

func TestRuleCreateSizeBelow2p31Verify(t *testing.T) {
	expectKind(t, create(0, 0, 1<<31, 10, 0, 0), v18, Limits{}, Verify)
	expectKind(t, create(0, 0, 10, 0xffffffff, 0, 0), v18, Limits{}, Verify)
	expectMsg(t, create(0, 0, 1<<31-1, 10, 0, 0), v18, Limits{}, Create{Width: MaxWindowWidth, Height: 10})
}

func TestRuleCreateClamps(t *testing.T) {
	expectMsg(t, create(-20000, 7000, 20000, 7000, 0, 0), v18, Limits{},
		Create{X: -16384, Y: 6144, Width: 16384, Height: 6144})
	expectMsg(t, create(20000, -7000, 16384, 6144, 0, 0), v18, Limits{},
		Create{X: 16384, Y: -6144, Width: 16384, Height: 6144})
	expectMsg(t, create(-16384, 6144, 0, 0, 0, 0), v18, Limits{}, Create{X: -16384, Y: 6144})
}

func TestRuleCreateParentZeroed(t *testing.T) {
	m, _, err := readValidated(t, create(1, 2, 3, 4, 0xdeadbeef, 1), v18, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := wire(t, 7, m), create(1, 2, 3, 4, 0, 1); !bytes.Equal(got, want) {
		t.Errorf("re-encoded %x, want parent 0: %x", got, want)
	}
}

func TestRuleCreateOverrideRedirectNonzeroIsSet(t *testing.T) {
	expectMsg(t, create(0, 0, 5, 5, 0, 2), v18, Limits{}, Create{Width: 5, Height: 5, OverrideRedirect: true})
}

func configure(x, y int32, w, h, or uint32) []byte {
	return rawMsg(MsgConfigure, 7, 20, u32s(uint32(x), uint32(y), w, h, or))
}

func TestRuleConfigureClampsThenPositive(t *testing.T) {
	expectMsg(t, configure(-99999, 99999, 0xffffffff, 1<<31, 0), v18, Limits{},
		Configure{X: -16384, Y: 6144, Width: 16384, Height: 6144})
	expectKind(t, configure(0, 0, 0, 10, 0), v18, Limits{}, Verify)
	expectKind(t, configure(0, 0, 10, 0, 0), v18, Limits{}, Verify)
}

func TestRuleConfigureIgnoresOverrideRedirect(t *testing.T) {
	expectMsg(t, configure(1, 2, 3, 4, 1), v18, Limits{}, Configure{X: 1, Y: 2, Width: 3, Height: 4})
}

func TestRuleMapPassesTransientFor(t *testing.T) {
	expectMsg(t, rawMsg(MsgMap, 7, 8, u32s(0x55, 7)), v18, Limits{}, MapInfo{TransientFor: 0x55, OverrideRedirect: true})
}

func shm(x, y, w, h int32) []byte {
	return rawMsg(MsgShmImage, 7, 16, u32s(uint32(x), uint32(y), uint32(w), uint32(h)))
}

func TestRuleShmImageNegativeDrop(t *testing.T) {
	expectKind(t, shm(-1, 0, 1, 1), v18, Limits{}, Drop)
	expectKind(t, shm(0, -1, 1, 1), v18, Limits{}, Drop)
	expectKind(t, shm(0, 0, -1, 1), v18, Limits{}, Drop)
	expectKind(t, shm(0, 0, 1, -1), v18, Limits{}, Drop)
	expectMsg(t, shm(0, 0, 1<<31-1, 0), v18, Limits{}, ShmImage{Width: 1<<31 - 1})
}

func clip(n int) []byte { return rawMsg(MsgClipboardData, 0, uint32(n), bytes.Repeat([]byte{'a'}, n)) }

func TestRuleClipboardProtocolBound(t *testing.T) {
	lim := Limits{MaxClipboard: MaxClipboardBuffer}
	// The bound is checked before the body is read: a header alone is enough.
	for _, c := range []struct {
		v Version
		n int
	}{{v18, ClipboardTooBig + 1}, {v17, MaxClipboardLegacy + 1}, {0x00010004, MaxClipboardLegacy + 1}} {
		_, _, err := ReadUntrusted(bytes.NewReader(rawMsg(MsgClipboardData, 0, uint32(c.n), nil)), c.v)
		if KindOf(err) != Fatal || errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%s, %d bytes: %v, want a fatal length error before reading", c.v, c.n, err)
		}
	}
	expectMsg(t, clip(MaxClipboardLegacy), v17, lim, ClipboardData{Data: bytes.Repeat([]byte{'a'}, MaxClipboardLegacy)})
	expectMsg(t, clip(MaxClipboardBuffer), v18, lim, ClipboardData{Data: bytes.Repeat([]byte{'a'}, MaxClipboardBuffer)})
}

func TestRuleClipboardTooBigMarkerDropped(t *testing.T) {
	err := expectKind(t, clip(ClipboardTooBig), v18, Limits{MaxClipboard: MaxClipboardBuffer}, Drop)
	if !errors.Is(err, ErrClipboardOversized) {
		t.Errorf("err = %v, want ErrClipboardOversized", err)
	}
}

func TestRuleClipboardPerQubeLimit(t *testing.T) {
	err := expectKind(t, clip(DefaultClipboardBuffer+1), v18, Limits{}, Drop)
	if !errors.Is(err, ErrClipboardOversized) {
		t.Errorf("err = %v, want ErrClipboardOversized", err)
	}
	expectMsg(t, clip(DefaultClipboardBuffer), v18, Limits{}, ClipboardData{Data: bytes.Repeat([]byte{'a'}, DefaultClipboardBuffer)})
	expectKind(t, clip(1001), v18, Limits{MaxClipboard: 1000}, Drop)
	expectMsg(t, clip(0), v18, Limits{}, ClipboardData{Data: []byte{}})
}

func wmname(s string) []byte {
	b := make([]byte, 128)
	copy(b, s)
	return rawMsg(MsgWMName, 7, 128, b)
}

func TestRuleWMNameNULForcedAt127(t *testing.T) {
	b := rawMsg(MsgWMName, 7, 128, bytes.Repeat([]byte{'x'}, 128))
	expectMsg(t, b, v18, Limits{}, WMName{Title: strings.Repeat("x", 127)})
	expectMsg(t, wmname("ab\x00cd"), v18, Limits{}, WMName{Title: "ab"})
}

func TestRuleTitleSanitization(t *testing.T) {
	for _, c := range []struct {
		name, in string
		utf8     bool
		want     string
	}{
		{"printable ASCII kept", " !~azAZ09", false, " !~azAZ09"},
		{"controls and DEL", "a\tb\nc\x1bd\x7fe", false, "a_b_c_d_e"},
		{"UTF-8 refused by default", "caf\u00e9", false, "caf__"},
		{"UTF-8 allowed", "caf\u00e9 \u20ac \U0001F600", true, "caf\u00e9 \u20ac \U0001F600"},
		{"ellipsis rewritten", "long title\u2026", false, "long title..."},
		{"ellipsis kept with UTF-8", "long title\u2026", true, "long title\u2026"},
		{"ellipsis mid-title not rewritten", "a\u2026b", false, "a___b"},
		{"overlong C0 80", "a\xc0\x80", true, "a__"},
		{"overlong E0 80 80", "\xe0\x80\x80", true, "___"},
		{"surrogate ED A0 80", "\xed\xa0\x80", true, "___"},
		{"F4 quirk: U+100000 refused", "\U00100000", true, "____"},
		{"above U+10FFFF", "\xf4\x90\x80\x80", true, "____"},
		{"F5 lead", "\xf5\x80\x80\x80", true, "____"},
		{"truncated sequence", "ab\xe2\x82", true, "ab__"},
		{"lone continuation", "\x80z", true, "_z"},
		{"C1 control via UTF-8 kept (RFC 3629 only)", "\u0085", true, "\u0085"},
		{"max 4-byte F3", "\U000FFFFF", true, "\U000FFFFF"},
	} {
		t.Run(c.name, func(t *testing.T) {
			expectMsg(t, wmname(c.in), v18, Limits{AllowUTF8Titles: c.utf8}, WMName{Title: c.want})
		})
	}
}

// TestRuleTitleBidiControlsReplaced: with UTF-8 titles allowed, each
// bidirectional control becomes one '_' so a qube cannot reorder how the
// "[qube]" prefix shows.
func TestRuleTitleBidiControlsReplaced(t *testing.T) {
	for _, r := range []rune{0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0x200e, 0x200f, 0x061c} {
		in := "a" + string(r) + "b"
		expectMsg(t, wmname(in), v18, Limits{AllowUTF8Titles: true}, WMName{Title: "a_b"})
		// Without UTF-8 every byte of it is replaced, as any non-ASCII.
		expectMsg(t, wmname(in), v18, Limits{}, WMName{Title: "a" + strings.Repeat("_", len(string(r))) + "b"})
	}
	expectMsg(t, wmname("evil\u202etxt.exe"), v18, Limits{AllowUTF8Titles: true}, WMName{Title: "evil_txt.exe"})
	expectMsg(t, wmname("caf\u00e9 \u2066x\u2069\u200d"), v18, Limits{AllowUTF8Titles: true},
		WMName{Title: "caf\u00e9 _x_\u200d"}) // a joiner is no bidi control
}

func wmclass(class, name string) []byte {
	b := make([]byte, 128)
	copy(b, class)
	copy(b[64:], name)
	return rawMsg(MsgWMClass, 7, 128, b)
}

func TestRuleWMClassASCIIOnly(t *testing.T) {
	expectMsg(t, wmclass("Caf\u00e9\x01", "n\u2026"), v18, Limits{AllowUTF8Titles: true},
		WMClass{Class: "Caf___", Name: "n___"})
	full := rawMsg(MsgWMClass, 7, 128, bytes.Repeat([]byte{'c'}, 128))
	expectMsg(t, full, v18, Limits{}, WMClass{Class: strings.Repeat("c", 63), Name: strings.Repeat("c", 63)})
}

func hints(f ...uint32) []byte { return rawMsg(MsgWindowHints, 7, 36, u32s(f...)) }

func TestRuleWindowHintsFiltered(t *testing.T) {
	all := uint32(0x1ff)
	for _, c := range []struct {
		name string
		in   []uint32
		want WindowHints
	}{
		{"only the allowed flags pass", []uint32{all, 1, 2, 3, 4, 5, 6, 7, 8},
			WindowHints{Flags: HintPMinSize | HintPMaxSize | HintPResizeInc | HintPBaseSize | HintPPosition | HintUSPosition,
				MinWidth: 1, MinHeight: 2, MaxWidth: 3, MaxHeight: 4, WidthInc: 5, HeightInc: 6, BaseWidth: 7, BaseHeight: 8}},
		{"PMinSize at max kept", []uint32{HintPMinSize, 16384, 6144, 0, 0, 0, 0, 0, 0},
			WindowHints{Flags: HintPMinSize, MinWidth: 16384, MinHeight: 6144}},
		{"PMinSize width above max dropped", []uint32{HintPMinSize, 16385, 1, 0, 0, 0, 0, 0, 0}, WindowHints{}},
		{"PMinSize height above max dropped", []uint32{HintPMinSize, 1, 6145, 0, 0, 0, 0, 0, 0}, WindowHints{}},
		{"PMaxSize zero width dropped", []uint32{HintPMaxSize, 0, 0, 0, 5, 0, 0, 0, 0}, WindowHints{}},
		{"PMaxSize zero height dropped", []uint32{HintPMaxSize, 0, 0, 5, 0, 0, 0, 0, 0}, WindowHints{}},
		{"PMaxSize above max dropped", []uint32{HintPMaxSize, 0, 0, 16385, 5, 0, 0, 0, 0}, WindowHints{}},
		{"PMaxSize 1x1 kept", []uint32{HintPMaxSize, 0, 0, 1, 1, 0, 0, 0, 0},
			WindowHints{Flags: HintPMaxSize, MaxWidth: 1, MaxHeight: 1}},
		{"PResizeInc at max dropped", []uint32{HintPResizeInc, 0, 0, 0, 0, 16384, 1, 0, 0}, WindowHints{}},
		{"PResizeInc height at max dropped", []uint32{HintPResizeInc, 0, 0, 0, 0, 1, 6144, 0, 0}, WindowHints{}},
		{"PBaseSize above max dropped", []uint32{HintPBaseSize, 0, 0, 0, 0, 0, 0, 1, 6145}, WindowHints{}},
		{"fields of unset flags zeroed", []uint32{HintPPosition, 1, 2, 3, 4, 5, 6, 7, 8}, WindowHints{Flags: HintPPosition}},
		{"USSize, PSize, PAspect and unknown bits dropped", []uint32{HintUSSize | HintPSize | HintPAspect | 0xfffffe00, 1, 1, 1, 1, 1, 1, 1, 1}, WindowHints{}},
	} {
		t.Run(c.name, func(t *testing.T) { expectMsg(t, hints(c.in...), v18, Limits{}, c.want) })
	}
}

func flags(set, unset uint32) []byte { return rawMsg(MsgWindowFlags, 7, 8, u32s(set, unset)) }

func TestRuleWindowFlagsSetAndUnsetVerify(t *testing.T) {
	expectKind(t, flags(FlagFullscreen, FlagFullscreen), v18, Limits{}, Verify)
	expectKind(t, flags(0x100, 0x100), v18, Limits{}, Verify)
}

func TestRuleWindowFlagsMasked(t *testing.T) {
	expectMsg(t, flags(0xfffffff0|FlagMinimize|FlagFullscreen, FlagDemandsAttention), v18, Limits{},
		WindowFlags{Set: FlagMinimize | FlagFullscreen, Unset: FlagDemandsAttention})
	expectMsg(t, flags(0, 0xfffffff0|FlagMinimize|FlagFullscreen), v18, Limits{}, WindowFlags{Unset: FlagFullscreen})
}

func cursor(c uint32) []byte { return rawMsg(MsgCursor, 7, 4, u32s(c)) }

func TestRuleCursorRangeVerify(t *testing.T) {
	for _, c := range []uint32{1, 0xff, CursorX11Max, CursorX11Max + 2, 0xffffffff} {
		expectKind(t, cursor(c), v18, Limits{}, Verify)
	}
	for _, c := range []uint32{CursorDefault, CursorX11, CursorX11 | 68, CursorX11Max - 2} {
		expectMsg(t, cursor(c), v18, Limits{}, Cursor{ID: c})
	}
}

func TestRuleCursorOddGlyphIsDefault(t *testing.T) {
	expectMsg(t, cursor(CursorX11|69), v18, Limits{}, Cursor{ID: CursorDefault})
	expectMsg(t, cursor(CursorX11Max-1), v18, Limits{}, Cursor{ID: CursorDefault})
}

func dump(kind, w, h uint32, body []byte) []byte {
	return rawMsg(MsgWindowDump, 7, uint32(16+len(body)), append(u32s(kind, w, h, 24), body...))
}

func TestRuleWindowDumpLengthBounds(t *testing.T) {
	// Too short, and too long: both refused from the header alone.
	for _, n := range []uint32{0, 15, maxWindowDumpBody + 1, 0xffffffff} {
		_, _, err := ReadUntrusted(bytes.NewReader(rawMsg(MsgWindowDump, 7, n, nil)), v18)
		if KindOf(err) != Fatal || errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("untrusted_len %d: %v, want a fatal length error", n, err)
		}
	}
	refs := make([]byte, 4*MaxGrantRefs)
	expectMsg(t, dump(0, MaxWindowWidth, MaxWindowHeight, refs), v18, Limits{},
		WindowDump{Width: MaxWindowWidth, Height: MaxWindowHeight, BPP: 24, Grants: make([]uint32, MaxGrantRefs)})
}

func TestRuleWindowDumpUnknownTypeFatal(t *testing.T) {
	expectKind(t, dump(1, 1, 1, u32s(5)), v18, Limits{RegionSize: 1 << 20}, Fatal)
	expectKind(t, dump(0x00010001, 1, 1, u32s(5)), v18, Limits{RegionSize: 1 << 20}, Fatal)
}

func TestRuleWindowDumpSizeMaxFatal(t *testing.T) {
	expectKind(t, dump(0, MaxWindowWidth+1, 1, make([]byte, 4*17)), v18, Limits{}, Fatal)
	expectKind(t, dump(0, 1, MaxWindowHeight+1, make([]byte, 4*2)), v18, Limits{}, Fatal)
	expectKind(t, dump(uint32(DumpRegion), MaxWindowWidth+1, 1, region(0, (MaxWindowWidth+1)*4, 0)), v18, Limits{RegionSize: 1 << 30}, Fatal)
}

func TestRuleWindowDumpGrantBodyMultipleOf4Fatal(t *testing.T) {
	expectKind(t, dump(0, 1, 1, []byte{1, 0, 0, 0, 2}), v18, Limits{}, Fatal)
}

func TestRuleWindowDumpGrantsCoverImageFatal(t *testing.T) {
	// 32×32×4 = 4096 bytes: one page is enough, zero pages are not.
	expectMsg(t, dump(0, 32, 32, u32s(9)), v18, Limits{}, WindowDump{Width: 32, Height: 32, BPP: 24, Grants: []uint32{9}})
	expectKind(t, dump(0, 32, 32, nil), v18, Limits{}, Fatal)
	expectKind(t, dump(0, 33, 32, u32s(9)), v18, Limits{}, Fatal)
}

func region(off uint64, stride, reserved uint32) []byte {
	return append(le.AppendUint64(nil, off), u32s(stride, reserved)...)
}

func TestRuleRegionDumpExactLengthFatal(t *testing.T) {
	lim := Limits{RegionSize: 1 << 20}
	expectKind(t, dump(uint32(DumpRegion), 1, 1, region(0, 4, 0)[:12]), v18, lim, Fatal)
	expectKind(t, dump(uint32(DumpRegion), 1, 1, append(region(0, 4, 0), 0, 0, 0, 0)), v18, lim, Fatal)
}

func TestRuleRegionDumpOffsetAlignedFatal(t *testing.T) {
	expectKind(t, dump(uint32(DumpRegion), 1, 1, region(4, 4, 0)), v18, Limits{RegionSize: 1 << 20}, Fatal)
	expectKind(t, dump(uint32(DumpRegion), 1, 1, region(PageSize+1, 4, 0)), v18, Limits{RegionSize: 1 << 20}, Fatal)
}

func TestRuleRegionDumpStrideFatal(t *testing.T) {
	expectKind(t, dump(uint32(DumpRegion), 10, 1, region(0, 44, 0)), v18, Limits{RegionSize: 1 << 20}, Fatal)
	expectKind(t, dump(uint32(DumpRegion), 10, 1, region(0, 36, 0)), v18, Limits{RegionSize: 1 << 20}, Fatal)
}

func TestRuleRegionDumpReservedFatal(t *testing.T) {
	expectKind(t, dump(uint32(DumpRegion), 1, 1, region(0, 4, 1)), v18, Limits{RegionSize: 1 << 20}, Fatal)
}

func TestRuleRegionDumpInsideRegionFatal(t *testing.T) {
	lim := Limits{RegionSize: 16 * PageSize}
	// 64×64×4 = 4 pages: fits at the last 4 pages, not one page later.
	expectMsg(t, dump(uint32(DumpRegion), 64, 64, region(12*PageSize, 256, 0)), v18, lim,
		WindowDump{Kind: DumpRegion, Width: 64, Height: 64, BPP: 24, Region: RegionBuffer{Offset: 12 * PageSize, Stride: 256}})
	expectKind(t, dump(uint32(DumpRegion), 64, 64, region(13*PageSize, 256, 0)), v18, lim, Fatal)
	expectKind(t, dump(uint32(DumpRegion), 64, 64, region(16*PageSize, 256, 0)), v18, lim, Fatal)
	expectMsg(t, dump(uint32(DumpRegion), 0, 0, region(16*PageSize, 0, 0)), v18, lim,
		WindowDump{Kind: DumpRegion, BPP: 24, Region: RegionBuffer{Offset: 16 * PageSize}})
}

func TestRuleRegionDumpOffsetOverflowFatal(t *testing.T) {
	// offset + size wraps around 2^64 to a small number.
	off := uint64(1<<64-PageSize) &^ (PageSize - 1)
	expectKind(t, dump(uint32(DumpRegion), 64, 64, region(off, 256, 0)), v18, Limits{RegionSize: 1 << 62}, Fatal)
}

func TestRuleRegionDumpWithoutRegionFatal(t *testing.T) {
	expectKind(t, dump(uint32(DumpRegion), 1, 1, region(0, 4, 0)), v18, Limits{}, Fatal)
}

// shm_cmd: shmid, width, height, bpp, off, num_mfn, domid, then the MFNs.
func mfn(w, h, off, n uint32, length uint32) []byte {
	body := u32s(0, w, h, 24, off, n, 0)
	body = append(body, make([]byte, 4*n)...)
	return rawMsg(MsgMFNDump, 7, length, body)
}

var dom0 = Limits{Dom0: true}

func TestRuleMFNDumpOnlyInDom0Fatal(t *testing.T) {
	expectKind(t, mfn(1, 1, 0, 1, 32), v18, Limits{}, Fatal)
	expectMsg(t, mfn(1, 1, 0, 1, 32), v18, dom0, MFNDump{Width: 1, Height: 1, BPP: 24, MFNs: []uint32{0}})
}

func TestRuleMFNDumpCountFatal(t *testing.T) {
	// Refused from the fixed part alone, before the MFNs are read.
	hdr := rawMsg(MsgMFNDump, 7, 28+4*(MaxGrantRefs+1), u32s(0, 1, 1, 24, 0, MaxGrantRefs+1, 0))
	_, _, err := ReadUntrusted(bytes.NewReader(hdr), v18)
	if KindOf(err) != Fatal || errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("%v, want a fatal count error", err)
	}
	expectMsg(t, mfn(MaxWindowWidth, MaxWindowHeight, 0, MaxGrantRefs, 28+4*MaxGrantRefs), v18, dom0,
		MFNDump{Width: MaxWindowWidth, Height: MaxWindowHeight, BPP: 24, MFNs: make([]uint32, MaxGrantRefs)})
}

func TestRuleMFNDumpSizeMaxFatal(t *testing.T) {
	expectKind(t, mfn(MaxWindowWidth+1, 1, 0, 20, 28+80), v18, dom0, Fatal)
	expectKind(t, mfn(1, MaxWindowHeight+1, 0, 20, 28+80), v18, dom0, Fatal)
}

func TestRuleMFNDumpOffsetInFirstPageFatal(t *testing.T) {
	expectKind(t, mfn(1, 1, PageSize, 2, 36), v18, dom0, Fatal)
	expectMsg(t, mfn(1, 1, PageSize-4, 1, 32), v18, dom0, MFNDump{Width: 1, Height: 1, BPP: 24, Offset: PageSize - 4, MFNs: []uint32{0}})
}

func TestRuleMFNDumpExactLengthFatal(t *testing.T) {
	expectKind(t, mfn(1, 1, 0, 1, 36), v18, dom0, Fatal)
	expectKind(t, mfn(1, 1, 0, 1, 28), v16, dom0, Fatal)
	// Below 1.6 the length comes from num_mfn alone.
	expectMsg(t, mfn(1, 1, 0, 1, 99), 0x00010005, dom0, MFNDump{Width: 1, Height: 1, BPP: 24, MFNs: []uint32{0}})
}

func TestRuleMFNDumpFramesCoverImageFatal(t *testing.T) {
	// 32×32×4 = 4096: one page only without an offset.
	expectKind(t, mfn(32, 32, 4, 1, 32), v18, dom0, Fatal)
	expectMsg(t, mfn(32, 32, 4, 2, 36), v18, dom0, MFNDump{Width: 32, Height: 32, BPP: 24, Offset: 4, MFNs: []uint32{0, 0}})
}

func TestKindOf(t *testing.T) {
	if KindOf(nil) != 0 || KindOf(io.ErrUnexpectedEOF) != Fatal {
		t.Error("KindOf of nil or a plain error")
	}
	err := &Error{Kind: Verify, Type: MsgCursor, Reason: "x"}
	if KindOf(err) != Verify || err.Error() != "gui protocol MSG_CURSOR (suspicious): x" {
		t.Errorf("%s: %q", KindOf(err), err)
	}
}

// The decoder already bounds the counts; Validate repeats the check so that
// it holds for any UntrustedMFNDump or UntrustedWindowDump value.
func TestRuleCountsRecheckedInValidate(t *testing.T) {
	if _, err := (UntrustedMFNDump{mfns: make([]uint32, MaxGrantRefs+1)}).Validate(dom0); KindOf(err) != Fatal {
		t.Errorf("MFNDUMP with %d MFNs: %v", MaxGrantRefs+1, err)
	}
	if _, err := (UntrustedWindowDump{body: make([]byte, 4*MaxGrantRefs+4)}).Validate(Limits{}); KindOf(err) != Fatal {
		t.Errorf("WINDOW_DUMP with %d refs: %v", MaxGrantRefs+1, err)
	}
}
