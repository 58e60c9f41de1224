package agent

import (
	"fmt"

	"github.com/jezek/xgb/xproto"
)

// The agent is the qube's system tray (freedesktop System Tray 0.3 over
// XEmbed): applications dock their icons with it, and it forwards them to
// the daemon with MSG_DOCK, which embeds them into the host's tray.

const (
	trayRequestDock       = 0 // SYSTEM_TRAY_REQUEST_DOCK
	xembedEmbeddedNotify  = 0 // XEMBED_EMBEDDED_NOTIFY
	xembedProtocolVersion = 0
)

// Docked reports that an application asked to dock win as a tray icon.
type Docked struct{ W *Window }

func (Docked) isChange() {}

// becomeTray takes the screen's tray selection and announces it to
// clients waiting for a tray (MANAGER client message on the root).
func (x *X) becomeTray() error {
	c := x.conn
	if err := xproto.SetSelectionOwnerChecked(c, x.stub, x.atoms.traySelection, xproto.TimeCurrentTime).Check(); err != nil {
		return fmt.Errorf("own the system tray selection: %w", err)
	}
	ev := xproto.ClientMessageEvent{Format: 32, Window: x.root, Type: x.atoms.manager,
		Data: xproto.ClientMessageDataUnionData32New([]uint32{0, uint32(x.atoms.traySelection), uint32(x.stub), 0, 0})}
	return xproto.SendEventChecked(c, false, x.root, xproto.EventMaskStructureNotify, string(ev.Bytes())).Check()
}

// trayRequest handles a tray opcode message sent to the agent.
func (x *X) trayRequest(e xproto.ClientMessageEvent) []Change {
	d := e.Data.Data32
	if d[1] != trayRequestDock {
		return nil // balloon messages are not forwarded
	}
	w := x.windows[xproto.Window(d[2])]
	if w == nil || w.Docked || w.Mapped || w.OverrideRedirect {
		return nil
	}
	w.Docked = true
	ev := xproto.ClientMessageEvent{Format: 32, Window: w.ID, Type: x.atoms.xembed,
		Data: xproto.ClientMessageDataUnionData32New([]uint32{0, xembedEmbeddedNotify, 0, uint32(x.stub), xembedProtocolVersion})}
	xproto.SendEvent(x.conn, false, w.ID, xproto.EventMaskNoEvent, string(ev.Bytes()))
	xproto.MapWindow(x.conn, w.ID)
	return []Change{Docked{w}}
}
