package gui

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/qube-desktop/qube-desktop/internal/qube"
)

// formDialog is a dialog whose confirm button runs a backend call: it stays
// open while the call runs and shows the daemon's error inside itself, so
// the user can fix the input and retry.
type formDialog struct {
	m      *Manager
	d      dialog.Dialog
	ok     *widget.Button
	cancel *widget.Button
	msg    *widget.Label // validation or daemon error
	busy   *widget.ProgressBarInfinite
	size   fyne.Size
}

// show opens the dialog at a size; height 0 means as tall as it needs.
func (fd *formDialog) show(size fyne.Size) {
	fd.size = size
	fd.d.Resize(size)
	fd.d.Show()
}

func (m *Manager) newFormDialog(title, okText string, body fyne.CanvasObject, onOK func()) *formDialog {
	fd := &formDialog{m: m, msg: widget.NewLabel(""), busy: widget.NewProgressBarInfinite()}
	fd.msg.Importance = widget.DangerImportance
	fd.msg.Wrapping = fyne.TextWrapWord
	fd.msg.Hide()
	fd.busy.Stop()
	fd.busy.Hide()
	fd.ok = widget.NewButtonWithIcon(okText, theme.ConfirmIcon(), onOK)
	fd.ok.Importance = widget.HighImportance
	fd.cancel = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), func() { fd.d.Hide() })
	buttons := container.NewHBox(layout.NewSpacer(), fd.cancel, fd.ok)
	fd.d = dialog.NewCustomWithoutButtons(title, container.NewVBox(body, fd.msg, fd.busy, buttons), m.win)
	return fd
}

// setMessage shows a sentence under the form, or hides it when empty.
func (fd *formDialog) setMessage(s string) {
	if s == fd.msg.Text && (s != "") == fd.msg.Visible() {
		return
	}
	fd.msg.SetText(s)
	if s == "" {
		fd.msg.Hide()
	} else {
		fd.msg.Show()
	}
	// The dialog does not grow or shrink with its content by itself.
	fd.d.Resize(fd.size)
}

// submit runs f in the background; on success the dialog closes and then
// runs, on failure the error is shown in the dialog.
func (fd *formDialog) submit(what string, f func(ctx context.Context) error, then func()) {
	fd.ok.Disable()
	fd.setMessage("")
	fd.busy.Show()
	fd.busy.Start()
	fd.d.Resize(fd.size)
	fd.m.do(what, f, func(err error) {
		fd.busy.Stop()
		fd.busy.Hide()
		fd.d.Resize(fd.size)
		fd.ok.Enable()
		if err != nil {
			fd.setMessage(sentence(err.Error()))
			return
		}
		fd.d.Hide()
		if then != nil {
			then()
		}
	})
}

// nameProblem is the live verdict on a new qube name, as a sentence, or "".
func (m *Manager) nameProblem(name string) string {
	if name == "" {
		return "Give the qube a name."
	}
	var ne *qube.NameError
	if err := qube.ValidateName(name); errors.As(err, &ne) {
		return sentence(ne.Reason) + " " + sentence(ne.Hint)
	} else if err != nil {
		return sentence(err.Error())
	}
	if m.model.Get(name) != nil {
		return fmt.Sprintf("A qube named %s already exists.", name)
	}
	return ""
}

// creatableClasses are the classes the create dialog offers.
var creatableClasses = []string{string(qube.AppVM), string(qube.TemplateVM), string(qube.StandaloneVM), string(qube.DispVM)}

const (
	choiceDefault = "default"
	choiceNone    = "none"
)

func (m *Manager) templates() []string {
	return m.model.Names(func(r *Row) bool { return r.Class == qube.TemplateVM })
}

func (m *Manager) dispvmTemplates() []string {
	return m.model.Names(func(r *Row) bool { return r.Prop("template_for_dispvms") == "True" })
}

func (m *Manager) netQubes() []string {
	return m.model.Names(func(r *Row) bool { return r.Prop("provides_network") == "True" })
}

func (m *Manager) labelNames() []string {
	var ns []string
	for _, l := range m.model.Labels() {
		ns = append(ns, l.Name)
	}
	return ns
}

// parseMiB reads an optional positive size; empty means "keep the default".
func parseMiB(s, what string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%s must be a whole number above 0 (MiB)", what)
	}
	return n, nil
}

// createForm holds the create dialog's widgets so tests can drive them.
type createForm struct {
	*formDialog
	name, memory             *widget.Entry
	label, class, tmpl, netv *widget.Select
}

func (m *Manager) showCreate() *createForm {
	f := &createForm{name: widget.NewEntry(), memory: widget.NewEntry()}
	f.name.SetPlaceHolder("e.g. work-web")
	f.memory.SetPlaceHolder("default")
	f.label = widget.NewSelect(m.labelNames(), nil)
	f.label.SetSelected("red")
	f.tmpl = widget.NewSelect(nil, nil)
	f.netv = widget.NewSelect(append([]string{choiceDefault, choiceNone}, m.netQubes()...), nil)
	f.netv.SetSelected(choiceDefault)
	f.class = widget.NewSelect(creatableClasses, func(c string) {
		switch qube.Class(c) {
		case qube.AppVM:
			f.tmpl.SetOptions(m.templates())
		case qube.DispVM:
			f.tmpl.SetOptions(m.dispvmTemplates())
		default:
			f.tmpl.SetOptions(nil)
		}
		if len(f.tmpl.Options) > 0 {
			f.tmpl.SetSelectedIndex(0)
			f.tmpl.Enable()
		} else {
			f.tmpl.ClearSelected()
			f.tmpl.Disable()
		}
	})
	form := widget.NewForm(
		widget.NewFormItem("Name", f.name),
		widget.NewFormItem("Label", f.label),
		widget.NewFormItem("Class", f.class),
		widget.NewFormItem("Template", f.tmpl),
		widget.NewFormItem("Net qube", f.netv),
		widget.NewFormItem("Memory (MiB)", f.memory),
	)
	f.formDialog = m.newFormDialog("New qube", "Create", form, f.submit)
	f.class.SetSelected(string(qube.AppVM))
	validate := func(string) { f.validate() }
	f.name.OnChanged = validate
	f.memory.OnChanged = validate
	f.name.OnSubmitted = func(string) { f.submit() }
	f.validate()
	f.show(fyne.NewSize(460, 0))
	m.win.Canvas().Focus(f.name)
	return f
}

// validate shows what is wrong with the input as the user types and
// enables Create only when nothing is.
func (f *createForm) validate() bool {
	msg := ""
	if f.name.Text != "" {
		msg = f.m.nameProblem(f.name.Text)
	}
	if _, err := parseMiB(f.memory.Text, "Memory"); err != nil && msg == "" {
		msg = sentence(err.Error())
	}
	f.setMessage(msg)
	ok := msg == "" && f.name.Text != ""
	if ok {
		f.ok.Enable()
	} else {
		f.ok.Disable()
	}
	return ok
}

func (f *createForm) submit() {
	if !f.validate() {
		return
	}
	m := f.m
	req := CreateRequest{Name: f.name.Text, Class: qube.Class(f.class.Selected), Label: f.label.Selected, Template: f.tmpl.Selected}
	mem, _ := parseMiB(f.memory.Text, "Memory")
	netvm := f.netv.Selected
	f.formDialog.submit("Creating "+req.Name+"…", func(ctx context.Context) error {
		if err := m.backend.Create(ctx, req); err != nil {
			return err
		}
		if netvm != choiceDefault {
			v := netvm
			if v == choiceNone {
				v = ""
			}
			if err := m.backend.SetProperty(ctx, req.Name, "netvm", v); err != nil {
				return fmt.Errorf("the qube %s was created, but its net qube could not be set: %w", req.Name, err)
			}
		}
		if mem > 0 {
			if err := m.backend.SetProperty(ctx, req.Name, "memory", strconv.Itoa(mem)); err != nil {
				return fmt.Errorf("the qube %s was created, but its memory could not be set: %w", req.Name, err)
			}
		}
		return nil
	}, func() { m.selectName(req.Name) })
}

// selectName selects a qube once it shows up (its domain-add may come later).
func (m *Manager) selectName(name string) {
	if i := m.model.Index(name); i >= 0 {
		m.selectRow(i)
	} else {
		m.selected = name
	}
}

func (m *Manager) showClone(src string) *formDialog {
	name := widget.NewEntry()
	name.SetText(src + "-clone")
	var fd *formDialog
	check := func(string) {
		p := m.nameProblem(name.Text)
		fd.setMessage(p)
		if p == "" {
			fd.ok.Enable()
		} else {
			fd.ok.Disable()
		}
	}
	run := func() {
		if m.nameProblem(name.Text) != "" {
			return
		}
		dst := name.Text
		fd.submit(fmt.Sprintf("Cloning %s to %s…", src, dst), func(ctx context.Context) error {
			return m.backend.Clone(ctx, src, dst)
		}, func() { m.selectName(dst) })
	}
	fd = m.newFormDialog("Clone "+src, "Clone", widget.NewForm(widget.NewFormItem("New name", name)), run)
	name.OnChanged = check
	name.OnSubmitted = func(string) { run() }
	check("")
	fd.show(fyne.NewSize(420, 0))
	m.win.Canvas().Focus(name)
	return fd
}

func (m *Manager) showRun(q string) *formDialog {
	cmd := widget.NewEntry()
	cmd.SetText(TerminalCommand)
	var fd *formDialog
	run := func() {
		c := strings.TrimSpace(cmd.Text)
		if c == "" {
			fd.setMessage("Type a command to run.")
			return
		}
		fd.submit(fmt.Sprintf("Running %s in %s…", c, q), func(ctx context.Context) error {
			return m.backend.Run(ctx, q, c)
		}, nil)
	}
	fd = m.newFormDialog("Run a command in "+q, "Run", widget.NewForm(widget.NewFormItem("Command", cmd)), run)
	cmd.OnSubmitted = func(string) { run() }
	fd.show(fyne.NewSize(420, 0))
	m.win.Canvas().Focus(cmd)
	return fd
}

// confirmRemove asks the user to type the qube's name before removing it,
// as Qube Manager does: removal deletes the qube's files.
func (m *Manager) confirmRemove(q string) *formDialog {
	typed := widget.NewEntry()
	typed.SetPlaceHolder(q)
	text := widget.NewLabel(fmt.Sprintf("Remove the qube %q? Its files are deleted; this cannot be undone.\nType %s to confirm.", q, q))
	text.Wrapping = fyne.TextWrapWord
	var fd *formDialog
	run := func() {
		if typed.Text != q {
			return
		}
		fd.submit("Removing "+q+"…", func(ctx context.Context) error { return m.backend.Remove(ctx, q) }, nil)
	}
	fd = m.newFormDialog("Remove "+q, "Remove", container.NewVBox(text, typed), run)
	fd.ok.Importance = widget.DangerImportance
	fd.ok.SetIcon(theme.DeleteIcon())
	fd.ok.Disable()
	typed.OnChanged = func(s string) {
		if s == q {
			fd.ok.Enable()
		} else {
			fd.ok.Disable()
		}
	}
	typed.OnSubmitted = func(string) { run() }
	fd.show(fyne.NewSize(440, 0))
	m.win.Canvas().Focus(typed)
	return fd
}
