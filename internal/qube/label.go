package qube

import (
	"fmt"
	"image/color"
)

// Label is a qube's trust colour. Index is qubesd's label index (1..8 for the
// defaults, 9 and up for custom labels).
type Label struct {
	Index int
	Name  string
	RGB   uint32 // 0xRRGGBB
}

// Color returns the label colour, opaque.
func (l Label) Color() color.RGBA {
	return color.RGBA{R: uint8(l.RGB >> 16), G: uint8(l.RGB >> 8), B: uint8(l.RGB), A: 0xff}
}

// Hex returns the colour the way qubesd writes it: 0xcc0000.
func (l Label) Hex() string { return fmt.Sprintf("0x%06x", l.RGB) }

// Labels is the project's label palette: Qubes' eight default labels with
// their indices and colours. Every part that draws a label colour uses it.
var Labels = []Label{
	{1, "red", 0xcc0000},
	{2, "orange", 0xf57900},
	{3, "yellow", 0xedd400},
	{4, "green", 0x73d216},
	{5, "gray", 0x555555},
	{6, "blue", 0x3465a4},
	{7, "purple", 0x75507b},
	{8, "black", 0x000000},
}

// LabelByName returns the default label with that name.
func LabelByName(name string) (Label, bool) {
	for _, l := range Labels {
		if l.Name == name {
			return l, true
		}
	}
	return Label{}, false
}

// ParseRGB parses a colour as qubesd writes it ("0xcc0000").
func ParseRGB(s string) (uint32, error) {
	var v uint32
	if len(s) != 8 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') {
		return 0, fmt.Errorf("label colour %q is not of the form 0xRRGGBB", s)
	}
	for _, c := range s[2:] {
		var d uint32
		switch {
		case c >= '0' && c <= '9':
			d = uint32(c - '0')
		case c >= 'a' && c <= 'f':
			d = uint32(c-'a') + 10
		case c >= 'A' && c <= 'F':
			d = uint32(c-'A') + 10
		default:
			return 0, fmt.Errorf("label colour %q is not of the form 0xRRGGBB", s)
		}
		v = v<<4 | d
	}
	return v, nil
}
