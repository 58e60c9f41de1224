package gui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/qube-desktop/qube-desktop/internal/qube"
)

// fakeQube is one qube of fakeBackend.
type fakeQube struct {
	q        qube.Qube
	internal bool
	disk     int64
	features map[string]string
}

// fakeBackend is an in-memory qubesd for headless tests: it keeps qubes,
// records every call and serves events pushed by the test.
type fakeBackend struct {
	mu        sync.Mutex
	qubes     map[string]*fakeQube
	calls     []string
	events    chan Event
	stats     chan Stat
	breakConn chan error
	fail      map[string]error // method name -> error to return
	gate      chan struct{}    // if set, calls wait until it is closed
}

func newFakeBackend(qs []fakeQube) *fakeBackend {
	f := &fakeBackend{qubes: map[string]*fakeQube{}, events: make(chan Event, 1000), stats: make(chan Stat, 1000),
		breakConn: make(chan error, 1), fail: map[string]error{}}
	for i := range qs {
		q := qs[i]
		f.qubes[q.q.Name] = &q
	}
	return f
}

func (f *fakeBackend) record(format string, args ...any) error {
	f.mu.Lock()
	gate := f.gate
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := fmt.Sprintf(format, args...)
	f.calls = append(f.calls, c)
	method, _, _ := strings.Cut(c, " ")
	return f.fail[method]
}

func (f *fakeBackend) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func (f *fakeBackend) List(context.Context) ([]qube.Qube, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var qs []qube.Qube
	for _, q := range f.qubes {
		qs = append(qs, qube.Qube{Name: q.q.Name, Class: q.q.Class, State: q.q.State})
	}
	return qs, nil
}

func (f *fakeBackend) Details(_ context.Context, name string) (Details, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := f.qubes[name]
	if q == nil {
		return Details{}, fmt.Errorf("no such qube: %s", name)
	}
	props := map[string]qube.Property{}
	for k, v := range q.q.Props {
		props[k] = v
	}
	return Details{Props: props, Internal: q.internal}, nil
}

func (f *fakeBackend) DiskUsage(_ context.Context, name string) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if q := f.qubes[name]; q != nil {
		return q.disk, nil
	}
	return 0, fmt.Errorf("no such qube: %s", name)
}

func (f *fakeBackend) Labels(context.Context) ([]qube.Label, error) { return qube.Labels, nil }

func (f *fakeBackend) Events(ctx context.Context, handle func(Event)) error {
	handle(Event{Name: "connection-established"})
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-f.breakConn:
			return err
		case ev := <-f.events:
			handle(ev)
		}
	}
}

func (f *fakeBackend) Stats(ctx context.Context, handle func(Stat)) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case s := <-f.stats:
			handle(s)
		}
	}
}

func (f *fakeBackend) Start(_ context.Context, n string) error { return f.record("Start %s", n) }
func (f *fakeBackend) Shutdown(_ context.Context, n string, o ShutdownOptions) error {
	if o.Force {
		return f.record("ForceShutdown %s wait=%v", n, o.Wait)
	}
	return f.record("Shutdown %s wait=%v", n, o.Wait)
}
func (f *fakeBackend) Kill(_ context.Context, n string) error    { return f.record("Kill %s", n) }
func (f *fakeBackend) Pause(_ context.Context, n string) error   { return f.record("Pause %s", n) }
func (f *fakeBackend) Unpause(_ context.Context, n string) error { return f.record("Unpause %s", n) }
func (f *fakeBackend) Run(_ context.Context, n, c string) error  { return f.record("Run %s %s", n, c) }
func (f *fakeBackend) SetProperty(_ context.Context, n, p, v string) error {
	return f.record("SetProperty %s %s=%q", n, p, v)
}
func (f *fakeBackend) ResetProperty(_ context.Context, n, p string) error {
	return f.record("ResetProperty %s %s", n, p)
}
func (f *fakeBackend) Features(_ context.Context, n string) (map[string]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := map[string]string{}
	for k, v := range f.qubes[n].features {
		m[k] = v
	}
	return m, nil
}
func (f *fakeBackend) SetFeature(_ context.Context, n, k, v string) error {
	return f.record("SetFeature %s %s=%q", n, k, v)
}
func (f *fakeBackend) RemoveFeature(_ context.Context, n, k string) error {
	return f.record("RemoveFeature %s %s", n, k)
}
func (f *fakeBackend) Create(_ context.Context, r CreateRequest) error {
	if err := f.record("Create %s %s label=%s template=%s", r.Class, r.Name, r.Label, r.Template); err != nil {
		return err
	}
	f.mu.Lock()
	f.qubes[r.Name] = &fakeQube{q: qube.Qube{Name: r.Name, Class: r.Class, State: qube.Halted,
		Props: map[string]qube.Property{"label": {Name: "label", Type: qube.TypeLabel, Value: r.Label}}}}
	f.mu.Unlock()
	f.events <- Event{Name: "domain-add", Args: map[string]string{"vm": r.Name}}
	return nil
}
func (f *fakeBackend) Clone(_ context.Context, s, d string) error {
	return f.record("Clone %s %s", s, d)
}
func (f *fakeBackend) Remove(_ context.Context, n string) error { return f.record("Remove %s", n) }

// prop builds a property.
func prop(name string, t qube.PropType, v string, def bool) qube.Property {
	return qube.Property{Name: name, Type: t, Value: v, Default: def}
}

// sampleQube makes a qube with the properties the table shows.
func sampleQube(name string, class qube.Class, state qube.State, label, template, netvm string) fakeQube {
	props := map[string]qube.Property{
		"label":          prop("label", qube.TypeLabel, label, false),
		"netvm":          prop("netvm", qube.TypeVM, netvm, netvm == "sys-firewall"),
		"memory":         prop("memory", qube.TypeInt, "400", true),
		"maxmem":         prop("maxmem", qube.TypeInt, "4000", true),
		"vcpus":          prop("vcpus", qube.TypeInt, "2", true),
		"autostart":      prop("autostart", qube.TypeBool, "False", true),
		"default_dispvm": prop("default_dispvm", qube.TypeVM, "default-dvm", true),
		"klass":          prop("klass", qube.TypeStr, string(class), true),
	}
	if template != "" {
		props["template"] = prop("template", qube.TypeVM, template, false)
	}
	if netvm != "" {
		props["ip"] = prop("ip", qube.TypeStr, "10.137.0."+fmt.Sprint(len(name)), true)
	}
	return fakeQube{q: qube.Qube{Name: name, Class: class, State: state, Props: props}, disk: int64(len(name)) << 26,
		features: map[string]string{}}
}

// sampleQubes is a realistic desktop: dom0, templates, service qubes and
// n numbered app qubes with every label.
func sampleQubes(n int) []fakeQube {
	qs := []fakeQube{
		sampleQube("dom0", qube.AdminVM, qube.Running, "black", "", ""),
		sampleQube("debian-12", qube.TemplateVM, qube.Halted, "black", "", ""),
		sampleQube("fedora-42", qube.TemplateVM, qube.Running, "black", "", ""),
		sampleQube("sys-net", qube.AppVM, qube.Running, "red", "debian-12", ""),
		sampleQube("sys-firewall", qube.AppVM, qube.Running, "green", "debian-12", "sys-net"),
		sampleQube("work", qube.AppVM, qube.Running, "blue", "fedora-42", "sys-firewall"),
		sampleQube("personal", qube.AppVM, qube.Halted, "yellow", "fedora-42", "sys-firewall"),
		sampleQube("untrusted", qube.AppVM, qube.Paused, "red", "debian-12", "sys-firewall"),
		sampleQube("vault", qube.AppVM, qube.Halted, "black", "debian-12", ""),
		sampleQube("default-dvm", qube.AppVM, qube.Halted, "gray", "debian-12", "sys-firewall"),
		sampleQube("default-mgmt-dvm", qube.AppVM, qube.Halted, "black", "debian-12", ""),
	}
	for _, q := range qs {
		switch q.q.Name {
		case "sys-net", "sys-firewall":
			q.q.Props["provides_network"] = prop("provides_network", qube.TypeBool, "True", false)
		case "default-dvm":
			q.q.Props["template_for_dispvms"] = prop("template_for_dispvms", qube.TypeBool, "True", false)
		}
	}
	qs[len(qs)-1].internal = true
	qs[5].features = map[string]string{"gui": "1", "service.cups": "1"}
	for i := range n {
		l := qube.Labels[i%len(qube.Labels)].Name
		st := qube.Halted
		if i%3 == 0 {
			st = qube.Running
		}
		qs = append(qs, sampleQube(fmt.Sprintf("app-%03d", i), qube.AppVM, st, l, "fedora-42", "sys-firewall"))
	}
	return qs
}

// uiLoop stands in for Fyne's main loop: background goroutines queue UI
// work and the test goroutine runs it, so widgets are touched by one
// goroutine only.
type uiLoop chan func()

func (l uiLoop) do(f func()) { l <- f }

// until runs queued UI work until cond holds.
func (l uiLoop) until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case f := <-l:
			f()
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// drain runs queued UI work until none arrives for a moment.
func (l uiLoop) drain() {
	for {
		select {
		case f := <-l:
			f()
		case <-time.After(50 * time.Millisecond):
			return
		}
	}
}

// harness is a manager in a test window, connected to a fake backend.
type harness struct {
	t  *testing.T
	w  fyne.Window
	m  *Manager
	b  *fakeBackend
	ui uiLoop
}

func newHarness(t *testing.T, qs []fakeQube, size fyne.Size, opts ...func(*Manager)) *harness {
	t.Setenv("LANG", "en_US.UTF-8")
	a := test.NewTempApp(t)
	w := test.NewTempWindow(t, nil)
	b := newFakeBackend(qs)
	h := &harness{t: t, w: w, b: b, ui: make(uiLoop, 10000)}
	h.m = New(w, b, a.Preferences())
	h.m.SetUIRunner(h.ui.do)
	for _, o := range opts {
		o(h.m)
	}
	w.SetContent(h.m.Content())
	w.Resize(size)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	h.m.Run(ctx)
	h.ui.until(t, "connection", func() bool { return h.m.conn == "Connected" })
	h.ui.until(t, "details", func() bool {
		for _, r := range h.m.model.rows {
			if !r.Loaded || r.DiskUsage < 0 {
				return false
			}
		}
		return true
	})
	h.ui.drain()
	return h
}

// objects calls f for every visible object under o.
func objects(o fyne.CanvasObject, f func(fyne.CanvasObject)) {
	if o == nil || !o.Visible() {
		return
	}
	f(o)
	switch x := o.(type) {
	case *fyne.Container:
		for _, c := range x.Objects {
			objects(c, f)
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(x).Objects() {
			objects(c, f)
		}
	}
}

// visibleRows returns the table as the user sees it: one string per row,
// the cells' texts joined by " | ", the label column as the swatch colour.
func (h *harness) visibleRows() []string {
	cells := map[int]map[int]string{}
	objects(h.m.table, func(o fyne.CanvasObject) {
		c, ok := o.(*cell)
		if !ok {
			return
		}
		if cells[c.id.Row] == nil {
			cells[c.id.Row] = map[int]string{}
		}
		txt := c.text.Text
		if Column(c.id.Col) == ColLabel {
			txt = ""
			if c.swatch.Visible() {
				r, g, b, _ := c.swatch.FillColor.RGBA()
				txt = fmt.Sprintf("#%02x%02x%02x", r>>8, g>>8, b>>8)
			}
		}
		cells[c.id.Row][c.id.Col] = txt
	})
	var rows []int
	for r := range cells {
		rows = append(rows, r)
	}
	slices.Sort(rows)
	var out []string
	for _, r := range rows {
		var parts []string
		for c := range int(numColumns) {
			parts = append(parts, cells[r][c])
		}
		out = append(out, strings.Join(parts, " | "))
	}
	return out
}

// names returns the name column of the visible rows.
func (h *harness) names() []string {
	var ns []string
	for _, r := range h.visibleRows() {
		ns = append(ns, strings.Split(r, " | ")[ColName])
	}
	return ns
}

// tappable finds the innermost visible tappable object under o whose
// subtree shows text.
func tappable(o fyne.CanvasObject, text string) fyne.Tappable {
	var found fyne.Tappable
	objects(o, func(x fyne.CanvasObject) {
		t, ok := x.(fyne.Tappable)
		if !ok {
			return
		}
		objects(x, func(y fyne.CanvasObject) {
			if tx, ok := y.(*canvas.Text); ok && tx.Text == text {
				found = t
			}
		})
	})
	return found
}

// texts returns every visible text under o.
func texts(o fyne.CanvasObject) []string {
	var ts []string
	objects(o, func(x fyne.CanvasObject) {
		if tx, ok := x.(*canvas.Text); ok && tx.Text != "" {
			ts = append(ts, tx.Text)
		}
	})
	return ts
}

// overlay is the topmost dialog or menu.
func (h *harness) overlay() fyne.CanvasObject {
	h.t.Helper()
	o := h.w.Canvas().Overlays().Top()
	if o == nil {
		h.t.Fatal("no dialog or menu is open")
	}
	return o
}

// header finds the header button of a column.
func (h *harness) header(c Column) *widget.Button {
	var b *widget.Button
	objects(h.m.table, func(o fyne.CanvasObject) {
		if x, ok := o.(*widget.Button); ok && x.Text == c.String() {
			b = x
		}
	})
	if b == nil {
		h.t.Fatalf("no header for %s", c)
	}
	return b
}

// cellAt returns the visible cell of a qube's row in a column.
func (h *harness) cellAt(name string, col Column) *cell {
	i := h.m.model.Index(name)
	var found *cell
	objects(h.m.table, func(o fyne.CanvasObject) {
		if c, ok := o.(*cell); ok && c.id.Row == i && Column(c.id.Col) == col {
			found = c
		}
	})
	if found == nil {
		h.t.Fatalf("no visible cell for %s", name)
	}
	return found
}
