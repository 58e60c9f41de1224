// Package tray is the qube tray applet: it follows the Admin API's events
// and stats, shows running qubes in a StatusNotifierItem menu (package sni),
// runs the actions picked there, and sends desktop notifications when qubes
// start, stop or fail.
package tray

import (
	"context"
	"image/color"
	"time"
)

// State is a qube's power state as the tray shows it.
type State int

// Power states, following qui-domains' mapping of admin.Events.
const (
	Halted State = iota
	Starting
	Running
	Paused
	Halting
)

func (s State) String() string {
	return [...]string{"halted", "starting", "running", "paused", "halting"}[s]
}

// Qube is what the tray needs to know about one qube.
type Qube struct {
	Name    string
	Label   color.RGBA
	State   State
	AdminVM bool // dom0: listed, but without actions
}

// Event is one admin.Events event: Subject is the qube (empty for app-level
// events), Name the event ("domain-start"), Args its keyword arguments.
type Event struct {
	Subject string
	Name    string
	Args    map[string]string
}

// Stats is one admin.vm.Stats sample of a running qube.
type Stats struct {
	Qube       string
	CPUPercent int
	MemoryKiB  uint64
}

// Action is something the menu asks of a qube.
type Action string

// Actions offered in a qube's submenu, and the manager entry.
const (
	Terminal    Action = "terminal"
	Settings    Action = "settings"
	Pause       Action = "pause"
	Resume      Action = "resume"
	Shutdown    Action = "shutdown"
	Restart     Action = "restart"
	Kill        Action = "kill"
	OpenManager Action = "manager" // qube is ""
)

// Source is the tray's view of the Admin API. Events and Stats block while
// their stream runs and return when ctx ends or the stream breaks (the
// daemon went away); the tray then reconnects.
type Source interface {
	// Qubes lists all qubes with label colour and state.
	Qubes(ctx context.Context) ([]Qube, error)
	// Events calls fn for each admin.Events event, starting with
	// "connection-established".
	Events(ctx context.Context, fn func(Event)) error
	// Stats calls fn for each admin.vm.Stats sample.
	Stats(ctx context.Context, fn func(Stats)) error
	// Do performs an action; it may return before the qube changes state.
	Do(ctx context.Context, a Action, qube string) error
}

// ClipboardStatus describes the global clipboard's content.
type ClipboardStatus struct {
	Source string // qube it was copied from
	Size   int64  // bytes
	Time   time.Time
}
