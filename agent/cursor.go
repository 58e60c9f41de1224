package agent

import (
	"github.com/jezek/xgb/xproto"

	"github.com/qube-desktop/qube-desktop/internal/guiproto"
)

// cursorFont lists X11/cursorfont.h in order: glyph = 2 × index.
var cursorFont = []string{
	"X_cursor", "arrow", "based_arrow_down", "based_arrow_up", "boat", "bogosity",
	"bottom_left_corner", "bottom_right_corner", "bottom_side", "bottom_tee", "box_spiral",
	"center_ptr", "circle", "clock", "coffee_mug", "cross", "cross_reverse", "crosshair",
	"diamond_cross", "dot", "dotbox", "double_arrow", "draft_large", "draft_small", "draped_box",
	"exchange", "fleur", "gobbler", "gumby", "hand1", "hand2", "heart", "icon", "iron_cross",
	"left_ptr", "left_side", "left_tee", "leftbutton", "ll_angle", "lr_angle", "man",
	"middlebutton", "mouse", "pencil", "pirate", "plus", "question_arrow", "right_ptr",
	"right_side", "right_tee", "rightbutton", "rtl_logo", "sailboat", "sb_down_arrow",
	"sb_h_double_arrow", "sb_left_arrow", "sb_right_arrow", "sb_up_arrow", "sb_v_double_arrow",
	"shuttle", "sizing", "spider", "spraycan", "star", "target", "tcross", "top_left_arrow",
	"top_left_corner", "top_right_corner", "top_side", "top_tee", "trek", "ul_angle", "umbrella",
	"ur_angle", "watch", "xterm",
}

// cursorAliases maps the CSS-style names of current cursor themes (as
// GTK and Qt set them) to the nearest cursor-font glyph.
var cursorAliases = map[string]string{
	"default": "left_ptr", "text": "xterm", "pointer": "hand2", "wait": "watch",
	"progress": "watch", "move": "fleur", "grabbing": "fleur", "not-allowed": "X_cursor",
	"help": "question_arrow", "col-resize": "sb_h_double_arrow", "row-resize": "sb_v_double_arrow",
	"ew-resize": "sb_h_double_arrow", "ns-resize": "sb_v_double_arrow",
	"nw-resize": "top_left_corner", "ne-resize": "top_right_corner",
	"sw-resize": "bottom_left_corner", "se-resize": "bottom_right_corner",
	"n-resize": "top_side", "s-resize": "bottom_side", "w-resize": "left_side", "e-resize": "right_side",
}

// CursorChanged reports the cursor the X server now shows, as a Qubes
// cursor ID (guiproto.CursorDefault or CursorX11|glyph).
type CursorChanged struct{ ID uint32 }

func (CursorChanged) isChange() {}

// cursorID maps a cursor name to its Qubes ID; unknown names (and
// unnamed cursors) give the default cursor.
func cursorID(name string) uint32 {
	if a, ok := cursorAliases[name]; ok {
		name = a
	}
	for i, n := range cursorFont {
		if n == name {
			return guiproto.CursorX11 | uint32(2*i)
		}
	}
	return guiproto.CursorDefault
}

func (x *X) cursorName(a xproto.Atom) string {
	if a == 0 {
		return ""
	}
	r, err := xproto.GetAtomName(x.conn, a).Reply()
	if err != nil {
		return ""
	}
	return r.Name
}
