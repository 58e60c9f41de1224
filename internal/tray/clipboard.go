package tray

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Limits on the clipboard files the tray reads.
const (
	maxSourceFile = 64 // bytes read from qubes-clipboard.bin.source
	maxQubeName   = 31 // qubesd's limit
)

// ClipboardFiles reads the global clipboard's status from the Qubes file
// layout in dir (qubes-clipboard.bin and its .source companion).
type ClipboardFiles struct{ Dir string }

// Status returns the clipboard's status; ok is false when it is empty or
// absent. An unreadable or malformed .source file is an error.
func (c ClipboardFiles) Status() (st ClipboardStatus, ok bool, err error) {
	data := filepath.Join(c.Dir, "qubes-clipboard.bin")
	f, err := os.Open(data + ".source")
	if errors.Is(err, os.ErrNotExist) {
		return st, false, nil
	}
	if err != nil {
		return st, false, err
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxSourceFile+1))
	if err != nil {
		return st, false, err
	}
	src, err := parseClipboardSource(raw)
	if err != nil || src == "" {
		return st, false, err
	}
	fi, err := os.Stat(data)
	if errors.Is(err, os.ErrNotExist) {
		return st, false, nil
	}
	if err != nil {
		return st, false, err
	}
	return ClipboardStatus{Source: src, Size: fi.Size(), Time: fi.ModTime()}, true, nil
}

// parseClipboardSource validates the .source file: a qube name, possibly
// followed by a newline; empty means the clipboard was cleared.
func parseClipboardSource(b []byte) (string, error) {
	if len(b) > maxSourceFile {
		return "", fmt.Errorf("clipboard source file is longer than %d bytes", maxSourceFile)
	}
	s := strings.TrimSuffix(string(b), "\n")
	if s == "" {
		return "", nil
	}
	if len(s) > maxQubeName {
		return "", fmt.Errorf("clipboard source %q is longer than a qube name (%d bytes)", s, maxQubeName)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return "", fmt.Errorf("clipboard source %q is not a qube name: byte %#x at %d", s, c, i)
		}
	}
	if s[0] < 'A' || (s[0] > 'Z' && s[0] < 'a') || s[0] > 'z' {
		return "", fmt.Errorf("clipboard source %q is not a qube name: it must start with a letter", s)
	}
	return s, nil
}
