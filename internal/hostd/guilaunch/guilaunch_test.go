package guilaunch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/qube-desktop/qube-desktop/internal/driver"
)

// The copy a qube executes cannot be changed, even by someone holding
// its fd writable (a qube reopening it through /proc).
func TestSealedCopyIsImmutable(t *testing.T) {
	src := filepath.Join(t.TempDir(), "prog")
	if err := os.WriteFile(src, []byte("#!/bin/sh\necho sealed\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := sealedCopy(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := os.OpenFile("/proc/self/fd/"+strconv.Itoa(int(f.Fd())), os.O_RDWR, 0)
	if err == nil {
		_, err = w.WriteAt([]byte("x"), 0)
		w.Close()
	}
	if !errors.Is(err, syscall.EPERM) {
		t.Errorf("writing the sealed copy: %v, want EPERM", err)
	}
	if err := unix.Ftruncate(int(f.Fd()), 1); !errors.Is(err, syscall.EPERM) {
		t.Errorf("truncating the sealed copy: %v, want EPERM", err)
	}
	got, _ := io.ReadAll(io.NewSectionReader(f, 0, 1<<20))
	if string(got) != "#!/bin/sh\necho sealed\n" {
		t.Errorf("copy holds %q", got)
	}
	if _, err := sealedCopy(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("a missing qube-agent was accepted")
	}
}

// The X server's readiness report comes from the qube: only the exact
// display counts, and it must come in time.
func TestWaitReady(t *testing.T) {
	l := &Launcher{cfg: Config{ReadyTimeout: 300 * time.Millisecond, Xvfb: "Xvfb"}}
	for _, c := range []struct {
		write string
		close bool
		ok    bool
	}{
		{"0\n", false, true},
		{"0", true, false},            // EOF before the newline: it died
		{"1\n", false, false},         // another display
		{"00000000000", false, false}, // no newline within the bound
		{"", false, false},            // silence: timeout
	} {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		w.WriteString(c.write)
		if c.close {
			w.Close()
		}
		err = l.waitReady(&qubeGUI{ready: r})
		if (err == nil) != c.ok {
			t.Errorf("X server wrote %q (closed %v): %v", c.write, c.close, err)
		}
		w.Close()
	}
}

// The GUI socket directory is the daemon's alone.
func TestPrivateDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "gui")
	if err := privateDir(dir); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	if err := privateDir(dir); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("mode %v, want 0700", fi.Mode().Perm())
	}
	link := filepath.Join(t.TempDir(), "link")
	os.Symlink(dir, link)
	if err := privateDir(link); err == nil {
		t.Error("a symlink was accepted as the socket directory")
	}
}

// runner starts nothing: enough for the host-side preparation.
type runner struct{}

func (runner) Run(string, []string, driver.RunOptions) (*driver.Process, error) {
	return nil, driver.ErrNotRunning
}

// Services makes a region and a listening socket per start; a qube whose
// start failed gets fresh ones next time, and stopping removes the socket.
func TestServicesAndCleanup(t *testing.T) {
	dir := t.TempDir()
	agent := filepath.Join(dir, "qube-agent")
	os.WriteFile(agent, []byte("agent"), 0o755)
	l, err := New(Config{Runner: runner{}, Agent: agent, Guid: "/bin/true", SocketDir: filepath.Join(dir, "gui"),
		Log: log.New(io.Discard, "", 0)})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	svcs, err := l.Services("work", "blue")
	if err != nil {
		t.Fatal(err)
	}
	if len(svcs) != 1 || svcs[0].Argv[0] != "Xvfb" || len(svcs[0].Files) != 1 ||
		!strings.Contains(strings.Join(svcs[0].Argv, " "), ":0 -displayfd 3 ") {
		t.Fatalf("services %+v", svcs)
	}
	first := l.SocketPath("work")
	if fi, err := os.Lstat(first); err != nil || fi.Mode().Type() != os.ModeSocket {
		t.Fatalf("GUI socket %s: %v", first, err)
	}
	svcs[0].Files[0].Close()
	// A failed start: Services again without QubeStopped.
	svcs, err = l.Services("work", "blue")
	if err != nil {
		t.Fatal(err)
	}
	svcs[0].Files[0].Close()
	second := l.SocketPath("work")
	if _, err := os.Lstat(first); second == first || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("second start reuses %s or left the first socket: %v", second, err)
	}
	l.QubeStopped("work")
	if _, err := os.Lstat(second); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket left after the qube stopped: %v", err)
	}
	if l.SocketPath("work") != "" {
		t.Error("the stopped qube still has a GUI")
	}
}

func TestNewChecks(t *testing.T) {
	dir := t.TempDir()
	for name, cfg := range map[string]Config{
		"no runner":    {Agent: "/bin/true", Guid: "/bin/true", SocketDir: dir},
		"no guid":      {Runner: runner{}, Agent: "/bin/true", Guid: filepath.Join(dir, "nope"), SocketDir: dir},
		"tiny region":  {Runner: runner{}, Agent: "/bin/true", Guid: "/bin/true", SocketDir: dir, RegionSize: 100},
		"no agent":     {Runner: runner{}, Agent: filepath.Join(dir, "nope"), Guid: "/bin/true", SocketDir: dir},
		"no socketdir": {Runner: runner{}, Agent: "/bin/true", Guid: "/bin/true"},
	} {
		if l, err := New(cfg); err == nil {
			l.Close()
			t.Errorf("%s: New succeeded", name)
		}
	}
}

// FuzzReadyReport: any report from the qube gets an answer, never a panic,
// and only the exact display passes.
func FuzzReadyReport(f *testing.F) {
	for _, s := range []string{"0\n", "1\n", "0", "", "00\n", "\n", "0\n0\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := checkReady(b); (err == nil) != (string(b) == "0\n") {
			t.Fatalf("report %q: %v", b, err)
		}
	})
}

// A process that keeps dying is restarted with a doubling, bounded
// backoff, every restart logged; a qube that is gone ends supervision.
func TestSuperviseBackoff(t *testing.T) {
	var logs strings.Builder
	l := &Launcher{cfg: Config{MinBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond, StableAfter: time.Hour},
		log: log.New(&logs, "", 0)}
	runs := 0
	l.supervise(context.Background(), "work", "qube-agent", func() (func() error, error) {
		runs++
		if runs == 6 {
			return nil, driver.ErrNotRunning
		}
		return func() error { return fmt.Errorf("exit code %d", runs) }, nil
	})
	want := "qube-agent of work ended: exit code 1; restarting in 1ms\n" +
		"qube-agent of work ended: exit code 2; restarting in 2ms\n" +
		"qube-agent of work ended: exit code 3; restarting in 4ms\n" +
		"qube-agent of work ended: exit code 4; restarting in 4ms\n" +
		"qube-agent of work ended: exit code 5; restarting in 4ms\n"
	if runs != 6 || logs.String() != want {
		t.Errorf("%d runs, log:\n%s\nwant:\n%s", runs, logs.String(), want)
	}

	// A cancelled context ends it without another start.
	ctx, cancel := context.WithCancel(context.Background())
	runs = 0
	l.supervise(ctx, "work", "qube-guid", func() (func() error, error) {
		runs++
		cancel()
		return func() error { return errors.New("signal: terminated") }, nil
	})
	if runs != 1 {
		t.Errorf("%d starts after the context ended", runs)
	}
}
