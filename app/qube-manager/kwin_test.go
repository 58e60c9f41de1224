package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/qube-desktop/qube-desktop/internal/adminapi"
	"github.com/qube-desktop/qube-desktop/internal/driver/sandbox"
	"github.com/qube-desktop/qube-desktop/internal/notify/notifytest"
	"github.com/qube-desktop/qube-desktop/internal/qube"
	"github.com/qube-desktop/qube-desktop/internal/sni"
	"github.com/qube-desktop/qube-desktop/internal/testenv"
)

// TestKWinSession is issue 7's acceptance run: the real manager (GLFW, so
// X11 through KWin's Xwayland) and the real tray in a headless KWin session
// against qube-hostd with its bubblewrap driver. The screen must show every
// label's swatch, the window must carry the class and icon the desktop
// entry expects, and the tray must be registered with KDE's own watcher on
// KWin's session bus. Then, from the keyboard as a user would: create a
// qube in the manager, start it, and see it run in the manager, in the
// tray's menu and in the tray icon's colour, which a test-side tray host
// (no plasmashell here) then puts on the screen. Set SCREENSHOT_DIR to
// keep the pictures; qube-desktop-kwin.png holds manager and tray.
func TestKWinSession(t *testing.T) {
	testenv.NeedCommands(t, "bwrap", "xprop", "xdotool")
	drv, err := sandbox.New(sandbox.Config{})
	if err != nil {
		t.Fatal(err)
	}
	c := startHostdWith(t, drv)
	create(t, c, qube.TemplateVM, "debian-12", "black", "")
	labels := []string{"orange", "green", "blue", "purple"}
	for _, l := range labels {
		create(t, c, qube.AppVM, "work-"+l, l, "debian-12")
	}
	ctx := context.Background()
	if err := c.GlobalProps().Set(ctx, "stats_interval", "1"); err != nil {
		t.Fatal(err)
	}

	kw := testenv.StartKWinXwayland(t, 1280, 800)
	testenv.StartKDEWatcher(t, kw.Bus)
	host := kw.Bus.Conn(t)
	// Plasma's notification server: without one, the tray's first
	// notification would make KWin's bus activate the desktop's own.
	notes, err := notifytest.Serve(kw.Bus.Conn(t))
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	// The manager is this test binary run as main (see TestMain), for the
	// test and for the tray's Settings item alike.
	managerEnv := append(os.Environ(), "DISPLAY="+kw.XDisplay, "WAYLAND_DISPLAY=",
		"DBUS_SESSION_BUS_ADDRESS="+kw.Bus.Address, asMainEnv+"=1", asMainEnv+"_ARGS=-socket"+string(filepath.ListSeparator)+socketOf(c),
		"LIBGL_ALWAYS_SOFTWARE=1", "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "LANG=en_US.UTF-8")
	startTrayIn(t, managerEnv, socketOf(c))
	item := waitTrayItem(t, host)

	startProcess(t, "qube-manager", os.Args[0], managerEnv)

	img := waitScreen(t, kw, "every label swatch", func(img image.Image) bool { return allLabels(img, append(labels, "black")) })
	keep(t, "qube-manager-kwin.png", img)

	// The window is tied to its desktop entry by WM_CLASS and shows the
	// embedded icon.
	desktop, err := os.ReadFile("../../assets/org.qubedesktop.QubeManager.desktop")
	if err != nil {
		t.Fatal(err)
	}
	wmClass := regexp.MustCompile(`(?m)^StartupWMClass=(.*)$`).FindSubmatch(desktop)
	if class := xprop(t, kw.XDisplay, "WM_CLASS"); wmClass == nil || class != `WM_CLASS(STRING) = "Qube Manager", "`+string(wmClass[1])+`"`+"\n" {
		t.Errorf("window class %q does not match the desktop entry's StartupWMClass %q", class, wmClass)
	}
	if icon := xprop(t, kw.XDisplay, "-len", "8", "_NET_WM_ICON"); !strings.Contains(icon, "Icon (256 x 256)") {
		t.Errorf("the manager window does not carry the 256×256 embedded icon: %q", icon)
	}

	// Nothing runs yet: the tray icon is gray and its menu holds dom0 only.
	if px := trayPixmap(t, host, item); hasOpaque(px, colourOf("red")) {
		t.Error("the tray icon is red before any qube runs")
	}
	waitLabels(t, host, item, "the idle menu", func(l []string) bool { return slices.Equal(l, []string{"dom0", "---", "Qube Manager"}) })

	// Create "kwin-new" (default label red) from the keyboard: Ctrl+N, the
	// name, Return.
	xdotool(t, kw.XDisplay, "search", "--sync", "--name", "^Qube Manager$", "windowactivate", "--sync")
	xdotool(t, kw.XDisplay, "key", "ctrl+n")
	// The modal dialog's shadow dims the table: work-orange's swatch loses
	// its exact colour once the dialog, with the name box focused, is up.
	waitScreen(t, kw, "the New qube dialog", func(img image.Image) bool {
		return !slices.ContainsFunc(patches(img, colourOf("orange")), func(p patch) bool { return p.n >= 100 })
	})
	xdotool(t, kw.XDisplay, "type", "--delay", "50", "kwin-new")
	xdotool(t, kw.XDisplay, "key", "Return")
	waitQube(t, c, "kwin-new created from the manager", func(q qube.Qube, err error) bool { return err == nil && q.State == qube.Halted })
	red := colourOf("red")
	waitScreen(t, kw, "kwin-new's row, Halted", func(img image.Image) bool {
		_, halted := stateCells(t, img)
		return hasColour(img, red) && halted
	})

	// The new qube is selected: Shift+F10 opens its menu, whose first item
	// is Start.
	xdotool(t, kw.XDisplay, "key", "shift+F10")
	time.Sleep(500 * time.Millisecond)
	keep(t, "qube-manager-kwin-menu.png", kw.Screenshot(t))
	xdotool(t, kw.XDisplay, "key", "Down", "Return")
	waitQube(t, c, "kwin-new running", func(q qube.Qube, err error) bool { return err == nil && q.State == qube.Running })
	waitLabels(t, host, item, "kwin-new in the tray menu", func(l []string) bool {
		return len(l) == 4 && l[0] == "dom0" && strings.HasPrefix(l[1], "kwin-new")
	})
	for deadline := time.After(30 * time.Second); ; {
		var n notifytest.Received
		select {
		case n = <-notes.C:
		case <-deadline:
			t.Fatal("no notification that kwin-new started")
		}
		if n.Summary == "Qube Status: kwin-new" && n.Body == "has started" {
			break
		}
	}
	var icon image.Image
	until(t, "the tray icon turning kwin-new's red", func() bool { icon = trayPixmap(t, host, item); return hasOpaque(icon, red) })
	// Show it as a panel would: the screen then holds the red cube's left
	// face, a patch far larger than any table swatch.
	showTrayIcon(t, host, kw.XDisplay, icon)
	shot := waitScreen(t, kw, "the tray icon", func(img image.Image) bool {
		return slices.ContainsFunc(patches(img, red), func(p patch) bool { return p.n >= 400 })
	})
	// kwin-new's State cell must come to show what dom0's shows, Running,
	// and differ from debian-12's Halted.
	img = waitScreen(t, kw, "kwin-new Running in the manager", func(img image.Image) bool {
		same, _ := stateCells(t, img)
		return same
	})
	keep(t, "qube-manager-kwin-running.png", img)
	keep(t, "qube-desktop-kwin.png", shot)
	settingsFromTray(t, kw, host, item)
	if err := c.Kill(ctx, "kwin-new"); err != nil {
		t.Errorf("kill kwin-new: %v", err)
	}
}

// stateCells compares the State cell of kwin-new's row with those of the
// rows above it, dom0 (always Running) and debian-12 (Halted), by their
// text pixels; both are false while the screen shows no such table. Rows are found by the swatches: kwin-new's is the only red
// one and work-blue's row follows it. Offsets are the table's column
// widths in Fyne units, at scale 1.
func stateCells(t *testing.T, img image.Image) (likeDom0, likeDebian bool) {
	red, ok1 := swatchCentre(img, colourOf("red"))
	blue, ok2 := swatchCentre(img, colourOf("blue"))
	if !ok1 || !ok2 || blue.Y <= red.Y {
		return false, false
	}
	row := blue.Y - red.Y
	x0, x1 := red.X+64/2+170+4, red.X+64/2+170+96-4
	text := func(y int) []bool {
		var m []bool
		for yy := y - row/3; yy < y+row/3; yy++ {
			for x := x0; x < x1; x++ {
				r, g, b, _ := img.At(x, yy).RGBA()
				m = append(m, (r+g+b)/3 > 0x8000)
			}
		}
		return m
	}
	kwin, dom0, debian := text(red.Y), text(red.Y-row), text(red.Y-2*row)
	diff := func(a, b []bool) int {
		n := 0
		for i := range a {
			if a[i] != b[i] {
				n++
			}
		}
		return n
	}
	// The selected row's lighter background moves a few antialiased edge
	// pixels across the threshold: the match is the much closer cell.
	toDom0, toDebian := diff(kwin, dom0), diff(kwin, debian)
	return 4*toDom0 < toDebian, 4*toDebian < toDom0
}

func colourOf(label string) color.RGBA {
	l, _ := qube.LabelByName(label)
	return l.Color()
}

// swatchCentre is the centre of the lowest patch of exactly one colour at
// least 10×10 large and at most 30×30, a table swatch: the window icon in
// KWin's title bar has label colours too.
func swatchCentre(img image.Image, c color.RGBA) (image.Point, bool) {
	var best image.Point
	found := false
	for _, p := range patches(img, c) {
		if p.n >= 100 && p.box.Dx() <= 30 && p.box.Dy() <= 30 {
			best, found = image.Pt((p.box.Min.X+p.box.Max.X)/2, (p.box.Min.Y+p.box.Max.Y)/2), true
		}
	}
	return best, found
}

type patch struct {
	box image.Rectangle
	n   int // pixels of the colour in box
}

// patches groups the pixels of exactly one colour into patches, top to bottom.
func patches(img image.Image, c color.RGBA) []patch {
	var ps []patch
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if uint8(r>>8) != c.R || uint8(g>>8) != c.G || uint8(bl>>8) != c.B {
				continue
			}
			px := image.Rect(x, y, x+1, y+1)
			i := slices.IndexFunc(ps, func(p patch) bool { return px.Overlaps(p.box.Inset(-2)) })
			if i < 0 {
				ps = append(ps, patch{box: px})
				i = len(ps) - 1
			}
			ps[i].box = ps[i].box.Union(px)
			ps[i].n++
		}
	}
	return ps
}

// settingsFromTray clicks Settings in kwin-new's tray submenu: a second
// manager must open, run as `qube-manager -settings kwin-new` (its
// dialog is TestSettingsOnLoad's matter). The tray starts it in a session
// of its own, so the test ends it.
func settingsFromTray(t *testing.T, kw *testenv.Compositor, host *dbus.Conn, item string) {
	bus, _, _ := strings.Cut(item, "/")
	var rev uint32
	var root, sub trayEntry
	menu := host.Object(bus, sni.MenuPath)
	if err := menu.Call(sni.MenuInterface+".GetLayout", 0, int32(0), int32(2), []string{"label"}).Store(&rev, &root); err != nil {
		t.Fatal(err)
	}
	var settings int32
	for _, v := range root.Children {
		var e trayEntry
		dbus.Store([]any{v.Value()}, &e)
		if l, _ := e.Props["label"].Value().(string); !strings.HasPrefix(l, "kwin-new") {
			continue
		}
		for _, cv := range e.Children {
			dbus.Store([]any{cv.Value()}, &sub)
			if sub.Props["label"].Value() == "Settings" {
				settings = sub.ID
			}
		}
	}
	if settings == 0 {
		t.Fatalf("no Settings item under kwin-new in the tray menu %v", root)
	}
	if err := menu.Call(sni.MenuInterface+".Event", 0, settings, "clicked", dbus.MakeVariant(int32(0)), uint32(0)).Err; err != nil {
		t.Fatalf("click Settings: %v", err)
	}
	var wins []string
	until(t, "a second manager window", func() bool {
		cmd := exec.Command("xdotool", "search", "--onlyvisible", "--name", "^Qube Manager$")
		cmd.Env = append(os.Environ(), "DISPLAY="+kw.XDisplay)
		out, _ := cmd.Output()
		wins = strings.Fields(string(out))
		return len(wins) == 2
	})
	var pids []int
	var settingsWin string
	for _, w := range wins {
		cmd := exec.Command("xdotool", "getwindowpid", w)
		cmd.Env = append(os.Environ(), "DISPLAY="+kw.XDisplay)
		out, err := cmd.Output()
		pid, perr := strconv.Atoi(strings.TrimSpace(string(out)))
		if err != nil || perr != nil {
			t.Fatalf("pid of window %s: %v %v", w, err, perr)
		}
		pids = append(pids, pid)
	}
	found := false
	for i, pid := range pids {
		argv, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			continue
		}
		if args := strings.Split(strings.TrimRight(string(argv), "\x00"), "\x00"); slices.Equal(args[1:], []string{"-settings", "kwin-new"}) {
			found = true
			settingsWin = wins[i]
			t.Cleanup(func() {
				if p, err := os.FindProcess(pid); err == nil {
					p.Kill()
				}
			})
		}
	}
	if !found {
		t.Errorf("no manager window runs with -settings kwin-new (window pids %v)", pids)
	}
	if !found {
		return
	}
	// Loaded, with a modal dialog over the table: Fyne's shadow dims the
	// swatches, so kwin-new's shows as a darker red and never as its own.
	cmd := exec.Command("xdotool", "getwindowgeometry", "--shell", settingsWin)
	cmd.Env = append(os.Environ(), "DISPLAY="+kw.XDisplay)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("geometry of the settings window: %v", err)
	}
	geo := map[string]int{}
	for _, l := range strings.Fields(string(out)) {
		k, v, _ := strings.Cut(l, "=")
		geo[k], _ = strconv.Atoi(v)
	}
	area := image.Rect(geo["X"], geo["Y"], geo["X"]+geo["WIDTH"], geo["Y"]+geo["HEIGHT"])
	red := colourOf("red")
	img := waitScreen(t, kw, "the settings dialog over a loaded table", func(img image.Image) bool {
		win := img.(interface {
			SubImage(image.Rectangle) image.Image
		}).SubImage(area)
		if slices.ContainsFunc(patches(win, red), func(p patch) bool { return p.n >= 100 }) {
			return false
		}
		dim := 0
		b := win.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				r, g, bl, _ := win.At(x, y).RGBA()
				if r>>8 >= 0x40 && r>>8 < uint32(red.R)-0x20 && g>>8 < 0x10 && bl>>8 < 0x10 {
					dim++
				}
			}
		}
		return dim >= 100
	})
	keep(t, "qube-manager-kwin-settings.png", img)
}

// startTrayIn builds and runs qube-tray in the session's environment,
// with this test binary as the manager its Settings item runs.
func startTrayIn(t *testing.T, env []string, socket string) {
	bin := filepath.Join(t.TempDir(), "qube-tray")
	if out, err := exec.Command("go", "build", "-o", bin, "../qube-tray").CombinedOutput(); err != nil {
		t.Fatalf("go build qube-tray: %v\n%s", err, out)
	}
	startProcess(t, "qube-tray", bin, env, "-socket", socket, "-clipboard-dir", t.TempDir(),
		"-settings", os.Args[0]+" -settings")
}

// startProcess runs a program for the rest of the test, its output shown
// if the test fails.
func startProcess(t *testing.T, name, bin string, env []string, args ...string) {
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("%s output:\n%s", name, out.String())
		}
	})
}

func waitTrayItem(t *testing.T, host *dbus.Conn) string {
	var item string
	until(t, "the tray registered with KDE's watcher", func() bool {
		v, err := host.Object(sni.WatcherName, sni.WatcherPath).GetProperty(sni.WatcherInterface + ".RegisteredStatusNotifierItems")
		items, _ := v.Value().([]string)
		if err != nil || len(items) != 1 {
			return false
		}
		item = items[0]
		return true
	})
	return item
}

// trayPixmap is the largest IconPixmap of the tray item as an image.
func trayPixmap(t *testing.T, host *dbus.Conn, item string) image.Image {
	bus, path, _ := strings.Cut(item, "/")
	if path == "" {
		path = string(sni.ItemPath)
	} else {
		path = "/" + path
	}
	v, err := host.Object(bus, dbus.ObjectPath(path)).GetProperty(sni.ItemInterface + ".IconPixmap")
	if err != nil {
		t.Fatalf("IconPixmap: %v", err)
	}
	var pxs []sni.Pixmap
	if err := dbus.Store([]any{v.Value()}, &pxs); err != nil || len(pxs) == 0 {
		t.Fatalf("IconPixmap %v: %v", v, err)
	}
	best := slices.MaxFunc(pxs, func(a, b sni.Pixmap) int { return int(a.Width - b.Width) })
	img := image.NewNRGBA(image.Rect(0, 0, int(best.Width), int(best.Height)))
	if len(best.Data) != len(img.Pix) {
		t.Fatalf("IconPixmap %dx%d with %d bytes", best.Width, best.Height, len(best.Data))
	}
	for i := 0; i < len(best.Data); i += 4 {
		a, r, g, b := best.Data[i], best.Data[i+1], best.Data[i+2], best.Data[i+3]
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = r, g, b, a
	}
	keep(t, "qube-tray-icon.png", img)
	return img
}

// hasOpaque reports whether an opaque pixel has exactly the colour: the
// cube's left face is an unshaded label colour.
func hasOpaque(img image.Image, want color.RGBA) bool {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA); c.A == 0xff && c.R == want.R && c.G == want.G && c.B == want.B {
				return true
			}
		}
	}
	return false
}

type trayEntry struct {
	ID       int32
	Props    map[string]dbus.Variant
	Children []dbus.Variant
}

func waitLabels(t *testing.T, host *dbus.Conn, item, what string, ok func([]string) bool) {
	bus, _, _ := strings.Cut(item, "/")
	var labels []string
	until(t, what, func() bool {
		var rev uint32
		var root trayEntry
		if err := host.Object(bus, sni.MenuPath).Call(sni.MenuInterface+".GetLayout", 0, int32(0), int32(1), []string{"label", "type"}).Store(&rev, &root); err != nil {
			t.Fatalf("GetLayout: %v", err)
		}
		labels = labels[:0]
		for _, v := range root.Children {
			var e trayEntry
			if err := dbus.Store([]any{v.Value()}, &e); err != nil {
				t.Fatal(err)
			}
			l, _ := e.Props["label"].Value().(string)
			if e.Props["type"].Value() == "separator" {
				l = "---"
			}
			labels = append(labels, l)
		}
		return ok(labels)
	})
}

func waitQube(t *testing.T, c *adminapi.Client, what string, ok func(qube.Qube, error) bool) {
	until(t, what, func() bool {
		q, err := c.ListQube(context.Background(), "kwin-new")
		return ok(q, err)
	})
}

func waitScreen(t *testing.T, kw *testenv.Compositor, what string, ok func(image.Image) bool) image.Image {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		img := kw.Screenshot(t)
		if ok(img) {
			return img
		}
		if time.Now().After(deadline) {
			keep(t, "qube-manager-kwin-timeout.png", img)
			t.Fatalf("timed out after 60 s waiting for %s on KWin's screen (SCREENSHOT_DIR keeps the last picture)", what)
		}
	}
}

func until(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !ok(); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after 60 s waiting for %s", what)
		}
	}
}

func xprop(t *testing.T, display string, props ...string) string {
	args := append([]string{"-display", display, "-name", "Qube Manager"}, props...)
	out, err := exec.Command("xprop", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("xprop: %v\n%s", err, out)
	}
	return string(out)
}

func xdotool(t *testing.T, display string, args ...string) {
	cmd := exec.Command("xdotool", args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("xdotool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// keep saves a picture under SCREENSHOT_DIR, if set, for a person to look at.
func keep(t *testing.T, name string, img image.Image) {
	dir := os.Getenv("SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
