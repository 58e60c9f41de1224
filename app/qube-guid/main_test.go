package main

import (
	"bytes"
	"context"
	"log"
	"strings"
	"testing"
	"time"

	"github.com/qube-desktop/qube-desktop/internal/clipboard"
)

func TestClipboardFlags(t *testing.T) {
	var logs bytes.Buffer
	lg := log.New(&logs, "", 0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")

	dir := t.TempDir()
	c, err := clipFlags{copy: "Ctrl-Shift-c", paste: "none", dir: dir, policyDir: t.TempDir()}.clipboard(ctx, lg)
	if err != nil || c == nil {
		t.Fatalf("clipboard: %v, %v", c, err)
	}
	if c.Copy != clipboard.DefaultCopy || !c.Paste.Disabled || c.Store.Dir() != dir || c.Policy == nil {
		t.Errorf("clipboard %+v", c)
	}
	if c.Notify != nil || !strings.Contains(logs.String(), "no session bus") {
		t.Errorf("without a bus: notify set %v, log %q", c.Notify != nil, logs.String())
	}

	// Both hotkeys off: no clipboard.
	if c, err := (clipFlags{copy: "none", paste: "disable", dir: dir}).clipboard(ctx, lg); c != nil || err != nil {
		t.Errorf("both off: %v, %v", c, err)
	}
	// No directory for the global clipboard: no clipboard, and the log says why.
	t.Setenv("XDG_RUNTIME_DIR", "")
	logs.Reset()
	if c, err := (clipFlags{copy: "Ctrl-Shift-c", paste: "Ctrl-Shift-v"}).clipboard(ctx, lg); c != nil || err != nil ||
		!strings.Contains(logs.String(), "secure copy and paste are off: XDG_RUNTIME_DIR is not set") {
		t.Errorf("without XDG_RUNTIME_DIR: %v, %v, log %q", c, err, logs.String())
	}
	for _, f := range []clipFlags{{copy: "Ctrl-Shift-", paste: "none"}, {copy: "none", paste: "Hyper-v"}} {
		if _, err := f.clipboard(ctx, lg); err == nil || !strings.Contains(err.Error(), "-sequence") {
			t.Errorf("%+v: %v, want an error naming the flag", f, err)
		}
	}
}

func TestEventsMaxDelayFlag(t *testing.T) {
	for v, want := range map[string]time.Duration{"0": 0, "1": time.Millisecond, "250": 250 * time.Millisecond, "5000": 5 * time.Second} {
		if got, err := parseEventsMaxDelay(v); got != want || err != nil {
			t.Errorf("-events-max-delay %s: %v, %v; want %v", v, got, err, want)
		}
	}
	for _, v := range []string{"", "-1", "5001", "1.5", "100ms", "99999999999999999999"} {
		if got, err := parseEventsMaxDelay(v); err == nil || !strings.Contains(err.Error(), "0 (off) to 5000") {
			t.Errorf("-events-max-delay %q: %v, %v; want an error giving the range", v, got, err)
		}
	}
}
