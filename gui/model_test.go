package gui

import (
	"strings"
	"testing"

	"github.com/qube-desktop/qube-desktop/internal/qube"
)

func TestModelApply(t *testing.T) {
	m := NewModel()
	m.Reset([]qube.Qube{{Name: "work", Class: qube.AppVM, State: qube.Running}})
	m.SetDetails("work", Details{Props: map[string]qube.Property{
		"netvm": prop("netvm", qube.TypeVM, "sys-firewall", true),
		"label": prop("label", qube.TypeLabel, "blue", false),
	}})
	m.Get("work").DiskUsage = 3 << 30
	m.Refresh()
	r := m.Get("work")
	if got := r.Text(ColNetVM); got != "default (sys-firewall)" {
		t.Errorf("netvm shown as %q", got)
	}
	if got := r.Text(ColDisk); got != "3.0 GiB" {
		t.Errorf("disk shown as %q", got)
	}

	steps := []struct {
		ev     Event
		col    Column
		want   string
		reload string
	}{
		{Event{Subject: "work", Name: "property-pre-set:netvm", Args: map[string]string{"newvalue": "None"}}, ColNetVM, "default (sys-firewall)", ""},
		{Event{Subject: "work", Name: "property-set:netvm", Args: map[string]string{"newvalue": "None"}}, ColNetVM, "none", ""},
		{Event{Subject: "work", Name: "property-reset:netvm"}, ColNetVM, "none", "work"},
		{Event{Subject: "work", Name: "property-set:kernel", Args: map[string]string{"newvalue": "6.1"}}, ColName, "work", "work"},
		{Event{Subject: "work", Name: "domain-paused"}, ColState, "Paused", ""},
		{Event{Subject: "work", Name: "domain-unpaused"}, ColState, "Running", ""},
		{Event{Subject: "ghost", Name: "domain-start"}, ColState, "Running", ""},
		{Event{Name: "domain-add", Args: map[string]string{"vm": "new"}}, ColState, "Running", "new"},
		{Event{Subject: "work", Name: "property-reset:netvm"}, ColNetVM, "none", "work"},
	}
	for _, s := range steps {
		e := m.Apply(s.ev)
		if got := m.Get("work").Text(s.col); got != s.want {
			t.Errorf("after %s: %s = %q, want %q", s.ev.Name, s.col, got, s.want)
		}
		if strings.Join(e.Reload, " ") != s.reload {
			t.Errorf("after %s: reload %q, want %q", s.ev.Name, e.Reload, s.reload)
		}
	}
	m.SetDetails("work", Details{Props: map[string]qube.Property{"netvm": prop("netvm", qube.TypeVM, "sys-firewall", true)}})
	if e := m.Apply(Event{Name: "property-set:default_netvm", Args: map[string]string{"newvalue": "sys-vpn"}}); strings.Join(e.Reload, " ") != "work" {
		t.Errorf("a new default_netvm reloads %v, want the qubes using the default: [work]", e.Reload)
	}
	if n := m.Get("new"); n == nil || n.StateText() != "Halted" {
		t.Errorf("domain-add: %+v", n)
	}
	// Stats for a halted qube are dropped: they would outlive the qube.
	m.ApplyStat(Stat{Name: "new", CPU: 50})
	if m.Get("new").HasStats {
		t.Error("stats recorded for a halted qube")
	}
}

func TestSentence(t *testing.T) {
	for in, want := range map[string]string{
		"qube already exists: work": "Qube already exists: work.",
		"Done.":                     "Done.",
		"  spaced  ":                "Spaced.",
		"":                          "",
	} {
		if got := sentence(in); got != want {
			t.Errorf("sentence(%q) = %q, want %q", in, got, want)
		}
	}
}
