package guid

import (
	"bytes"
	"io"
	"log"
	"os"
	"path/filepath"
	"testing"

	"github.com/qube-desktop/qube-desktop/internal/clipboard"
	"github.com/qube-desktop/qube-desktop/internal/guiproto"
	"github.com/qube-desktop/qube-desktop/internal/policy"
)

// FuzzSession feeds an agent's message stream to a session and checks that
// it never panics, never touches a destroyed view (recView panics), and
// leaves no view behind when the session ends.
func FuzzSession(f *testing.F) {
	f.Add(wire(f,
		win, guiproto.Create{X: 10, Y: 20, Width: 300, Height: 200},
		win, guiproto.Configure{X: 10, Y: 20, Width: 300, Height: 200},
		win, regionDump(300, 200, 0),
		win, guiproto.WMClass{Class: "XTerm", Name: "xterm"},
		win, guiproto.MapInfo{},
		win, guiproto.WMName{Title: "bash"},
		win, guiproto.ShmImage{Width: 300, Height: 200},
		win, regionDump(300, 200, 0x40000),
		win, guiproto.WindowFlags{Set: guiproto.FlagFullscreen},
		win, guiproto.Unmap{},
		win, guiproto.Destroy{}))
	f.Add(wire(f,
		win, guiproto.Create{Width: 400, Height: 300},
		win, guiproto.MapInfo{},
		win+1, guiproto.Create{X: 5, Y: 5, Width: 80, Height: 60, OverrideRedirect: true},
		win+1, guiproto.MapInfo{TransientFor: win, OverrideRedirect: true},
		win+2, guiproto.Create{Width: 1000, Height: 800, OverrideRedirect: true},
		win+2, guiproto.MapInfo{TransientFor: win + 1, OverrideRedirect: true},
		win, guiproto.Destroy{},
		win+1, guiproto.ShmImage{Width: 1, Height: 1}))
	f.Add(append(wire(f, win, guiproto.Create{Width: 100, Height: 100}, win, guiproto.MapInfo{}), rawDump(win, 100, 100, 100, 400, 0)...))
	f.Add(wire(f, uint32(1), guiproto.ClipboardData{Data: []byte("x")}, uint32(1), guiproto.Dock{}))
	f.Add(wire(f,
		win, guiproto.Create{Width: 100, Height: 100},
		win, guiproto.MapInfo{},
		win, guiproto.ClipboardData{Data: []byte("copied")},
		win, guiproto.ClipboardData{Data: []byte("unrequested")},
		win, guiproto.ClipboardData{Data: []byte("pasted?")}))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzSession(t, data, nil)
		fuzzSession(t, data, fuzzClipboard(t))
	})
}

// fuzzClipboard is the default hotkeys over a fresh global clipboard and
// the built-in policy (no policy directory).
func fuzzClipboard(t *testing.T) *Clipboard {
	st, err := clipboard.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &Clipboard{Store: st, Copy: clipboard.DefaultCopy, Paste: clipboard.DefaultPaste,
		Policy: policy.ClipboardPaste{Dir: filepath.Join(t.TempDir(), "none")}}
}

// fuzzSession runs one message stream; with a clipboard, copy and paste
// hotkeys are pressed between messages, and clipboard data the session
// did not request must leave the global clipboard as it was.
func fuzzSession(t *testing.T, data []byte, c *Clipboard) {
	d := &recDisplay{outW: 1000, outH: 800}
	s := NewSession(Config{Qube: "fuzz", Clipboard: c}, guiproto.ProtocolVersion, regionSize, d,
		func(uint32, guiproto.Message) {}, log.New(io.Discard, "", 0))
	r := bytes.NewReader(data)
	requested := false
	for i := 0; ; i++ {
		u, h, err := guiproto.ReadUntrusted(r, guiproto.ProtocolVersion)
		if err != nil {
			break
		}
		var before string
		if c != nil && h.Type == guiproto.MsgClipboardData {
			before = globalClipboard(t, c)
		}
		err = s.Handle(u, h)
		if c != nil && h.Type == guiproto.MsgClipboardData {
			if !requested && globalClipboard(t, c) != before {
				t.Fatal("unrequested clipboard data changed the global clipboard")
			}
			requested = false
		}
		if err != nil {
			if !Fatal(err) {
				t.Fatalf("Handle returned a non-fatal error: %v", err)
			}
			break
		}
		switch i % 3 {
		case 0:
			for _, v := range d.views {
				v.release()
			}
			if s.wins[h.Window] != nil {
				requested = c != nil
			}
			s.SecureCopy(h.Window, uint32(i))
		case 1:
			s.Configured(h.Window, 640, 480)
			s.Input(h.Window, guiproto.Focus{Event: guiproto.FocusIn})
		case 2:
			s.StateChanged(h.Window, false, true)
			s.PopupDismissed(h.Window)
			s.SecurePaste(h.Window, uint32(i))
		}
	}
	s.End()
	for _, v := range d.views {
		if !v.destroyed {
			t.Fatalf("view %#x outlived the session", v.spec.ID)
		}
		v.release()
	}
}

// globalClipboard is the global clipboard's source and data.
func globalClipboard(t *testing.T, c *Clipboard) string {
	var b []byte
	for _, name := range []string{clipboard.SourceFile, clipboard.DataFile} {
		f, err := os.ReadFile(filepath.Join(c.Store.Dir(), name))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		b = append(append(b, f...), 0)
	}
	return string(b)
}
