package guid

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/qube-desktop/qube-desktop/internal/clipboard"
)

// maxKeymap bounds the keymap text the guid reads from the compositor (a
// full pc+us keymap is about 50 KB).
const maxKeymap = 1 << 20

// keymap maps keysyms to X keycodes as XKeysymToKeycode does over the
// compositor's keymap: the hotkeys name keysyms ("c"), the key events carry
// keycodes. It holds only keysyms a hotkey can name (clipboard.ParseHotkey's
// names), on X keycodes 8..255.
type keymap map[uint32]uint32

// keycodeOf is the lookup Hotkey.Match wants.
func (k keymap) keycodeOf(keysym uint32) (uint32, bool) {
	kc, ok := k[keysym]
	return kc, ok
}

// readKeymap reads the wl_keyboard.keymap file: the text of an
// xkb_keymap (xkb_v1 format), which compositors write with
// xkb_keymap_get_as_string. The descriptor may be shared with other
// clients, so it is read at offset 0 and never seeked.
func readKeymap(f *os.File, size uint32) (keymap, error) {
	if size == 0 || size > maxKeymap {
		return nil, fmt.Errorf("keymap of %d bytes (want 1..%d)", size, maxKeymap)
	}
	b := make([]byte, size)
	n, err := f.ReadAt(b, 0)
	if n < len(b) {
		return nil, fmt.Errorf("keymap: read %d of %d bytes: %w", n, size, err)
	}
	return parseKeymap(b)
}

// parseKeymap reads just enough of an xkb_keymap: the keycodes section
// (<NAME> = code; alias <A> = <B>;) and the symbols section (key <NAME>
// { [ sym, ... ], symbols[GroupN]= [ ... ] };). A keysym produced by
// several keys maps to the one XKeysymToKeycode finds first: the lowest
// shift level, then the lowest group, then the lowest keycode.
func parseKeymap(src []byte) (keymap, error) {
	p := &kmParser{src: src}
	codes := map[string]uint32{}
	var syms []keySyms
	sawKeycodes, sawSymbols := false, false
	for {
		t := p.next()
		switch {
		case t.kind == tokEOF:
			if !sawKeycodes || !sawSymbols {
				return nil, errors.New("keymap has no xkb_keycodes or no xkb_symbols section")
			}
			return resolve(codes, syms), nil
		case t.kind == tokErr:
			return nil, p.err
		case t.is("xkb_keycodes"):
			sawKeycodes = true
			if err := p.section(func() error { return p.keycode(codes) }); err != nil {
				return nil, err
			}
		case t.is("xkb_symbols"):
			sawSymbols = true
			if err := p.section(func() error { return p.symbols(&syms) }); err != nil {
				return nil, err
			}
		}
		// Everything else (xkb_keymap, xkb_types, xkb_compat, braces)
		// is walked through token by token.
	}
}

// keySyms is one key's keysym names by group and level.
type keySyms struct {
	name   string
	groups [][]string
}

type rank struct{ level, group, code uint32 }

func (r rank) less(o rank) bool {
	if r.level != o.level {
		return r.level < o.level
	}
	if r.group != o.group {
		return r.group < o.group
	}
	return r.code < o.code
}

func resolve(codes map[string]uint32, keys []keySyms) keymap {
	best := map[uint32]rank{}
	for _, k := range keys {
		code, ok := codes[k.name]
		if !ok || code < evdevOffset || code > maxX11Keycode {
			continue
		}
		for g, levels := range k.groups {
			for l, name := range levels {
				ks, ok := keysymOf(name)
				if !ok {
					continue
				}
				r := rank{uint32(l), uint32(g), code}
				if old, seen := best[ks]; !seen || r.less(old) {
					best[ks] = r
				}
			}
		}
	}
	km := keymap{}
	for ks, r := range best {
		km[ks] = r.code
	}
	return km
}

// keysymOf reads a keysym name with the hotkey parser, so the keymap and
// the hotkeys agree on names; names it does not know (NoSymbol,
// XF86 keys, ...) cannot be in a hotkey and are skipped.
func keysymOf(name string) (uint32, bool) {
	h, err := clipboard.ParseHotkey(name)
	if err != nil || h.Disabled || h.Mask != 0 {
		return 0, false
	}
	return h.Keysym, true
}

// The tokenizer of the xkb text format, as far as the two sections need.

type tokKind int

const (
	tokEOF tokKind = iota
	tokErr
	tokIdent  // xkb_symbols, key, Shift_L, 0x1008ff12, 38
	tokName   // <AC01>, without the brackets
	tokString // "English (US)", without the quotes
	tokPunct  // { } [ ] ( ) ; , = and any other single byte
)

type token struct {
	kind tokKind
	text string
}

func (t token) is(s string) bool    { return t.kind == tokIdent && t.text == s }
func (t token) punct(c string) bool { return t.kind == tokPunct && t.text == c }
func (t token) String() string      { return strconv.Quote(t.text) }

// identByte: identifiers and numbers (38, 0x1008ff12) are one token kind.
func identByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

type kmParser struct {
	src []byte
	pos int
	err error
}

func (p *kmParser) fail(format string, args ...any) token {
	if p.err == nil {
		p.err = fmt.Errorf("keymap at byte %d: %s", p.pos, fmt.Sprintf(format, args...))
	}
	p.pos = len(p.src)
	return token{kind: tokErr}
}

func (p *kmParser) next() token {
	if p.err != nil {
		return token{kind: tokErr}
	}
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0:
			p.pos++
		case c == '#' || c == '/' && p.pos+1 < len(p.src) && p.src[p.pos+1] == '/':
			for p.pos < len(p.src) && p.src[p.pos] != '\n' {
				p.pos++
			}
		case c == '<':
			end := p.pos + 1
			for end < len(p.src) && p.src[end] != '>' && end-p.pos <= 64 {
				end++
			}
			if end >= len(p.src) || p.src[end] != '>' {
				return p.fail("unterminated key name")
			}
			t := token{tokName, string(p.src[p.pos+1 : end])}
			p.pos = end + 1
			return t
		case c == '"':
			end := p.pos + 1
			for end < len(p.src) && p.src[end] != '"' && p.src[end] != '\n' {
				end++
			}
			if end >= len(p.src) || p.src[end] != '"' {
				return p.fail("unterminated string")
			}
			t := token{tokString, string(p.src[p.pos+1 : end])}
			p.pos = end + 1
			return t
		case identByte(c):
			end := p.pos
			for end < len(p.src) && identByte(p.src[end]) {
				end++
			}
			t := token{tokIdent, string(p.src[p.pos:end])}
			p.pos = end
			return t
		default:
			p.pos++
			return token{tokPunct, string(c)}
		}
	}
	return token{kind: tokEOF}
}

// section reads `["name"] { entries };`, calling entry at the start of
// each entry until the closing brace.
func (p *kmParser) section(entry func() error) error {
	t := p.next()
	if t.kind == tokString {
		t = p.next()
	}
	if !t.punct("{") {
		return p.errOr(fmt.Errorf("keymap: section starts with %v, want {", t))
	}
	for {
		save := p.pos
		t := p.next()
		switch {
		case t.kind == tokEOF || t.kind == tokErr:
			return p.errOr(errors.New("keymap: unterminated section"))
		case t.punct("}"):
			return nil
		case t.punct(";"):
			continue
		}
		p.pos = save
		if err := entry(); err != nil {
			return err
		}
	}
}

func (p *kmParser) errOr(err error) error {
	if p.err != nil {
		return p.err
	}
	return err
}

// skip reads to the end of the current statement: the ';' at nesting
// depth 0 (or the '}' that closes the section, left unread).
func (p *kmParser) skip() error { return p.skipTo(";") }

// skipField skips one field of a key statement: tokens up to a ',' at
// depth 0 (consumed) or the key's closing '}' (left unread).
func (p *kmParser) skipField() error { return p.skipTo(",") }

// skipTo consumes tokens through end at nesting depth 0, or up to a '}'
// at depth 0, which it leaves unread. Every call consumes a token unless
// the next one is that '}', so the loops calling it always progress.
func (p *kmParser) skipTo(end string) error {
	depth := 0
	for {
		save := p.pos
		t := p.next()
		switch {
		case t.kind == tokEOF || t.kind == tokErr:
			return p.errOr(errors.New("keymap: unterminated statement"))
		case t.punct("{") || t.punct("[") || t.punct("("):
			depth++
		case t.punct("}") && depth == 0:
			p.pos = save
			return nil
		case t.punct("}") || t.punct("]") || t.punct(")"):
			depth = max(depth-1, 0) // a stray ']' or ')' at depth 0 is skipped
		case t.punct(end) && depth == 0:
			return nil
		}
	}
}

// keycode reads one statement of xkb_keycodes.
func (p *kmParser) keycode(codes map[string]uint32) error {
	t := p.next()
	switch {
	case t.kind == tokName:
		if !p.next().punct("=") {
			return p.skip()
		}
		v := p.next()
		n, err := strconv.ParseUint(v.text, 0, 32)
		if v.kind != tokIdent || err != nil {
			return p.errOr(fmt.Errorf("keymap: keycode of <%s> is %v", t.text, v))
		}
		codes[t.text] = uint32(n)
	case t.is("alias"):
		a, eq, b := p.next(), p.next(), p.next()
		if a.kind != tokName || !eq.punct("=") || b.kind != tokName {
			return p.errOr(fmt.Errorf("keymap: malformed alias near %v", a))
		}
		if c, ok := codes[b.text]; ok {
			codes[a.text] = c
		}
	}
	return p.skip()
}

// symbols reads one statement of xkb_symbols; only key statements matter.
func (p *kmParser) symbols(keys *[]keySyms) error {
	if !p.next().is("key") {
		return p.skip()
	}
	name := p.next()
	if name.kind != tokName || !p.next().punct("{") {
		return p.errOr(fmt.Errorf("keymap: malformed key statement near %v", name))
	}
	k := keySyms{name: name.text}
	implicit := 0 // bare [ ... ] lists are groups 1, 2, ... in order
	for {
		save := p.pos
		t := p.next()
		switch {
		case t.kind == tokEOF || t.kind == tokErr:
			return p.errOr(errors.New("keymap: unterminated key"))
		case t.punct("}"):
			*keys = append(*keys, k)
			return p.skip()
		case t.punct(","):
		case t.punct("["):
			p.pos = save
			levels, err := p.list()
			if err != nil {
				return err
			}
			k.set(implicit, levels)
			implicit++
		case t.is("symbols"):
			group, err := p.group()
			if err != nil {
				return err
			}
			if !p.next().punct("=") {
				return p.errOr(errors.New("keymap: symbols without ="))
			}
			levels, err := p.list()
			if err != nil {
				return err
			}
			k.set(group, levels)
		default:
			// type=, type[Group1]=, actions[...]= [ SetMods(...) ], vmods=,
			// repeat=, overlay...: up to the next ',' or the key's '}'.
			p.pos = save
			if err := p.skipField(); err != nil {
				return err
			}
		}
	}
}

// maxGroups is XkbNumKbdGroups.
const maxGroups = 4

func (k *keySyms) set(group int, levels []string) {
	if group < 0 || group >= maxGroups {
		return
	}
	for len(k.groups) <= group {
		k.groups = append(k.groups, nil)
	}
	k.groups[group] = levels
}

// group reads "[GroupN]" (N 1..4) and returns N-1.
func (p *kmParser) group() (int, error) {
	open, g, end := p.next(), p.next(), p.next()
	if !open.punct("[") || g.kind != tokIdent || !end.punct("]") {
		return 0, p.errOr(fmt.Errorf("keymap: malformed group near %v", g))
	}
	digits := g.text
	if len(digits) > 5 && (digits[:5] == "Group" || digits[:5] == "group") {
		digits = digits[5:]
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n < 1 || n > maxGroups {
		return 0, p.errOr(fmt.Errorf("keymap: group %v is not Group1..Group%d", g, maxGroups))
	}
	return n - 1, nil
}

// list reads "[ sym, sym, ... ]".
func (p *kmParser) list() ([]string, error) {
	if !p.next().punct("[") {
		return nil, p.errOr(errors.New("keymap: keysym list without ["))
	}
	var out []string
	for {
		t := p.next()
		switch {
		case t.punct("]"):
			return out, nil
		case t.punct(","):
		case t.kind == tokIdent:
			out = append(out, t.text)
		default:
			return nil, p.errOr(fmt.Errorf("keymap: %v in a keysym list", t))
		}
	}
}
