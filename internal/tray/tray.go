package tray

import (
	"context"
	"errors"
	"fmt"
	"image/color"
	"log"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/qube-desktop/qube-desktop/internal/notify"
	"github.com/qube-desktop/qube-desktop/internal/sni"
)

// IconName is the tray's icon in the desktop's icon theme
// (assets/org.qubedesktop.QubeTray.svg), used for notifications.
const IconName = "org.qubedesktop.QubeTray"

// Options configure a Tray.
type Options struct {
	Source Source
	// Clipboard reports the global clipboard; nil leaves the menu without
	// a clipboard line.
	Clipboard func() (ClipboardStatus, bool, error)
	// Retry is the pause before reconnecting to the daemon (default 1 s,
	// as qubesadmin does).
	Retry time.Duration
	// ClipboardPoll is how often Clipboard is read (default 2 s).
	ClipboardPoll time.Duration
	// ActionTimeout bounds one menu action (default 2 min).
	ActionTimeout time.Duration
	// UpdateInterval is the least time between two menu updates sent to
	// the panel (default 250 ms): stats arrive for every qube every few
	// seconds, and each would otherwise re-send the menu.
	UpdateInterval time.Duration
	Logf           func(format string, args ...any) // default log.Printf
}

// Tray holds the qube model that the icon and menu show. It survives
// daemon restarts and session bus reconnects; Run attaches it to one bus
// connection at a time.
type Tray struct {
	o Options

	mu        sync.Mutex
	connected bool
	qubes     map[string]*Qube
	stats     map[string]Stats
	clip      *ClipboardStatus
	ids       idAllocator
	targets   map[int32]target
	swatches  map[color.RGBA][]byte
	// notifyFailing is set while notifications fail (no service), so
	// each outage is logged once.
	notifyFailing bool

	kick     chan struct{} // the model changed: publish soon
	pubMu    sync.Mutex    // serialises publish; taken before mu
	item     *sni.Item
	menu     *sni.Menu
	notifier *notify.Notifier
	lastIcon string
}

// New makes a tray; nothing happens until Run.
func New(o Options) *Tray {
	if o.Retry == 0 {
		o.Retry = time.Second
	}
	if o.ClipboardPoll == 0 {
		o.ClipboardPoll = 2 * time.Second
	}
	if o.ActionTimeout == 0 {
		o.ActionTimeout = 2 * time.Minute
	}
	if o.UpdateInterval == 0 {
		o.UpdateInterval = 250 * time.Millisecond
	}
	if o.Logf == nil {
		o.Logf = log.Printf
	}
	return &Tray{o: o, qubes: map[string]*Qube{}, stats: map[string]Stats{}, swatches: map[color.RGBA][]byte{},
		kick: make(chan struct{}, 1)}
}

// ErrBusLost is returned by Run when the session bus connection closes.
var ErrBusLost = errors.New("session bus connection lost")

// Run exports the tray icon on conn and follows the daemon until ctx ends
// or the bus connection dies (ErrBusLost). A missing watcher, daemon or
// notification service never ends it: it logs, waits and reconnects.
func (t *Tray) Run(ctx context.Context, conn *dbus.Conn) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	nt := notify.New(conn, "qube-tray")
	menu := sni.NewMenu(func(id int32) { t.click(ctx, id) })
	t.mu.Lock()
	qubes := visible(t.qubes)
	icon := trayIcon(t.connected, iconColours(qubes))
	tt := t.toolTip(qubes)
	t.mu.Unlock()
	item, err := sni.Export(conn, sni.Config{ID: "qube-tray", Title: "Qubes", Category: "SystemServices",
		Icon: icon, ToolTip: tt, Logf: t.o.Logf}, menu)
	if err != nil {
		return fmt.Errorf("export tray icon: %w", err)
	}
	t.pubMu.Lock()
	t.item, t.menu, t.notifier, t.lastIcon = item, menu, nt, ""
	t.pubMu.Unlock()
	t.publish()

	var wg sync.WaitGroup
	wg.Go(func() { t.publisher(ctx) })
	wg.Go(func() {
		t.follow(ctx, "admin.Events", func() error { return t.o.Source.Events(ctx, func(e Event) { t.onEvent(ctx, e) }) })
	})
	wg.Go(func() { t.follow(ctx, "admin.vm.Stats", func() error { return t.o.Source.Stats(ctx, t.onStats) }) })
	if t.o.Clipboard != nil {
		wg.Go(func() { t.pollClipboard(ctx) })
	}

	select {
	case <-ctx.Done():
		err = ctx.Err()
	case <-conn.Context().Done():
		err = ErrBusLost
	}
	cancel()
	wg.Wait()
	t.pubMu.Lock()
	item.Close()
	t.item, t.menu, t.notifier = nil, nil, nil
	t.pubMu.Unlock()
	return err
}

// follow keeps one daemon stream running, reconnecting after Retry. It
// logs the first failure of an outage, not every retry.
func (t *Tray) follow(ctx context.Context, what string, stream func() error) {
	for failures := 0; ; failures++ {
		start := time.Now()
		err := stream()
		if ctx.Err() != nil {
			return
		}
		if what == "admin.Events" {
			t.mu.Lock()
			t.connected = false
			t.mu.Unlock()
			t.changed()
		}
		if time.Since(start) > t.o.Retry { // the stream had been up: a new outage
			failures = 0
		}
		if failures == 0 {
			t.o.Logf("tray: %s stream ended (%v); retrying every %v", what, err, t.o.Retry)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(t.o.Retry):
		}
	}
}

// reload replaces the qube list from the daemon.
func (t *Tray) reload(ctx context.Context) {
	qs, err := t.o.Source.Qubes(ctx)
	t.mu.Lock()
	if err != nil {
		t.connected = false
		t.o.Logf("tray: list qubes: %v", err)
	} else {
		t.connected = true
		t.qubes = map[string]*Qube{}
		for _, q := range qs {
			t.qubes[q.Name] = &q
		}
		for name := range t.stats {
			if q := t.qubes[name]; q == nil || q.State == Halted {
				delete(t.stats, name)
			}
		}
	}
	t.mu.Unlock()
	t.changed()
}

// stateAfter maps lifecycle events to states, as qui-domains does.
var stateAfter = map[string]State{
	"domain-pre-start":       Starting,
	"domain-start":           Running,
	"domain-start-failed":    Halted,
	"domain-paused":          Paused,
	"domain-unpaused":        Running,
	"domain-pre-shutdown":    Halting,
	"domain-shutdown":        Halted,
	"domain-shutdown-failed": Running,
}

// onEvent applies one admin.Events event.
func (t *Tray) onEvent(ctx context.Context, e Event) {
	switch e.Name {
	case "connection-established", "domain-add", "domain-delete",
		"property-set:label", "property-reset:label", "property-del:label":
		t.reload(ctx)
		return
	}
	st, ok := stateAfter[e.Name]
	if !ok || e.Subject == "" {
		return
	}
	t.mu.Lock()
	_, known := t.qubes[e.Subject]
	t.mu.Unlock()
	if !known {
		t.reload(ctx)
	}
	t.mu.Lock()
	if q := t.qubes[e.Subject]; q != nil {
		q.State = st
	}
	if st == Halted {
		delete(t.stats, e.Subject)
	}
	t.mu.Unlock()
	t.changed()

	summary := "Qube Status: " + e.Subject
	switch e.Name {
	case "domain-start":
		t.notify(ctx, notify.Notification{Summary: summary, Body: "has started"})
	case "domain-shutdown":
		t.notify(ctx, notify.Notification{Summary: summary, Body: "has shut down"})
	case "domain-start-failed":
		t.notify(ctx, notify.Notification{Summary: summary, Body: "has failed to start: " + e.Args["reason"], Urgency: notify.Critical})
	case "domain-shutdown-failed":
		t.notify(ctx, notify.Notification{Summary: summary, Body: "failed to shut down: " + e.Args["reason"], Urgency: notify.Critical})
	}
}

func (t *Tray) onStats(s Stats) {
	t.mu.Lock()
	q := t.qubes[s.Qube]
	if q == nil || q.State == Halted || t.stats[s.Qube] == s {
		t.mu.Unlock()
		return
	}
	t.stats[s.Qube] = s
	t.mu.Unlock()
	t.changed()
}

func (t *Tray) pollClipboard(ctx context.Context) {
	tick := time.NewTicker(t.o.ClipboardPoll)
	defer tick.Stop()
	var lastErr string // log a failure once, not every poll
	for {
		st, ok, err := t.o.Clipboard()
		if msg := fmt.Sprint(err); err != nil && msg != lastErr {
			t.o.Logf("tray: clipboard status: %v", err)
			lastErr = msg
		} else if err == nil {
			lastErr = ""
		}
		t.mu.Lock()
		changed := ok != (t.clip != nil) || ok && *t.clip != st
		if ok {
			t.clip = &st
		} else {
			t.clip = nil
		}
		t.mu.Unlock()
		if changed {
			t.changed()
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// changed asks the publisher for an update.
func (t *Tray) changed() {
	select {
	case t.kick <- struct{}{}:
	default: // one is pending already
	}
}

// publisher publishes at once after a quiet spell and at most once per
// UpdateInterval while changes keep coming.
func (t *Tray) publisher(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.kick:
		}
		t.publish()
		select {
		case <-ctx.Done():
			return
		case <-time.After(t.o.UpdateInterval):
		}
	}
}

// publish pushes the model to the menu, icon and tooltip.
func (t *Tray) publish() {
	t.pubMu.Lock()
	defer t.pubMu.Unlock()
	t.mu.Lock()
	qubes := visible(t.qubes)
	items, targets := t.buildMenu(qubes)
	t.targets = targets
	colours := iconColours(qubes)
	connected := t.connected
	tt := t.toolTip(qubes)
	t.mu.Unlock()
	if t.menu == nil {
		return
	}
	if err := t.menu.Set(items); err != nil {
		t.o.Logf("tray: update menu: %v", err)
	}
	key := fmt.Sprint(connected, colours, tt)
	if key != t.lastIcon {
		t.lastIcon = key
		t.item.SetIcon(trayIcon(connected, colours))
		t.item.SetToolTip(tt)
	}
}

func (t *Tray) notify(ctx context.Context, n notify.Notification) {
	t.pubMu.Lock()
	nt := t.notifier
	t.pubMu.Unlock()
	if nt == nil {
		return
	}
	n.Icon = IconName
	go func() {
		_, err := nt.Send(ctx, n)
		if ctx.Err() != nil {
			return
		}
		t.mu.Lock()
		was := t.notifyFailing
		t.notifyFailing = err != nil
		t.mu.Unlock()
		if err != nil && !was {
			t.o.Logf("tray: %v; not logging further failures until one succeeds", err)
		}
	}()
}

// click runs the action behind a menu entry and reports failure.
func (t *Tray) click(ctx context.Context, id int32) {
	t.mu.Lock()
	tg, ok := t.targets[id]
	t.mu.Unlock()
	if !ok {
		return
	}
	actx, cancel := context.WithTimeout(ctx, t.o.ActionTimeout)
	defer cancel()
	err := t.o.Source.Do(actx, tg.action, tg.qube)
	if err == nil || ctx.Err() != nil {
		return
	}
	t.o.Logf("tray: %s %s: %v", tg.action, tg.qube, err)
	summary := "Qube Status: " + tg.qube
	if tg.action == OpenManager {
		summary = "Qube Manager"
	}
	body := fmt.Sprintf("%s failed: %v", actionName(tg.action), err)
	t.notify(ctx, notify.Notification{Summary: summary, Body: body, Urgency: notify.Critical})
}

func actionName(a Action) string {
	if l, ok := actionLabels[a]; ok {
		return l
	}
	if a == OpenManager {
		return "Opening the Qube Manager"
	}
	return string(a)
}
