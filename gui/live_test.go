package gui

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// rowOf returns what the table shows for a qube.
func (h *harness) rowOf(name string) string {
	for _, r := range h.visibleRows() {
		if strings.Split(r, " | ")[ColName] == name {
			return r
		}
	}
	return ""
}

func TestEventsUpdateRows(t *testing.T) {
	h := newHarness(t, sampleQubes(3), winSize)
	send := func(ev Event) { h.b.events <- ev }
	state := func(name string) string { return strings.Split(h.rowOf(name), " | ")[ColState] }

	send(Event{Subject: "personal", Name: "domain-pre-start"})
	h.ui.until(t, "Starting", func() bool { return state("personal") == "Starting" })
	send(Event{Subject: "personal", Name: "domain-start"})
	h.ui.until(t, "Running", func() bool { return state("personal") == "Running" })

	h.b.stats <- Stat{Name: "personal", CPU: 37, MemoryKiB: 812 * 1024}
	h.ui.until(t, "stats", func() bool { return strings.Contains(h.rowOf("personal"), "| 37 % | 812 MiB |") })

	send(Event{Subject: "personal", Name: "property-set:label", Args: map[string]string{"name": "label", "newvalue": "purple", "oldvalue": "yellow"}})
	h.ui.until(t, "label colour", func() bool { return strings.HasPrefix(h.rowOf("personal"), "#75507b |") })

	send(Event{Subject: "personal", Name: "domain-pre-shutdown"})
	h.ui.until(t, "Halting", func() bool { return state("personal") == "Halting" })
	send(Event{Subject: "personal", Name: "domain-shutdown"})
	h.ui.until(t, "Halted", func() bool { return state("personal") == "Halted" })
	if strings.Contains(h.rowOf("personal"), "812 MiB") {
		t.Error("a halted qube still shows its last memory use")
	}

	send(Event{Subject: "vault", Name: "domain-pre-start"})
	send(Event{Subject: "vault", Name: "domain-start-failed", Args: map[string]string{"reason": "not enough memory"}})
	h.ui.until(t, "failure notice", func() bool {
		return strings.Contains(h.m.status.Text, "Qube vault failed to start: not enough memory.")
	})
	if state("vault") != "Halted" {
		t.Errorf("vault is %q after a failed start", state("vault"))
	}

	send(Event{Name: "domain-delete", Args: map[string]string{"vm": "vault"}})
	h.ui.until(t, "row removed", func() bool { return h.rowOf("vault") == "" })
}

func TestReconnectsWhenTheDaemonGoes(t *testing.T) {
	h := newHarness(t, sampleQubes(3), winSize, func(m *Manager) { m.retry = 10 * time.Millisecond })
	h.b.mu.Lock()
	delete(h.b.qubes, "vault") // removed while the manager was not listening
	h.b.mu.Unlock()
	h.b.breakConn <- errors.New("qubesd closed the event stream")
	h.ui.until(t, "disconnected status", func() bool {
		return strings.HasPrefix(h.m.status.Text, "Disconnected from qubesd, reconnecting in 1 s: qubesd closed the event stream")
	})
	h.ui.until(t, "reconnected", func() bool { return strings.HasPrefix(h.m.status.Text, "Connected · 13 qubes") })
	if h.rowOf("vault") != "" {
		t.Error("the reload after reconnecting did not drop a removed qube")
	}
}
