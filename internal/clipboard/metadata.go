package clipboard

import (
	"bytes"
	"fmt"
	"strconv"
)

// Metadata is the content of qubes-clipboard.bin.metadata: what the last
// clipboard operation was. qui-clipboard builds its notifications from it.
type Metadata struct {
	VMName           string // copy: the source qube; paste: the target qube
	XEventTimestamp  uint64 // X time of the hotkey press (32-bit in practice)
	Successful       bool
	CopyAction       bool
	PasteAction      bool
	MalformedRequest bool
	OversizedRequest bool
	Cleared          bool
	QrexecClipboard  bool
	SentSize         uint32
	BufferSize       uint32
	ProtocolXSide    uint32
	ProtocolVMSide   uint32
}

// metadataKeys is the order in which qubes-guid writes the keys.
var metadataKeys = [...]string{
	"vmname", "xevent_timestamp", "successful", "copy_action", "paste_action",
	"malformed_request", "oversized_request", "cleared", "qrexec_clipboard",
	"sent_size", "buffer_size", "protocol_version_xside", "protocol_version_vmside",
}

// Marshal returns the file bytes exactly as qubes-guid's
// save_clipboard_metadata writes them: one "key":value per line, booleans
// as 0 or 1, no comma after the last value.
func (m Metadata) Marshal() []byte {
	var b bytes.Buffer
	b.WriteString("{\n")
	for i, k := range metadataKeys {
		b.WriteString(`"` + k + `":`)
		b.WriteString(m.value(k))
		if i < len(metadataKeys)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("}\n")
	return b.Bytes()
}

func (m Metadata) value(k string) string {
	flag := func(v bool) string {
		if v {
			return "1"
		}
		return "0"
	}
	switch k {
	case "vmname":
		return `"` + m.VMName + `"`
	case "xevent_timestamp":
		return strconv.FormatUint(m.XEventTimestamp, 10)
	case "successful":
		return flag(m.Successful)
	case "copy_action":
		return flag(m.CopyAction)
	case "paste_action":
		return flag(m.PasteAction)
	case "malformed_request":
		return flag(m.MalformedRequest)
	case "oversized_request":
		return flag(m.OversizedRequest)
	case "cleared":
		return flag(m.Cleared)
	case "qrexec_clipboard":
		return flag(m.QrexecClipboard)
	case "sent_size":
		return strconv.FormatUint(uint64(m.SentSize), 10)
	case "buffer_size":
		return strconv.FormatUint(uint64(m.BufferSize), 10)
	case "protocol_version_xside":
		return strconv.FormatUint(uint64(m.ProtocolXSide), 10)
	default: // protocol_version_vmside
		return strconv.FormatUint(uint64(m.ProtocolVMSide), 10)
	}
}

// ParseMetadata reads a metadata file at least as strictly as qubes-guid's
// load_clipboard_metadata: lines of at most 255 bytes, each "{", "}", empty,
// or "key":value with an optional trailing comma; keys and values drawn
// from [A-Za-z0-9_-] (a quoted qube name for vmname, which may also hold
// '.'). It is stricter where the daemon is lax: integers are plain
// decimals that fit their field, booleans are 0 or 1, a key appears at
// most once and nothing may follow the value. Unknown keys with integer
// values are skipped, as the daemon does; missing keys stay zero, since
// older writers (qui-clipboard) omit some.
func ParseMetadata(b []byte) (Metadata, error) {
	var m Metadata
	if len(b) > maxMetadataSize {
		return m, fmt.Errorf("clipboard metadata is %d bytes, more than %d", len(b), maxMetadataSize)
	}
	seen := map[string]bool{}
	for n := 1; len(b) > 0; n++ {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return m, fmt.Errorf("clipboard metadata line %d does not end in a newline", n)
		}
		line := b[:i]
		b = b[i+1:]
		if len(line) > maxMetadataLine {
			return m, fmt.Errorf("clipboard metadata line %d is longer than %d bytes", n, maxMetadataLine)
		}
		switch string(line) {
		case "", "{", "}":
			continue
		}
		key, val, err := splitMetadataLine(line)
		if err != nil {
			return m, fmt.Errorf("clipboard metadata line %d: %w", n, err)
		}
		if seen[key] {
			return m, fmt.Errorf("clipboard metadata line %d: key %q given twice", n, key)
		}
		seen[key] = true
		if err := m.set(key, val); err != nil {
			return m, fmt.Errorf("clipboard metadata line %d: %w", n, err)
		}
	}
	return m, nil
}

// splitMetadataLine splits `"key":value` or `"key":value,`.
func splitMetadataLine(line []byte) (key, val string, err error) {
	if len(line) < 4 || line[0] != '"' {
		return "", "", fmt.Errorf("not a \"key\":value line: %q", line)
	}
	end := bytes.IndexByte(line[1:], '"')
	if end < 1 || !isWord(line[1:1+end]) {
		return "", "", fmt.Errorf("bad key in %q", line)
	}
	key = string(line[1 : 1+end])
	rest := line[2+end:]
	if len(rest) < 2 || rest[0] != ':' {
		return "", "", fmt.Errorf("no value for key %q", key)
	}
	rest = bytes.TrimSuffix(rest[1:], []byte(","))
	return key, string(rest), nil
}

func isWord(b []byte) bool {
	for _, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return len(b) > 0
}

func (m *Metadata) set(key, val string) error {
	if key == "vmname" {
		if len(val) < 2 || val[0] != '"' || val[len(val)-1] != '"' {
			return fmt.Errorf("vmname %q is not between double quotes", val)
		}
		name := val[1 : len(val)-1]
		// The daemon writes an empty name when nothing is known.
		if name != "" {
			if err := CheckQubeName(name); err != nil {
				return err
			}
		}
		m.VMName = name
		return nil
	}
	bits := 32
	if key == "xevent_timestamp" {
		bits = 64
	}
	n, err := strconv.ParseUint(val, 10, bits)
	if err != nil {
		return fmt.Errorf("value %q of %s is not a decimal number below 2^%d", val, key, bits)
	}
	flag := func(p *bool) error {
		if n > 1 {
			return fmt.Errorf("value %d of %s is not 0 or 1", n, key)
		}
		*p = n == 1
		return nil
	}
	switch key {
	case "xevent_timestamp":
		m.XEventTimestamp = n
	case "successful":
		return flag(&m.Successful)
	case "copy_action":
		return flag(&m.CopyAction)
	case "paste_action":
		return flag(&m.PasteAction)
	case "malformed_request":
		return flag(&m.MalformedRequest)
	case "oversized_request":
		return flag(&m.OversizedRequest)
	case "cleared":
		return flag(&m.Cleared)
	case "qrexec_clipboard":
		return flag(&m.QrexecClipboard)
	case "sent_size":
		m.SentSize = uint32(n)
	case "buffer_size":
		m.BufferSize = uint32(n)
	case "protocol_version_xside":
		m.ProtocolXSide = uint32(n)
	case "protocol_version_vmside":
		m.ProtocolVMSide = uint32(n)
	}
	return nil
}
