package guiproto_test

import (
	"fmt"
	"net"

	"github.com/qube-desktop/qube-desktop/internal/guiproto"
)

// A guid's read loop: decode into untrusted types, validate each in one
// place, and act on the error kind.
func Example() {
	agentConn, guidConn := net.Pipe()
	defer guidConn.Close()
	go func() { // the agent
		defer agentConn.Close()
		if _, _, err := guiproto.AgentHandshake(agentConn, guiproto.ProtocolVersion); err != nil {
			return
		}
		guiproto.WriteMessage(agentConn, 0x400001, guiproto.Create{X: -50000, Y: 10, Width: 640, Height: 480})
		guiproto.WriteMessage(agentConn, 0x400001, guiproto.Cursor{ID: 7})
		guiproto.WriteMessage(agentConn, 0x400001, guiproto.WMName{Title: "bash\x1b[2J"})
		guiproto.WriteMessage(agentConn, 0x400001, guiproto.MFNDump{Width: 1, Height: 1, MFNs: []uint32{1}})
	}()

	v, err := guiproto.DaemonHandshake(guidConn, guiproto.ProtocolVersion, guiproto.NewXConf(1920, 1080, 24))
	if err != nil {
		fmt.Println(err)
		return
	}
	limits := guiproto.Limits{AllowUTF8Titles: true}
	for {
		u, h, err := guiproto.ReadUntrusted(guidConn, v)
		if err != nil {
			fmt.Println("session ends:", err)
			return
		}
		// The guid checks h.Window against its window table with h.Type.WindowRule().
		var m guiproto.Message
		switch u := u.(type) {
		case guiproto.UntrustedCreate:
			m, err = u.Validate(limits)
		case guiproto.UntrustedCursor:
			m, err = u.Validate(limits)
		case guiproto.UntrustedWMName:
			m, err = u.Validate(limits)
		case guiproto.UntrustedMFNDump:
			m, err = u.Validate(limits)
		}
		switch guiproto.KindOf(err) {
		case 0:
			fmt.Printf("%#x %+v\n", h.Window, m)
		case guiproto.Drop, guiproto.Verify:
			fmt.Println("dropped:", err)
		case guiproto.Fatal:
			fmt.Println("session ends:", err)
			return
		}
	}
	// Output:
	// 0x400001 {X:-16384 Y:10 Width:640 Height:480 OverrideRedirect:false}
	// dropped: gui protocol MSG_CURSOR (suspicious): cursor 0x7 is neither 0 nor in 0x100..0x199
	// 0x400001 {Title:bash_[2J}
	// session ends: gui protocol MSG_MFNDUMP (fatal): only a daemon in dom0 maps raw MFNs
}
