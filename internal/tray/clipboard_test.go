package tray

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseClipboardSource(t *testing.T) {
	for _, c := range []struct {
		in, want, err string
	}{
		{"work", "work", ""},
		{"work\n", "work", ""},
		{"", "", ""},
		{"\n", "", ""},
		{"sys-net.2_a", "sys-net.2_a", ""},
		{strings.Repeat("a", 31), strings.Repeat("a", 31), ""},
		{strings.Repeat("a", 32), "", "longer than a qube name"},
		{strings.Repeat("a", 65), "", "longer than 64 bytes"},
		{"work\n\n", "", "not a qube name"},
		{"wo rk", "", "not a qube name"},
		{"-work", "", "start with a letter"},
		{"1work", "", "start with a letter"},
		{"wörk", "", "not a qube name"},
		{"work\x00", "", "not a qube name"},
	} {
		got, err := parseClipboardSource([]byte(c.in))
		if got != c.want || (err == nil) != (c.err == "") || err != nil && !strings.Contains(err.Error(), c.err) {
			t.Errorf("parseClipboardSource(%q) = %q, %v; want %q, error containing %q", c.in, got, err, c.want, c.err)
		}
	}
}

func FuzzParseClipboardSource(f *testing.F) {
	for _, s := range []string{"work", "work\n", "", "a\x00b", "-x", strings.Repeat("z", 70)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := parseClipboardSource(b)
		if err != nil {
			if s != "" {
				t.Fatalf("error %v with a name %q", err, s)
			}
			return
		}
		if len(s) > maxQubeName || strings.ContainsAny(s, " \n\x00/") {
			t.Fatalf("accepted %q from %q", s, b)
		}
	})
}

func TestClipboardFilesStatus(t *testing.T) {
	dir := t.TempDir()
	c := ClipboardFiles{Dir: dir}
	if _, ok, err := c.Status(); ok || err != nil {
		t.Fatalf("no files: ok=%v err=%v", ok, err)
	}
	data := filepath.Join(dir, "qubes-clipboard.bin")
	if err := os.WriteFile(data, make([]byte, 1234), 0o600); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 26, 17, 20, 5, 0, time.UTC)
	if err := os.Chtimes(data, at, at); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(data+".source", []byte("work\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	st, ok, err := c.Status()
	if !ok || err != nil || st.Source != "work" || st.Size != 1234 || !st.Time.Equal(at) {
		t.Fatalf("Status() = %+v, %v, %v", st, ok, err)
	}
	if got := clipboardLabel(st); got != "Clipboard: 1.2 KiB from work at "+at.Local().Format("15:04:05") {
		t.Errorf("label %q", got)
	}
	// Cleared after a paste: .source emptied.
	if err := os.WriteFile(data+".source", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := c.Status(); ok || err != nil {
		t.Fatalf("cleared: ok=%v err=%v", ok, err)
	}
	if err := os.WriteFile(data+".source", []byte("../../etc"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := c.Status(); ok || err == nil {
		t.Fatalf("malformed source: ok=%v err=%v", ok, err)
	}
}

func TestSizeText(t *testing.T) {
	for n, want := range map[int64]string{0: "0 bytes", 1023: "1023 bytes", 1024: "1.0 KiB", 256000: "250.0 KiB", 3 << 20: "3.0 MiB"} {
		if got := sizeText(n); got != want {
			t.Errorf("sizeText(%d) = %q, want %q", n, got, want)
		}
	}
}
