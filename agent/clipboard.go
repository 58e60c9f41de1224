package agent

import (
	"encoding/binary"
	"time"
	"unicode/utf8"

	"github.com/jezek/xgb/xproto"
)

// clipboard is the agent's selection state: one conversion of CLIPBOARD in
// flight at a time, and the text the daemon pasted that the agent serves.
type clipboard struct {
	state    int // clipIdle, clipTargets, clipData
	limit    int
	deadline time.Time

	owned []byte // pasted text; served while the agent owns a selection
	owns  int    // number of selections (CLIPBOARD, PRIMARY) still owned
}

const (
	clipIdle = iota
	clipTargets
	clipData
)

// clipTimeout bounds how long a selection owner may take to answer.
const clipTimeout = 2 * time.Second

// incrWarning replaces data that the owner would only send incrementally,
// as the Qubes agent does.
const incrWarning = "Qube clipboard: the selection is too large to copy (INCR transfer)."

// RequestClipboard starts converting CLIPBOARD to text; the result arrives
// as a ClipboardConverted change, at most limit+1 bytes (limit+1 meaning
// "too big"). A request while one is running is ignored.
func (x *X) RequestClipboard(limit int) []Change {
	if x.clip.state != clipIdle {
		return nil
	}
	owner, err := xproto.GetSelectionOwner(x.conn, x.atoms.clipboard).Reply()
	if err != nil || owner.Owner == 0 {
		return []Change{ClipboardConverted{}}
	}
	x.clip.limit = limit
	if owner.Owner == x.stub {
		return []Change{x.clipResult(x.clip.owned)}
	}
	x.clip.state, x.clip.deadline = clipTargets, time.Now().Add(clipTimeout)
	xproto.ConvertSelection(x.conn, x.stub, x.atoms.clipboard, x.atoms.targets, x.atoms.selProp, xproto.TimeCurrentTime)
	return nil
}

// ClipboardDeadline is when a running conversion gives up (zero if none).
func (x *X) ClipboardDeadline() time.Time {
	if x.clip.state == clipIdle {
		return time.Time{}
	}
	return x.clip.deadline
}

// ExpireClipboard ends a conversion whose owner did not answer in time
// with an empty result.
func (x *X) ExpireClipboard(now time.Time) []Change {
	if x.clip.state == clipIdle || now.Before(x.clip.deadline) {
		return nil
	}
	x.clip.state = clipIdle
	return []Change{ClipboardConverted{}}
}

func (x *X) clipResult(data []byte) ClipboardConverted {
	x.clip.state = clipIdle
	if len(data) > x.clip.limit {
		return ClipboardConverted{Data: append([]byte(nil), data[:x.clip.limit+1]...), Truncated: true}
	}
	return ClipboardConverted{Data: append([]byte(nil), data...)}
}

func (x *X) clipNotify(e xproto.SelectionNotifyEvent) []Change {
	if e.Requestor != x.stub || e.Selection != x.atoms.clipboard || x.clip.state == clipIdle {
		return nil
	}
	a := &x.atoms
	if x.clip.state == clipTargets {
		target := a.str // owners that do not answer TARGETS usually still give STRING
		if e.Property != 0 {
			r, _ := xproto.GetProperty(x.conn, true, x.stub, e.Property, xproto.AtomAtom, 0, maxPropLongs).Reply()
			var hasUTF8, hasString bool
			for _, t := range u32s(r) {
				hasUTF8 = hasUTF8 || xproto.Atom(t) == a.utf8String
				hasString = hasString || xproto.Atom(t) == a.str
			}
			switch {
			case hasUTF8:
				target = a.utf8String
			case !hasString:
				return []Change{x.clipResult(nil)}
			}
		}
		x.clip.state = clipData
		xproto.ConvertSelection(x.conn, x.stub, a.clipboard, target, a.selProp, xproto.TimeCurrentTime)
		return nil
	}
	if e.Property == 0 {
		return []Change{x.clipResult(nil)}
	}
	// Read one byte more than the limit, to tell "too big" apart.
	longs := uint32(x.clip.limit/4 + 1)
	r, err := xproto.GetProperty(x.conn, true, x.stub, e.Property, xproto.GetPropertyTypeAny, 0, longs).Reply()
	if err != nil {
		return []Change{x.clipResult(nil)}
	}
	if r.Type == a.incr {
		return []Change{x.clipResult([]byte(incrWarning))}
	}
	if r.Format != 8 {
		return []Change{x.clipResult(nil)}
	}
	if r.BytesAfter > 0 { // more than limit+1 bytes: the rest is not read
		xproto.DeleteProperty(x.conn, x.stub, e.Property)
	}
	return []Change{x.clipResult(r.Value)}
}

// OwnClipboard makes the agent the owner of CLIPBOARD and PRIMARY, serving
// data (pasted by the daemon) as text.
func (x *X) OwnClipboard(data []byte) {
	x.clip.owned = append([]byte(nil), data...)
	x.clip.owns = 2
	xproto.SetSelectionOwner(x.conn, x.stub, x.atoms.clipboard, xproto.TimeCurrentTime)
	xproto.SetSelectionOwner(x.conn, x.stub, xproto.AtomPrimary, xproto.TimeCurrentTime)
}

func (x *X) clipClear(e xproto.SelectionClearEvent) {
	if e.Owner != x.stub || x.clip.owns == 0 {
		return
	}
	if x.clip.owns--; x.clip.owns == 0 {
		clear(x.clip.owned)
		x.clip.owned = nil
	}
}

// clipServe answers another client's request for a selection the agent
// owns. Text that is not valid (ValidText) is served as an empty string.
func (x *X) clipServe(e xproto.SelectionRequestEvent) {
	a := &x.atoms
	prop := e.Property
	if prop == 0 { // obsolete clients
		prop = e.Target
	}
	ok := e.Owner == x.stub && x.clip.owns > 0 && (e.Selection == a.clipboard || e.Selection == xproto.AtomPrimary)
	if ok {
		switch e.Target {
		case a.targets:
			var b []byte
			for _, t := range []xproto.Atom{a.targets, a.utf8String, a.str, a.text} {
				b = binary.LittleEndian.AppendUint32(b, uint32(t))
			}
			xproto.ChangeProperty(x.conn, xproto.PropModeReplace, e.Requestor, prop, xproto.AtomAtom, 32, uint32(len(b)/4), b)
		case a.utf8String, a.str, a.text:
			data := x.clip.owned
			if !ValidText(data) {
				data = nil
			}
			typ := e.Target
			if typ == a.text {
				typ = a.utf8String
			}
			xproto.ChangeProperty(x.conn, xproto.PropModeReplace, e.Requestor, prop, typ, 8, uint32(len(data)), data)
		default:
			ok = false
		}
	}
	if !ok {
		prop = 0
	}
	ev := xproto.SelectionNotifyEvent{Time: e.Time, Requestor: e.Requestor, Selection: e.Selection, Target: e.Target, Property: prop}
	xproto.SendEvent(x.conn, false, e.Requestor, xproto.EventMaskNoEvent, string(ev.Bytes()))
}

// ValidText is the check the Qubes agent makes before handing pasted data
// to an application: printable ASCII, tab, newline, CR only before LF, and
// well-formed UTF-8 multibyte sequences.
func ValidText(b []byte) bool {
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c >= 0x20 && c < 0x7f, c == '\n', c == '\t':
			i++
		case c == '\r':
			if i+1 >= len(b) || b[i+1] != '\n' {
				return false
			}
			i++
		case c >= 0x80:
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError {
				return false
			}
			i += n
		default:
			return false
		}
	}
	return true
}
