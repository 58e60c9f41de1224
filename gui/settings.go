package gui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/qube-desktop/qube-desktop/internal/qube"
)

// settingsForm is the settings dialog of one qube.
type settingsForm struct {
	*formDialog
	name     string
	props    map[string]qube.Property
	features map[string]string // as read
	edited   map[string]string // as the user left them

	label, tmpl, netvm, dispvm *widget.Select
	memory, maxmem, vcpus      *widget.Entry
	autostart                  *widget.Check
	featList                   *widget.List
	featKey, featValue         *widget.Entry
	keys                       []string // edited's keys, sorted, as the list shows them
	tabs                       *container.AppTabs
}

// showSettings reads the qube's properties and features afresh, then opens
// the dialog.
func (m *Manager) showSettings(name string) {
	m.openSettings(name, nil)
}

// openSettings is showSettings that hands the open dialog to done.
func (m *Manager) openSettings(name string, done func(*settingsForm)) {
	var d Details
	var feats map[string]string
	m.do("Reading the settings of "+name+"…", func(ctx context.Context) error {
		var err error
		if d, err = m.backend.Details(ctx, name); err != nil {
			return err
		}
		feats, err = m.backend.Features(ctx, name)
		return err
	}, func(err error) {
		if err != nil {
			m.showError("Could not read the settings of "+name, err)
			return
		}
		f := m.newSettings(name, d.Props, feats)
		f.show(f.size)
		if done != nil {
			done(f)
		}
	})
}

// vmChoice is how a qube-valued property appears in a Select.
func vmChoice(p qube.Property) string {
	switch {
	case p.Default && p.Value == "":
		return "default (none)"
	case p.Default:
		return "default (" + p.Value + ")"
	case p.Value == "":
		return choiceNone
	}
	return p.Value
}

func vmSelect(p qube.Property, ok bool, options []string) *widget.Select {
	def := choiceDefault
	if p.Default {
		def = vmChoice(p)
	}
	s := widget.NewSelect(append([]string{def, choiceNone}, options...), nil)
	s.SetSelected(vmChoice(p))
	if !ok {
		s.Disable()
	}
	return s
}

func (m *Manager) newSettings(name string, props map[string]qube.Property, feats map[string]string) *settingsForm {
	f := &settingsForm{name: name, props: props, features: feats, edited: map[string]string{}}
	for k, v := range feats {
		f.edited[k] = v
	}
	has := func(p string) bool { _, ok := props[p]; return ok }

	f.label = widget.NewSelect(m.labelNames(), nil)
	f.label.SetSelected(props["label"].Value)
	f.tmpl = widget.NewSelect(m.templates(), nil)
	f.tmpl.SetSelected(props["template"].Value)
	if !has("template") {
		f.tmpl.Disable()
	}
	f.netvm = vmSelect(props["netvm"], has("netvm"), m.netQubes())
	f.dispvm = vmSelect(props["default_dispvm"], has("default_dispvm"), m.dispvmTemplates())
	f.autostart = widget.NewCheck("Start the qube when the system starts", nil)
	f.autostart.SetChecked(props["autostart"].Value == "True")
	if !has("autostart") {
		f.autostart.Disable()
	}
	intEntry := func(p string) *widget.Entry {
		e := widget.NewEntry()
		e.SetText(props[p].Value)
		if !has(p) {
			e.Disable()
		}
		return e
	}
	f.memory, f.maxmem, f.vcpus = intEntry("memory"), intEntry("maxmem"), intEntry("vcpus")

	basic := widget.NewForm(
		widget.NewFormItem("Label", f.label),
		widget.NewFormItem("Template", f.tmpl),
		widget.NewFormItem("Net qube", f.netvm),
		widget.NewFormItem("Default disposable", f.dispvm),
		widget.NewFormItem("", f.autostart),
	)
	advanced := widget.NewForm(
		widget.NewFormItem("Initial memory (MiB)", f.memory),
		widget.NewFormItem("Max memory (MiB)", f.maxmem),
		widget.NewFormItem("VCPUs", f.vcpus),
	)
	f.tabs = container.NewAppTabs(
		container.NewTabItem("Basic", basic),
		container.NewTabItem("Advanced", advanced),
		container.NewTabItem("Features", f.featuresTab()),
	)
	f.formDialog = m.newFormDialog("Settings: "+name, "Save", f.tabs, f.save)
	f.size = fyne.NewSize(520, 460)
	return f
}

func (f *settingsForm) featuresTab() fyne.CanvasObject {
	f.sortKeys()
	f.featList = widget.NewList(func() int { return len(f.keys) },
		func() fyne.CanvasObject {
			return container.NewBorder(nil, nil, nil, widget.NewButtonWithIcon("", theme.DeleteIcon(), nil), widget.NewLabel(""))
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			c := o.(*fyne.Container)
			k := f.keys[i]
			c.Objects[0].(*widget.Label).SetText(k + " = " + f.edited[k])
			c.Objects[1].(*widget.Button).OnTapped = func() { delete(f.edited, k); f.sortKeys(); f.featList.Refresh() }
		})
	f.featKey, f.featValue = widget.NewEntry(), widget.NewEntry()
	f.featKey.SetPlaceHolder("feature")
	f.featValue.SetPlaceHolder("value")
	add := widget.NewButtonWithIcon("Add", theme.ContentAddIcon(), func() {
		k := strings.TrimSpace(f.featKey.Text)
		if k == "" {
			f.setMessage("Type the feature's name first.")
			return
		}
		f.setMessage("")
		f.edited[k] = f.featValue.Text
		f.featKey.SetText("")
		f.featValue.SetText("")
		f.sortKeys()
		f.featList.Refresh()
	})
	f.featValue.OnSubmitted = func(string) { add.OnTapped() }
	addRow := container.NewBorder(nil, nil, nil, add, container.NewGridWithColumns(2, f.featKey, f.featValue))
	return container.NewBorder(nil, addRow, nil, nil, f.featList)
}

func (f *settingsForm) sortKeys() {
	f.keys = f.keys[:0]
	for k := range f.edited {
		f.keys = append(f.keys, k)
	}
	slices.Sort(f.keys)
}

// change is one call the Save button makes.
type change struct {
	what  string // for error messages: "label", "feature gui"
	apply func(ctx context.Context, b Backend, name string) error
}

func setProp(p, v string) change {
	return change{p, func(ctx context.Context, b Backend, n string) error { return b.SetProperty(ctx, n, p, v) }}
}

func resetProp(p string) change {
	return change{p, func(ctx context.Context, b Backend, n string) error { return b.ResetProperty(ctx, n, p) }}
}

// changes compares the form with what was read and lists the calls that
// make qubesd match the form, or says what input is wrong.
func (f *settingsForm) changes() ([]change, error) {
	var cs []change
	p := f.props
	if f.label.Selected != "" && f.label.Selected != p["label"].Value {
		cs = append(cs, setProp("label", f.label.Selected))
	}
	if !f.tmpl.Disabled() && f.tmpl.Selected != "" && f.tmpl.Selected != p["template"].Value {
		cs = append(cs, setProp("template", f.tmpl.Selected))
	}
	for _, v := range []struct {
		prop string
		sel  *widget.Select
	}{{"netvm", f.netvm}, {"default_dispvm", f.dispvm}} {
		cur := p[v.prop]
		switch s := v.sel.Selected; {
		case v.sel.Disabled() || s == vmChoice(cur):
		case strings.HasPrefix(s, choiceDefault):
			cs = append(cs, resetProp(v.prop))
		case s == choiceNone:
			cs = append(cs, setProp(v.prop, ""))
		default:
			cs = append(cs, setProp(v.prop, s))
		}
	}
	for _, v := range []struct {
		prop, title string
		e           *widget.Entry
	}{{"memory", "Initial memory", f.memory}, {"maxmem", "Max memory", f.maxmem}, {"vcpus", "VCPUs", f.vcpus}} {
		t := strings.TrimSpace(v.e.Text)
		switch {
		case v.e.Disabled() || t == p[v.prop].Value:
		case t == "":
			cs = append(cs, resetProp(v.prop))
		default:
			if _, err := parseMiB(t, v.title); err != nil {
				return nil, fmt.Errorf("%s must be a whole number above 0", v.title)
			}
			cs = append(cs, setProp(v.prop, t))
		}
	}
	if !f.autostart.Disabled() && f.autostart.Checked != (p["autostart"].Value == "True") {
		cs = append(cs, setProp("autostart", map[bool]string{true: "True", false: "False"}[f.autostart.Checked]))
	}
	for _, k := range sortedKeys(f.features) {
		if _, ok := f.edited[k]; !ok {
			cs = append(cs, change{"feature " + k, func(ctx context.Context, b Backend, n string) error { return b.RemoveFeature(ctx, n, k) }})
		}
	}
	for _, k := range sortedKeys(f.edited) {
		if old, ok := f.features[k]; !ok || old != f.edited[k] {
			v := f.edited[k]
			cs = append(cs, change{"feature " + k, func(ctx context.Context, b Backend, n string) error { return b.SetFeature(ctx, n, k, v) }})
		}
	}
	return cs, nil
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// save applies every change, going on after a failure so one refused value
// does not lose the others, and reports all failures.
func (f *settingsForm) save() {
	cs, err := f.changes()
	if err != nil {
		f.setMessage(sentence(err.Error()))
		return
	}
	if len(cs) == 0 {
		f.d.Hide()
		return
	}
	m, name := f.m, f.name
	f.submit("Saving the settings of "+name+"…", func(ctx context.Context) error {
		var errs []error
		for _, c := range cs {
			if err := c.apply(ctx, m.backend, name); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", c.what, err))
			}
		}
		if len(errs) > 0 {
			return fmt.Errorf("some settings were not saved: %w", errors.Join(errs...))
		}
		return nil
	}, nil)
}
