package gui

import (
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

var winSize = fyne.NewSize(1180, 640)

func TestTableShowsManyQubes(t *testing.T) {
	h := newHarness(t, sampleQubes(200), winSize)
	total, active := h.m.model.Counts()
	if total != 211 {
		t.Fatalf("model has %d qubes, want 211", total)
	}
	rows := h.visibleRows()
	if len(rows) < 10 || len(rows) > 40 {
		t.Fatalf("%d rows drawn, want one screenful (10..40) of a virtual table", len(rows))
	}
	// Sorted by name; the internal qube default-mgmt-dvm is hidden.
	want := []string{
		"#cc0000 | app-000 | Running | AppVM | fedora-42 | default (sys-firewall) |  |  | 448.0 MiB | 10.137.0.7",
		"#f57900 | app-001 | Halted | AppVM | fedora-42 | default (sys-firewall) |  |  | 448.0 MiB | 10.137.0.7",
	}
	if !slices.Equal(rows[:2], want) {
		t.Errorf("first rows:\n%s\nwant:\n%s", strings.Join(rows[:2], "\n"), strings.Join(want, "\n"))
	}
	if strings.Contains(strings.Join(h.m.model.Names(func(r *Row) bool { return h.m.model.Index(r.Name) >= 0 }), " "), "default-mgmt-dvm") {
		t.Error("internal qube shown although 'Show internal qubes' is off")
	}
	if got := h.m.status.Text; got != "Connected · 211 qubes, 73 running · 210 shown" {
		t.Errorf("status bar %q (active=%d)", got, active)
	}
	test.AssertImageMatches(t, "table.png", h.w.Canvas().Capture())
}

func TestSortByHeader(t *testing.T) {
	h := newHarness(t, sampleQubes(5), fyne.NewSize(1180, 900))
	test.Tap(h.header(ColState))
	got := h.names()
	want := []string{"app-000", "app-003", "dom0", "fedora-42", "sys-firewall", "sys-net", "work", "untrusted",
		"app-001", "app-002", "app-004", "debian-12", "default-dvm", "personal", "vault"}
	if !slices.Equal(got, want) {
		t.Errorf("sorted by state:\n%v\nwant\n%v", got, want)
	}
	if h.header(ColState).Icon == nil {
		t.Error("sorted column shows no arrow")
	}
	test.Tap(h.header(ColState))
	got = h.names()
	if got[0] != "app-001" || got[len(got)-1] != "work" {
		t.Errorf("second tap should put halted qubes first (ties by name), got %v", got)
	}
	// The order is remembered for the next run.
	p := fyne.CurrentApp().Preferences()
	if p.String(prefSortColumn) != "state" || !p.Bool(prefSortDesc) {
		t.Errorf("preferences: sort %q desc=%v", p.String(prefSortColumn), p.Bool(prefSortDesc))
	}
	m2 := New(test.NewTempWindow(t, nil), h.b, p)
	if m2.model.Sort != ColState || !m2.model.Desc {
		t.Error("a new manager did not restore the sort order")
	}
	test.Tap(h.header(ColLabel))
	if got := h.names(); got[0] != "app-000" || got[1] != "sys-net" {
		t.Errorf("by label: red qubes first, got %v", got[:3])
	}
}

func TestFilters(t *testing.T) {
	h := newHarness(t, sampleQubes(5), winSize)
	test.Type(h.m.search, "sys")
	if got := h.names(); !slices.Equal(got, []string{"sys-firewall", "sys-net"}) {
		t.Errorf("search 'sys' shows %v", got)
	}
	h.m.search.SetText("FEDORA")
	if got := h.names(); !slices.Equal(got, []string{"app-000", "app-001", "app-002", "app-003", "app-004", "fedora-42", "personal", "work"}) {
		t.Errorf("search 'FEDORA' (template) shows %v", got)
	}
	h.m.search.SetText("")
	h.m.power.SetSelected("Running")
	if got := h.names(); !slices.Equal(got, []string{"app-000", "app-003", "dom0", "fedora-42", "sys-firewall", "sys-net", "untrusted", "work"}) {
		t.Errorf("Running shows %v", got)
	}
	h.m.power.SetSelected("Halted")
	if got := h.names(); !slices.Equal(got, []string{"app-001", "app-002", "app-004", "debian-12", "default-dvm", "personal", "vault"}) {
		t.Errorf("Halted shows %v", got)
	}
	test.Tap(h.m.internal)
	if got := h.names(); !slices.Contains(got, "default-mgmt-dvm") {
		t.Errorf("Show internal: %v lacks default-mgmt-dvm", got)
	}
	h.m.power.SetSelected("Templates")
	if got := h.names(); !slices.Equal(got, []string{"debian-12", "fedora-42"}) {
		t.Errorf("Templates shows %v", got)
	}
	test.AssertRendersToMarkup(t, "filtered_templates.xml", h.w.Canvas())
}

func TestContextMenuStartsQube(t *testing.T) {
	h := newHarness(t, sampleQubes(3), winSize)
	test.TapSecondary(h.cellAt("personal", ColName))
	menu := h.overlay()
	ts := texts(menu)
	for _, w := range []string{"Start", "Shutdown", "Settings…", "Remove…", "Kill"} {
		if !slices.Contains(ts, w) {
			t.Errorf("context menu lacks %q: %v", w, ts)
		}
	}
	if slices.Contains(ts, "New qube…") {
		t.Error("context menu offers New qube…")
	}
	if h.m.selected != "personal" {
		t.Errorf("right click selected %q", h.m.selected)
	}
	// The whole row is highlighted, not just the clicked cell.
	for c := range numColumns {
		if h.cellAt("personal", c).bg.FillColor == h.cellAt("work", c).bg.FillColor {
			t.Errorf("column %s of the selected row is not highlighted", c)
		}
	}
	test.AssertRendersToMarkup(t, "context_menu.xml", h.w.Canvas())
	// Shutdown applies to running qubes only.
	test.Tap(tappable(menu, "Shutdown"))
	test.Tap(tappable(menu, "Start"))
	h.ui.until(t, "Start call", func() bool { return len(h.b.Calls()) > 0 })
	h.ui.drain()
	if got := h.b.Calls(); !slices.Equal(got, []string{"Start personal"}) {
		t.Errorf("calls %v, want only Start personal", got)
	}
}

func TestKeyboardMovesSelection(t *testing.T) {
	h := newHarness(t, sampleQubes(3), winSize)
	h.w.Canvas().Focus(h.m.table)
	for range 3 {
		h.m.table.TypedKey(&fyne.KeyEvent{Name: fyne.KeyDown})
	}
	if h.m.selected != "app-002" {
		t.Errorf("three Down keys selected %q, want app-002", h.m.selected)
	}
	h.m.table.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEnd})
	if h.m.selected != "work" {
		t.Errorf("End selected %q, want work", h.m.selected)
	}
	if h.m.buttons["Shutdown"].Disabled() || !h.m.buttons["Start"].Disabled() {
		t.Error("toolbar does not follow the selection of a running qube")
	}
	h.m.table.TypedKey(&fyne.KeyEvent{Name: fyne.KeyHome})
	if h.m.selected != "app-000" {
		t.Errorf("Home selected %q", h.m.selected)
	}
}

func TestWindowSizeIsRemembered(t *testing.T) {
	h := newHarness(t, sampleQubes(1), winSize)
	if got := h.m.WindowSize(); got != DefaultWindowSize {
		t.Errorf("first run size %v, want %v", got, DefaultWindowSize)
	}
	h.m.SaveWindowSize(fyne.NewSize(900, 500))
	m2 := New(test.NewTempWindow(t, nil), h.b, fyne.CurrentApp().Preferences())
	if got := m2.WindowSize(); got != fyne.NewSize(900, 500) {
		t.Errorf("restored size %v, want 900x500", got)
	}
}
