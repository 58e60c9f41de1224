package main

import (
	"context"
	"image"
	"image/color"
	"io"
	"log"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/qube-desktop/qube-desktop/gui"
	"github.com/qube-desktop/qube-desktop/internal/adminapi"
	"github.com/qube-desktop/qube-desktop/internal/driver"
	"github.com/qube-desktop/qube-desktop/internal/driver/sandbox"
	"github.com/qube-desktop/qube-desktop/internal/hostd"
	"github.com/qube-desktop/qube-desktop/internal/qube"
	"github.com/qube-desktop/qube-desktop/internal/store"
	"github.com/qube-desktop/qube-desktop/internal/testenv"
)

// startHostd serves the Admin API from a real qube-hostd on a socket in a
// temporary directory. Its sandbox driver cannot start qubes (bubblewrap
// is /bin/false), so a start fails the way it does on a host without Xen.
func startHostd(t testing.TB) *adminapi.Client {
	t.Helper()
	drv, err := sandbox.New(sandbox.Config{Bwrap: "/bin/false", Init: "/bin/false"})
	if err != nil {
		t.Fatal(err)
	}
	return startHostdWith(t, drv)
}

// startHostdWith serves the Admin API from qube-hostd with a driver.
func startHostdWith(t testing.TB, drv driver.Driver) *adminapi.Client {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "qubesd.sock")
	l, err := hostd.Listen(sock, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	srv := hostd.New(hostd.Config{Store: st, Driver: drv, Log: log.New(io.Discard, "", 0)})
	done := make(chan struct{})
	go func() { srv.Serve(l); close(done) }()
	t.Cleanup(func() { srv.Close(); <-done; st.Close() })
	return adminapi.New(adminapi.UnixTransport{Path: sock})
}

func create(t testing.TB, c *adminapi.Client, class qube.Class, name, label, template string) {
	t.Helper()
	if err := c.Create(context.Background(), adminapi.CreateOptions{Class: class, Name: name, Label: label, Template: template}); err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
}

// uiLoop runs the manager's UI work on the test goroutine.
type uiLoop chan func()

func (l uiLoop) until(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for !cond() {
		// Run everything queued before looking again, as a frame would.
		select {
		case f := <-l:
			f()
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
		for len(l) > 0 {
			(<-l)()
		}
	}
}

// startManager shows a manager for c in a test window; with settingsOf,
// that qube's settings dialog opens once the qubes are loaded.
func startManager(t testing.TB, c *adminapi.Client, settingsOf string) (*gui.Manager, fyne.Window, uiLoop) {
	t.Setenv("LANG", "en_US.UTF-8")
	a := test.NewTempApp(t)
	w := test.NewTempWindow(t, nil)
	m := gui.New(w, backend{c}, a.Preferences())
	ui := make(uiLoop, 100000)
	m.SetUIRunner(func(f func()) { ui <- f })
	w.SetContent(m.Content())
	w.Resize(gui.DefaultWindowSize)
	if settingsOf != "" {
		m.ShowSettingsOnLoad(settingsOf)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	m.Run(ctx)
	return m, w, ui
}

func find[T fyne.CanvasObject](o fyne.CanvasObject, keep func(T) bool) T {
	var found T
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if o == nil || !o.Visible() {
			return
		}
		if x, ok := o.(T); ok && keep(x) {
			found = x
		}
		switch x := o.(type) {
		case *fyne.Container:
			for _, c := range x.Objects {
				walk(c)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(x).Objects() {
				walk(c)
			}
		}
	}
	walk(o)
	return found
}

func button(o fyne.CanvasObject, text string) *widget.Button {
	return find(o, func(b *widget.Button) bool { return b.Text == text })
}

// TestManagerAgainstHostd drives the manager against qube-hostd over its
// socket: a qube created in the UI appears through domain-add, a label set
// elsewhere reaches its row through property-set, and a failed start is
// told in the status bar.
func TestManagerAgainstHostd(t *testing.T) {
	c := startHostd(t)
	create(t, c, qube.TemplateVM, "debian-12", "black", "")
	create(t, c, qube.AppVM, "work", "blue", "debian-12")
	m, w, ui := startManager(t, c, "")
	ui.until(t, "work in the table", func() bool { r := m.RowText("work"); return r != nil && r[gui.ColLabel] == "blue" })

	test.Tap(button(w.Content(), "New"))
	dlg := w.Canvas().Overlays().Top()
	name := find(dlg, func(e *widget.Entry) bool { return e.PlaceHolder == "e.g. work-web" })
	test.Type(name, "shop")
	test.Tap(button(dlg, "Create"))
	ui.until(t, "shop in the table", func() bool { r := m.RowText("shop"); return r != nil && r[gui.ColTemplate] == "debian-12" })
	if r := m.RowText("shop"); r[gui.ColLabel] != "red" || r[gui.ColState] != "Halted" || r[gui.ColClass] != "AppVM" {
		t.Errorf("new qube's row: %q", r)
	}

	if err := c.VMProps("shop").Set(context.Background(), "label", "green"); err != nil {
		t.Fatal(err)
	}
	ui.until(t, "the new label", func() bool { return m.RowText("shop")[gui.ColLabel] == "green" })

	go c.Start(context.Background(), "shop")
	ui.until(t, "the failed start", func() bool { return strings.Contains(m.Status(), "Qube shop failed to start") })
	if s := m.RowText("shop")[gui.ColState]; s != "Halted" {
		t.Errorf("shop is %q after a failed start", s)
	}
	img := w.Canvas().Capture()
	if !hasColour(img, qube.Labels[3].Color()) {
		t.Error("no green label swatch in the window capture")
	}
}

// hasColour reports whether at least a 10x10 swatch's worth of pixels
// have the colour.
func hasColour(img image.Image, want color.RGBA) bool {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if uint8(r>>8) == want.R && uint8(g>>8) == want.G && uint8(bl>>8) == want.B {
				n++
			}
		}
	}
	return n >= 100
}

// TestStartAndShutdownInTheUI starts a qube from the toolbar on qube-hostd
// with the real sandbox driver (bubblewrap) and follows its state through
// admin.Events until it runs and admin.vm.Stats fills its CPU and memory,
// then shuts it down the same way.
func TestStartAndShutdownInTheUI(t *testing.T) {
	testenv.NeedCommands(t, "bwrap")
	drv, err := sandbox.New(sandbox.Config{})
	if err != nil {
		t.Fatal(err)
	}
	c := startHostdWith(t, drv)
	create(t, c, qube.TemplateVM, "debian-12", "black", "")
	create(t, c, qube.AppVM, "work", "blue", "debian-12")
	if err := c.GlobalProps().Set(context.Background(), "stats_interval", "1"); err != nil {
		t.Fatal(err)
	}
	m, w, ui := startManager(t, c, "")
	ui.until(t, "work in the table", func() bool { r := m.RowText("work"); return r != nil && r[gui.ColLabel] == "blue" })
	state := func() string { return m.RowText("work")[gui.ColState] }

	test.Tap(tappableWithText(w.Content(), "work"))
	test.Tap(button(w.Content(), "Start"))
	ui.until(t, "work running", func() bool { return state() == "Running" })
	ui.until(t, "admin.vm.Stats for work", func() bool {
		r := m.RowText("work")
		return strings.HasSuffix(r[gui.ColMemory], " MiB") && strings.HasSuffix(r[gui.ColCPU], " %")
	})
	test.Tap(button(w.Content(), "Shutdown"))
	ui.until(t, "work halted", func() bool { return state() == "Halted" })
	if s := m.Status(); !strings.HasPrefix(s, "Connected · 3 qubes, 1 running") {
		t.Errorf("status bar %q", s)
	}
}

// tappableWithText finds the innermost tappable object showing text.
func tappableWithText(o fyne.CanvasObject, text string) fyne.Tappable {
	var found fyne.Tappable
	find(o, func(w fyne.Widget) bool {
		if t, ok := w.(fyne.Tappable); ok && find(w, func(x *canvas.Text) bool { return x.Text == text }) != nil {
			found = t
		}
		return false
	})
	return found
}
