package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qube-desktop/qube-desktop/internal/adminapi"
	"github.com/qube-desktop/qube-desktop/internal/notify/notifytest"
	"github.com/qube-desktop/qube-desktop/internal/qube"
	"github.com/qube-desktop/qube-desktop/internal/testenv"
)

// TestAgainstQubeHostd runs the tray against the real qube-hostd with its
// example qubes: a qube started through the Admin API appears in the menu
// with a notification, and Kill from the menu stops it.
func TestAgainstQubeHostd(t *testing.T) {
	testenv.NeedCommands(t, "bwrap")
	bus := testenv.StartDBus(t)
	testenv.StartSNIWatcher(t, bus)
	notes, err := notifytest.Serve(bus.Conn(t))
	if err != nil {
		t.Fatal(err)
	}
	host := bus.Conn(t)

	dir := t.TempDir()
	// A root daemon runs qubes as nobody, who must reach the homes.
	os.Chmod(dir, 0o711)
	os.Chmod(filepath.Dir(dir), 0o711)
	hostd := filepath.Join(dir, "qube-hostd")
	if out, err := exec.Command("go", "build", "-o", hostd, "../qube-hostd").CombinedOutput(); err != nil {
		t.Fatalf("go build qube-hostd: %v\n%s", err, out)
	}
	sock := filepath.Join(dir, "run", "qubesd.sock")
	d := exec.Command(hostd, "-socket", sock, "-data", filepath.Join(dir, "data"), "-examples")
	d.Stdout = os.Stderr
	d.Stderr = os.Stderr
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Process.Signal(os.Interrupt); d.Wait() })

	startTray(t, bus, "-socket", sock)
	item := trayItem(t, host)
	labels := func() []string { l, _ := topLabels(t, host, item); return l }
	waitFor(t, "dom0 in the menu", func() bool { return slices.Equal(labels(), []string{"dom0", "---", "Qube Manager"}) })

	c := adminapi.New(adminapi.UnixTransport{Path: sock})
	ctx := context.Background()
	if err := c.Start(ctx, "work"); err != nil {
		t.Fatalf("start work: %v", err)
	}
	waitFor(t, "work in the menu", func() bool {
		l := labels()
		return len(l) == 4 && l[0] == "dom0" && strings.HasPrefix(l[1], "work")
	})
	wantNote := func(body string) {
		t.Helper()
		for deadline := time.After(10 * time.Second); ; {
			select {
			case n := <-notes.C:
				if n.Summary == "Qube Status: work" && n.Body == body {
					return
				}
				t.Logf("notification %+v", n)
			case <-deadline:
				t.Fatalf("no notification %q for work", body)
			}
		}
	}
	wantNote("has started")

	// Kill from work's submenu.
	_, ids := topLabels(t, host, item)
	clickSubmenu(t, host, item, ids[1], "Kill")
	waitFor(t, "work halted", func() bool {
		q, err := c.ListQube(ctx, "work")
		return err == nil && q.State == qube.Halted
	})
	waitFor(t, "work gone from the menu", func() bool { return slices.Equal(labels(), []string{"dom0", "---", "Qube Manager"}) })
	wantNote("has shut down")
}
