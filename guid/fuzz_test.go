package guid

import (
	"bytes"
	"io"
	"log"
	"testing"

	"github.com/qube-desktop/qube-desktop/internal/guiproto"
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
	f.Fuzz(func(t *testing.T, data []byte) {
		d := &recDisplay{outW: 1000, outH: 800}
		s := NewSession(Config{Qube: "fuzz"}, guiproto.ProtocolVersion, regionSize, d,
			func(uint32, guiproto.Message) {}, log.New(io.Discard, "", 0))
		r := bytes.NewReader(data)
		for i := 0; ; i++ {
			u, h, err := guiproto.ReadUntrusted(r, guiproto.ProtocolVersion)
			if err != nil {
				break
			}
			if err := s.Handle(u, h); err != nil {
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
			case 1:
				s.Configured(h.Window, 640, 480)
				s.Input(h.Window, guiproto.Focus{Event: guiproto.FocusIn})
			case 2:
				s.StateChanged(h.Window, false, true)
				s.PopupDismissed(h.Window)
			}
		}
		s.End()
		for _, v := range d.views {
			if !v.destroyed {
				t.Fatalf("view %#x outlived the session", v.spec.ID)
			}
			v.release()
		}
	})
}
