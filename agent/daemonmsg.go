package agent

import (
	"fmt"
	"math"

	"github.com/qube-desktop/qube-desktop/internal/guiproto"
)

// checkFromDaemon adds the agent's own bounds to what guiproto already
// checked in a daemon message, so that no value the X server would choke
// on (or silently wrap) is ever passed to it.
func checkFromDaemon(m guiproto.Message) error {
	inPos := func(x, y int32) bool {
		return x > -guiproto.MaxWindowWidth && x < guiproto.MaxWindowWidth &&
			y > -guiproto.MaxWindowHeight && y < guiproto.MaxWindowHeight
	}
	switch m := m.(type) {
	case guiproto.Keypress:
		if m.Keycode < 8 || m.Keycode > 255 {
			return fmt.Errorf("daemon sent keycode %d, outside X's 8..255", m.Keycode)
		}
		if !inPos(m.X, m.Y) {
			return fmt.Errorf("daemon sent a key event at (%d,%d), off any window", m.X, m.Y)
		}
	case guiproto.Button:
		if m.Button < 1 || m.Button > 255 {
			return fmt.Errorf("daemon sent button %d, outside 1..255", m.Button)
		}
		if !inPos(m.X, m.Y) {
			return fmt.Errorf("daemon sent a button event at (%d,%d), off any window", m.X, m.Y)
		}
	case guiproto.Motion:
		if !inPos(m.X, m.Y) {
			return fmt.Errorf("daemon sent motion to (%d,%d), off any window", m.X, m.Y)
		}
	case guiproto.Crossing:
		if !inPos(m.X, m.Y) {
			return fmt.Errorf("daemon sent a crossing at (%d,%d), off any window", m.X, m.Y)
		}
	case guiproto.Configure:
		if m.Width == 0 || m.Height == 0 || m.Width > guiproto.MaxWindowWidth || m.Height > guiproto.MaxWindowHeight {
			return fmt.Errorf("daemon asked for a %dx%d window, outside 1x1..%dx%d", m.Width, m.Height,
				guiproto.MaxWindowWidth, guiproto.MaxWindowHeight)
		}
		if m.X < math.MinInt16 || m.X > math.MaxInt16 || m.Y < math.MinInt16 || m.Y > math.MaxInt16 {
			return fmt.Errorf("daemon asked for position (%d,%d), outside X's 16-bit coordinates", m.X, m.Y)
		}
	}
	return nil
}
