package gui

import (
	"slices"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

func TestLongOperationShowsProgress(t *testing.T) {
	h := newHarness(t, sampleQubes(3), winSize)
	gate := make(chan struct{})
	h.b.mu.Lock()
	h.b.gate = gate
	h.b.mu.Unlock()
	h.m.selectName("work")
	test.Tap(h.m.buttons["Restart"])
	h.m.selectName("personal")
	test.Tap(h.m.buttons["Start"])
	// The UI keeps working while both calls hang.
	if got := h.m.opLabel.Text; got != "Restarting work… (and 1 more)" || !h.m.progress.Visible() {
		t.Errorf("status shows %q, progress visible %v", got, h.m.progress.Visible())
	}
	h.m.search.SetText("vault")
	if got := h.names(); !slices.Equal(got, []string{"vault"}) {
		t.Errorf("search during the calls shows %v", got)
	}
	close(gate)
	h.ui.until(t, "both calls done", func() bool { return h.m.opLabel.Text == "" })
	if h.m.progress.Visible() {
		t.Error("progress still shown with nothing running")
	}
	got := h.b.Calls()
	slices.Sort(got)
	if want := []string{"Shutdown work wait=true", "Start personal", "Start work"}; !slices.Equal(got, want) {
		t.Errorf("calls %v, want %v", got, want)
	}
}

func TestCloneAndRunDialogs(t *testing.T) {
	h := newHarness(t, sampleQubes(3), winSize)
	fd := h.m.showClone("vault")
	e := h.w.Canvas().Focused().(*widget.Entry)
	if e.Text != "vault-clone" || fd.ok.Disabled() {
		t.Errorf("proposed name %q, Clone disabled %v", e.Text, fd.ok.Disabled())
	}
	e.SetText("")
	test.Type(e, "work")
	if !fd.ok.Disabled() || !shows(h.overlay(), "A qube named work already exists.") {
		t.Errorf("clone to an existing name: message %q", fd.msg.Text)
	}
	test.Type(e, "-2")
	test.Tap(fd.ok)
	h.ui.until(t, "clone", func() bool { return len(h.b.Calls()) == 1 })
	if got := h.b.Calls()[0]; got != "Clone vault work-2" {
		t.Errorf("call %q", got)
	}
	h.ui.until(t, "dialog closed", func() bool { return h.w.Canvas().Overlays().Top() == nil })

	rd := h.m.showRun("work")
	test.Tap(rd.ok)
	h.ui.until(t, "run", func() bool { return len(h.b.Calls()) == 2 })
	if got := h.b.Calls()[1]; got != "Run work xterm" {
		t.Errorf("call %q", got)
	}
}

func TestShutdownInUseOffersForce(t *testing.T) {
	h := newHarness(t, sampleQubes(3), winSize)
	h.b.fail["Shutdown"] = inUse("There are other VMs connected to this VM: work")
	h.m.selectName("sys-net")
	test.Tap(h.m.buttons["Shutdown"])
	h.ui.until(t, "the question", func() bool { return h.w.Canvas().Overlays().Top() != nil })
	want := "There are other VMs connected to this VM: work. Shut it down anyway? The qubes that use it lose their network."
	if !shows(h.overlay(), want) {
		t.Fatalf("dialog shows %v", texts(h.overlay()))
	}
	test.Tap(tappable(h.overlay(), "Force shutdown"))
	h.ui.until(t, "forced shutdown", func() bool { return len(h.b.Calls()) == 2 })
	if got := h.b.Calls(); !slices.Equal(got, []string{"Shutdown sys-net wait=false", "ForceShutdown sys-net wait=false"}) {
		t.Errorf("calls %v", got)
	}
}

type inUse string

func (e inUse) Error() string        { return string(e) }
func (e inUse) Is(target error) bool { return target == ErrInUse }
