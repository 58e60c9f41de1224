package gui

import (
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/qube-desktop/qube-desktop/internal/qube"
)

func TestCreateDialogValidatesAsYouType(t *testing.T) {
	h := newHarness(t, sampleQubes(3), winSize)
	f := h.m.showCreate()
	if !f.ok.Disabled() {
		t.Error("Create is enabled with an empty name")
	}
	for _, c := range []struct{ name, msg string }{
		{"1work", "VM name cannot start with hyphen, underscore, dot or numbers. Start it with a letter (a-z, A-Z)."},
		{"my qube", "VM name contains illegal characters. ' ' is not allowed; use only letters, digits, '-', '_' and '.'."},
		{"work", "A qube named work already exists."},
		{"none", "VM name cannot be 'none' nor 'default'. These words are reserved; pick another name."},
		{"web-dm", "VM name cannot end with -dm. The suffix is reserved for device-model stubdomains; drop or change it."},
	} {
		f.name.SetText("")
		test.Type(f.name, c.name)
		if !shows(h.overlay(), c.msg) {
			t.Errorf("name %q: dialog shows %q, want %q", c.name, f.msg.Text, c.msg)
		}
		if !f.ok.Disabled() {
			t.Errorf("name %q: Create is enabled", c.name)
		}
	}
	f.name.SetText("")
	test.Type(f.name, "banking")
	test.Type(f.memory, "lots")
	if f.msg.Text != "Memory must be a whole number above 0 (MiB)." || !f.ok.Disabled() {
		t.Errorf("memory 'lots': message %q, Create disabled %v", f.msg.Text, f.ok.Disabled())
	}
	f.memory.SetText("800")
	if f.msg.Visible() || f.ok.Disabled() {
		t.Errorf("valid input: message %q shown, Create disabled %v", f.msg.Text, f.ok.Disabled())
	}
	if f.tmpl.Selected != "debian-12" || !slices.Equal(f.tmpl.Options, []string{"debian-12", "fedora-42"}) {
		t.Errorf("template choices %v, selected %q", f.tmpl.Options, f.tmpl.Selected)
	}
	f.class.SetSelected(string(qube.StandaloneVM))
	if !f.tmpl.Disabled() {
		t.Error("template stays enabled for a StandaloneVM")
	}
	f.class.SetSelected(string(qube.AppVM))
	f.label.SetSelected("green")
	f.netv.SetSelected("none")
	test.AssertRendersToMarkup(t, "create_dialog.xml", h.w.Canvas())

	test.Tap(f.ok)
	h.ui.until(t, "the new qube in the table", func() bool { return h.m.model.Index("banking") >= 0 && !f.ok.Disabled() })
	want := []string{`Create AppVM banking label=green template=debian-12`, `SetProperty banking netvm=""`, `SetProperty banking memory="800"`}
	if got := h.b.Calls(); !slices.Equal(got, want) {
		t.Errorf("calls:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if h.w.Canvas().Overlays().Top() != nil {
		t.Error("dialog still open after a successful create")
	}
	if h.m.selected != "banking" {
		t.Errorf("selection %q, want the new qube", h.m.selected)
	}
}

func TestCreateDialogShowsDaemonError(t *testing.T) {
	h := newHarness(t, sampleQubes(3), winSize)
	h.b.fail["Create"] = daemonErr("Label does not exist: pink")
	f := h.m.showCreate()
	test.Type(f.name, "shop")
	test.Tap(f.ok)
	h.ui.until(t, "the error", func() bool { return f.msg.Visible() })
	if f.msg.Text != "Label does not exist: pink." {
		t.Errorf("dialog message %q", f.msg.Text)
	}
	if h.w.Canvas().Overlays().Top() == nil || f.ok.Disabled() {
		t.Error("dialog should stay open with Create enabled for a retry")
	}
	test.AssertRendersToImage(t, "create_dialog_error.png", h.w.Canvas())
}

type daemonErr string

func (e daemonErr) Error() string { return string(e) }

func TestSettingsDialog(t *testing.T) {
	h := newHarness(t, sampleQubes(3), winSize)
	var f *settingsForm
	h.m.openSettings("work", func(s *settingsForm) { f = s })
	h.ui.until(t, "the settings dialog", func() bool { return f != nil })
	if f.label.Selected != "blue" || f.tmpl.Selected != "fedora-42" || f.netvm.Selected != "default (sys-firewall)" ||
		f.dispvm.Selected != "default (default-dvm)" || f.memory.Text != "400" || f.maxmem.Text != "4000" ||
		f.vcpus.Text != "2" || f.autostart.Checked {
		t.Errorf("form shows label=%s template=%s netvm=%s dispvm=%s memory=%s maxmem=%s vcpus=%s autostart=%v",
			f.label.Selected, f.tmpl.Selected, f.netvm.Selected, f.dispvm.Selected, f.memory.Text, f.maxmem.Text, f.vcpus.Text, f.autostart.Checked)
	}
	if !slices.Equal(f.netvm.Options, []string{"default (sys-firewall)", "none", "sys-firewall", "sys-net"}) {
		t.Errorf("net qube choices %v", f.netvm.Options)
	}
	test.AssertRendersToImage(t, "settings_basic.png", h.w.Canvas())

	f.label.SetSelected("purple")
	f.netvm.SetSelected("sys-net")
	f.autostart.SetChecked(true)
	f.tabs.SelectIndex(1)
	f.memory.SetText("")
	f.maxmem.SetText("8000")
	f.tabs.SelectIndex(2)
	if got := texts(f.featList); !slices.Contains(got, "gui = 1") || !slices.Contains(got, "service.cups = 1") {
		t.Errorf("features list shows %v", got)
	}
	test.Type(f.featKey, "gui-allow-fullscreen")
	test.Type(f.featValue, "1")
	test.Tap(tappable(h.overlay(), "Add"))
	// Delete "gui" with the button on its row.
	var del *widget.Button
	objects(f.featList, func(o fyne.CanvasObject) {
		if c, ok := o.(*fyne.Container); ok && len(c.Objects) == 2 {
			if l, ok := c.Objects[0].(*widget.Label); ok && l.Text == "gui = 1" {
				del = c.Objects[1].(*widget.Button)
			}
		}
	})
	if del == nil {
		t.Fatal("no delete button on the gui feature's row")
	}
	test.Tap(del)
	test.AssertRendersToMarkup(t, "settings_features.xml", h.w.Canvas())

	f.vcpus.SetText("many")
	test.Tap(f.ok)
	if f.msg.Text != "VCPUs must be a whole number above 0." || len(h.b.Calls()) != 0 {
		t.Errorf("bad vcpus: message %q, calls %v", f.msg.Text, h.b.Calls())
	}
	f.vcpus.SetText("2")
	test.Tap(f.ok)
	h.ui.until(t, "save", func() bool { return h.w.Canvas().Overlays().Top() == nil })
	want := []string{
		`SetProperty work label="purple"`,
		`SetProperty work netvm="sys-net"`,
		`ResetProperty work memory`,
		`SetProperty work maxmem="8000"`,
		`SetProperty work autostart="True"`,
		`RemoveFeature work gui`,
		`SetFeature work gui-allow-fullscreen="1"`,
	}
	if got := h.b.Calls(); !slices.Equal(got, want) {
		t.Errorf("calls:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestRemoveAsksForTheName(t *testing.T) {
	h := newHarness(t, sampleQubes(3), winSize)
	fd := h.m.confirmRemove("vault")
	if !shows(h.overlay(), `Remove the qube "vault"? Its files are deleted; this cannot be undone. Type vault to confirm.`) {
		t.Errorf("confirmation does not name the qube: %v", texts(h.overlay()))
	}
	if !fd.ok.Disabled() {
		t.Fatal("Remove enabled before the name was typed")
	}
	typed := h.w.Canvas().Focused()
	test.Type(typed, "vaul")
	if !fd.ok.Disabled() {
		t.Error("Remove enabled for a partial name")
	}
	test.Type(typed, "t")
	if fd.ok.Disabled() {
		t.Fatal("Remove still disabled with the name typed")
	}
	test.Tap(fd.ok)
	h.ui.until(t, "remove", func() bool { return len(h.b.Calls()) == 1 })
	if got := h.b.Calls()[0]; got != "Remove vault" {
		t.Errorf("call %q", got)
	}
}

func TestActionErrorIsASentence(t *testing.T) {
	h := newHarness(t, sampleQubes(3), winSize)
	h.b.fail["Start"] = daemonErr("Failed to connect to qmemman: [Errno 2] No such file or directory")
	h.m.selectName("personal")
	test.Tap(h.m.buttons["Start"])
	h.ui.until(t, "the error dialog", func() bool { return h.w.Canvas().Overlays().Top() != nil })
	want := "Could not start personal: Failed to connect to qmemman: [Errno 2] No such file or directory."
	if !shows(h.overlay(), want) {
		t.Errorf("error dialog shows %v, want %q", texts(h.overlay()), want)
	}
}

// shows reports whether the texts under o, joined as wrapped lines read,
// contain s.
func shows(o fyne.CanvasObject, s string) bool {
	return strings.Contains(strings.Join(strings.Fields(strings.Join(texts(o), " ")), " "), s)
}
