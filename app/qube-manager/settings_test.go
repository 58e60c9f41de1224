package main

import (
	"testing"

	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/widget"

	"github.com/qube-desktop/qube-desktop/internal/qube"
)

// TestSettingsOnLoad is `qube-manager -settings NAME` against qube-hostd:
// the named qube's settings dialog opens by itself once the qubes are
// loaded, showing that qube's label and template, with its row selected.
func TestSettingsOnLoad(t *testing.T) {
	c := startHostd(t)
	create(t, c, qube.TemplateVM, "debian-12", "black", "")
	create(t, c, qube.TemplateVM, "fedora-42", "gray", "")
	create(t, c, qube.AppVM, "work", "blue", "debian-12")
	create(t, c, qube.AppVM, "shop", "green", "fedora-42")

	m, w, ui := startManager(t, c, "shop")

	ui.until(t, "the settings dialog", func() bool { return w.Canvas().Overlays().Top() != nil })
	dlg := w.Canvas().Overlays().Top()
	var selected []string
	find(dlg, func(s *widget.Select) bool { selected = append(selected, s.Selected); return false })
	if len(selected) < 2 || selected[0] != "green" || selected[1] != "fedora-42" {
		t.Errorf("settings dialog selects show %q, want shop's label green and template fedora-42 first", selected)
	}
	if find(dlg, func(x *canvas.Text) bool { return x.Text == "Settings: shop" }) == nil {
		t.Error("the dialog does not name shop")
	}
	if r := m.Selected(); r == nil || r.Name != "shop" {
		t.Error("shop's row is not selected")
	}
}
