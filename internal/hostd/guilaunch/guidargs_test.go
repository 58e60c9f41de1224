package guilaunch

import (
	"bytes"
	"context"
	"io"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// A qube's gui-* features, else dom0's gui-default-* ones, become
// qube-guid's flags; bad values are logged and left out.
func TestGuidArgsFromFeatures(t *testing.T) {
	var logged bytes.Buffer
	l := &Launcher{cfg: Config{AdminSocket: "/run/hostd.sock", ClipboardDir: "/run/user/1/qubes",
		GuidArgs: []string{"-display", "wayland-1"}}, log: log.New(&logged, "", 0)}
	for _, tc := range []struct {
		name      string
		qube, gui map[string]string
		want      []string // the flags after the fixed ones
		logs      []string
	}{{
		name: "none set",
		want: []string{},
	}, {
		name: "qube's own",
		qube: map[string]string{"gui-allow-fullscreen": "1", "gui-allow-utf8-titles": "",
			"gui-secure-copy-sequence": "Mod4-c", "gui-secure-paste-sequence": "none", "gui-max-clipboard-size": "1024",
			"gui-events-max-delay": "250"},
		gui: map[string]string{"gui-default-allow-fullscreen": "", "gui-default-max-clipboard-size": "300",
			"gui-default-events-max-delay": "5000"},
		want: []string{"-allow-fullscreen=true", "-allow-utf8-titles=false",
			"-copy-sequence", "Mod4-c", "-paste-sequence", "none", "-max-clipboard", "1024", "-events-max-delay", "250"},
	}, {
		name: "GUI domain's defaults",
		qube: map[string]string{"gui-default-allow-fullscreen": "1"}, // not read on the qube
		gui: map[string]string{"gui-default-allow-utf8-titles": "1", "gui-default-secure-copy-sequence": "Ctrl-Alt-c",
			"gui-allow-fullscreen": "1", "gui-default-events-max-delay": "0"}, // nor gui-* on the GUI domain
		want: []string{"-allow-utf8-titles=true", "-copy-sequence", "Ctrl-Alt-c", "-events-max-delay", "0"},
	}, {
		name: "invalid values",
		qube: map[string]string{"gui-allow-fullscreen": "maybe", "gui-secure-copy-sequence": "Ctrl-Shift-nosuchkey",
			"gui-max-clipboard-size": "9999999", "gui-secure-paste-sequence": "Ctrl-Shift-v", "gui-events-max-delay": "5001"},
		gui: map[string]string{"gui-default-max-clipboard-size": "300", // the qube's bad value hides it
			"gui-default-events-max-delay": "100"},
		want: []string{"-paste-sequence", "Ctrl-Shift-v"},
		logs: []string{"gui-allow-fullscreen", "gui-secure-copy-sequence", "gui-max-clipboard-size", "gui-events-max-delay"},
	}, {
		name: "invalid GUI domain delay",
		gui:  map[string]string{"gui-default-events-max-delay": "-5"},
		want: []string{},
		logs: []string{"gui-default-events-max-delay (GUI domain)"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			logged.Reset()
			got := l.guidArgs("work", "blue", "/s/work.1.sock", tc.qube, tc.gui)
			fixed := []string{"-qube", "work", "-label", "blue", "-socket", "/s/work.1.sock", "-region-fd", "3",
				"-admin-socket", "/run/hostd.sock", "-clipboard-dir", "/run/user/1/qubes"}
			want := append(append(fixed, tc.want...), "-display", "wayland-1")
			if !slices.Equal(got, want) {
				t.Errorf("argv\n got %q\nwant %q", got, want)
			}
			lines := strings.Count(logged.String(), "\n")
			if lines != len(tc.logs) {
				t.Errorf("%d log lines, want %d:\n%s", lines, len(tc.logs), logged.String())
			}
			for _, f := range tc.logs {
				if !strings.Contains(logged.String(), "work: feature "+f) {
					t.Errorf("no log line for %s:\n%s", f, logged.String())
				}
			}
		})
	}
}

// The launched qube-guid gets the features read when it starts; a
// failed read starts it with its defaults.
func TestStartGuidPassesFeatures(t *testing.T) {
	dir := t.TempDir()
	agent, guid, argv := filepath.Join(dir, "qube-agent"), filepath.Join(dir, "qube-guid"), filepath.Join(dir, "argv")
	os.WriteFile(agent, []byte("agent"), 0o755)
	// The stand-in qube-guid writes its arguments, one a line, and waits.
	script := "#!/bin/sh\nprintf '%s\\n' \"$@\" > " + argv + ".tmp && mv " + argv + ".tmp " + argv + "\nexec sleep 60\n"
	if err := os.WriteFile(guid, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	l, err := New(Config{Runner: runner{}, Agent: agent, Guid: guid, SocketDir: filepath.Join(dir, "gui"),
		Log: log.New(io.Discard, "", 0),
		Features: func(_ context.Context, name string) (map[string]string, map[string]string, error) {
			if name != "work" {
				t.Errorf("features of %q", name)
			}
			return map[string]string{"gui-allow-utf8-titles": "1"},
				map[string]string{"gui-default-max-clipboard-size": "4096"}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	svcs, err := l.Services("work", "blue")
	if err != nil {
		t.Fatal(err)
	}
	svcs[0].Files[0].Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wait, err := l.startGuid(ctx, l.qubes["work"], "blue")
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if got, err = os.ReadFile(argv); err == nil || time.Now().After(deadline) {
			break
		}
	}
	cancel()
	wait()
	args := strings.Split(strings.TrimSuffix(string(got), "\n"), "\n")
	for _, pair := range [][]string{{"-allow-utf8-titles=true"}, {"-max-clipboard", "4096"}, {"-qube", "work"}} {
		if i := slices.Index(args, pair[0]); i < 0 || !slices.Equal(args[i:min(i+len(pair), len(args))], pair) {
			t.Errorf("qube-guid's argv %q lacks %q", args, pair)
		}
	}
}
