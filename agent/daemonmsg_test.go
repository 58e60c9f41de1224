package agent

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/qube-desktop/qube-desktop/internal/guiproto"
)

func encode(t testing.TB, window uint32, ms ...guiproto.Message) []byte {
	var b bytes.Buffer
	for _, m := range ms {
		if err := guiproto.WriteMessage(&b, window, m); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

// readDaemonStream is what the agent's reader does with the daemon's
// bytes: decode with guiproto, then apply the agent's own bounds.
func readDaemonStream(r io.Reader) (n int, err error) {
	for {
		m, _, err := guiproto.ReadFromDaemon(r, guiproto.ProtocolVersion)
		if err != nil {
			return n, err
		}
		if err := checkFromDaemon(m); err != nil {
			return n, err
		}
		n++
	}
}

func TestDaemonBounds(t *testing.T) {
	good := encode(t, 1,
		guiproto.Keypress{Event: guiproto.KeyPress, Keycode: 38},
		guiproto.Button{Event: guiproto.ButtonPress, X: 1, Y: 2, Button: 7},
		guiproto.Configure{X: -5, Y: 5, Width: 800, Height: 600},
		guiproto.KeymapNotify{}, guiproto.ClipboardReq{}, guiproto.WindowDumpAck{})
	if n, err := readDaemonStream(bytes.NewReader(good)); err != io.EOF || n != 6 {
		t.Fatalf("good stream: %d messages, %v", n, err)
	}
	for name, m := range map[string]guiproto.Message{
		"keycode 300":       guiproto.Keypress{Event: guiproto.KeyPress, Keycode: 300},
		"keycode 3":         guiproto.Keypress{Event: guiproto.KeyPress, Keycode: 3},
		"button 0":          guiproto.Button{Event: guiproto.ButtonPress, Button: 0},
		"button 256":        guiproto.Button{Event: guiproto.ButtonPress, Button: 256},
		"far motion":        guiproto.Motion{X: 1 << 30},
		"empty configure":   guiproto.Configure{Width: 0, Height: 10},
		"huge configure":    guiproto.Configure{Width: 1 << 20, Height: 10},
		"configure at 2^20": guiproto.Configure{X: 1 << 20, Width: 10, Height: 10},
	} {
		if _, err := readDaemonStream(bytes.NewReader(encode(t, 1, m))); err == nil || err == io.EOF {
			t.Errorf("%s: accepted", name)
		}
	}
}

// FuzzDaemonStream feeds arbitrary bytes to the agent's reading of the
// daemon: every outcome must be messages or an error, never a panic.
func FuzzDaemonStream(f *testing.F) {
	f.Add(encode(f, 0x200001,
		guiproto.Keypress{Event: guiproto.KeyPress, Keycode: 38},
		guiproto.Motion{X: 3, Y: 4},
		guiproto.Crossing{Event: guiproto.EnterNotify, X: 1, Y: 1},
		guiproto.Focus{Event: guiproto.FocusIn},
		guiproto.Configure{X: 0, Y: 0, Width: 100, Height: 50},
		guiproto.ClipboardData{Data: []byte("paste")},
		guiproto.Close{}, guiproto.Destroy{}, guiproto.WindowFlags{Set: 1}))
	f.Add(encode(f, 1, guiproto.Button{Event: guiproto.ButtonRelease, X: -1, Y: 70000, Button: 4}))
	f.Add([]byte{0x85, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0}) // MSG_UNMAP: only agents send it
	f.Add([]byte{0x8c, 0, 0, 0, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		readDaemonStream(bytes.NewReader(b))
	})
}

func TestTruncateTitle(t *testing.T) {
	short := "a short title"
	if got := truncateTitle(short); got != short {
		t.Errorf("short title changed to %q", got)
	}
	long := ""
	for len(long) < 200 {
		long += "ab€" // 5 bytes, the euro sign 3 of them
	}
	got := truncateTitle(long)
	if len(got) > guiproto.MaxTitleLen || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") {
		t.Fatalf("truncated title %q (%d bytes)", got, len(got))
	}
	if !strings.HasPrefix(long, strings.TrimSuffix(got, "…")) || len(got) < guiproto.MaxTitleLen-5 {
		t.Errorf("truncated title %q is not the longest prefix that fits", got)
	}
}
