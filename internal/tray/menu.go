package tray

import (
	"fmt"
	"image/color"
	"slices"
	"strings"

	"github.com/qube-desktop/qube-desktop/internal/sni"
)

// Menu entry IDs that never change; qube entries get IDs from 100 up.
const (
	idManager int32 = iota + 1
	idClipboard
	idSepQubes
	idSepManager
	idStatus
	firstQubeID = 100
)

// submenuActions are every action a qube's submenu may show.
var submenuActions = [...]Action{Terminal, Settings, Pause, Resume, Shutdown, Restart, Kill}

// qubeIDs are the menu IDs of one qube: its entry and each action.
type qubeIDs struct {
	entry   int32
	actions [len(submenuActions)]int32
}

func (q *qubeIDs) action(a Action) int32 {
	for i, x := range submenuActions {
		if x == a {
			return q.actions[i]
		}
	}
	panic("tray: no menu id for action " + string(a))
}

// idAllocator gives each menu entry a stable ID for the process's life:
// the same qube and action always map to the same ID, across updates and
// reconnects, so hosts keep an open menu in place.
type idAllocator struct {
	qubes map[string]*qubeIDs
	next  int32
}

func (a *idAllocator) qube(name string) *qubeIDs {
	if a.qubes == nil {
		a.qubes = map[string]*qubeIDs{}
		a.next = firstQubeID
	}
	q := a.qubes[name]
	if q == nil {
		q = &qubeIDs{entry: a.next}
		for i := range q.actions {
			q.actions[i] = a.next + 1 + int32(i)
		}
		a.next += 1 + int32(len(q.actions))
		a.qubes[name] = q
	}
	return q
}

// target is what clicking a menu entry does.
type target struct {
	action Action
	qube   string
}

var actionLabels = map[Action]string{
	Terminal: "Run terminal",
	Settings: "Settings",
	Pause:    "Pause",
	Resume:   "Resume",
	Shutdown: "Shutdown",
	Restart:  "Restart",
	Kill:     "Kill",
}

// actionsFor lists the submenu of a qube in its state, as qui-domains does.
func actionsFor(s State) []Action {
	switch s {
	case Running:
		return []Action{Terminal, Settings, Pause, Shutdown, Restart, Kill}
	case Paused:
		return []Action{Settings, Resume, Kill}
	default: // starting or halting
		return []Action{Settings, Kill}
	}
}

// visible returns the qubes the menu lists, admin qube first, then by name.
func visible(qubes map[string]*Qube) []*Qube {
	var out []*Qube
	for _, q := range qubes {
		if q.State != Halted {
			out = append(out, q)
		}
	}
	slices.SortFunc(out, func(a, b *Qube) int {
		if a.AdminVM != b.AdminVM {
			if a.AdminVM {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

func qubeLabel(q *Qube, st Stats, haveStats bool) string {
	switch q.State {
	case Starting, Halting, Paused:
		return fmt.Sprintf("%s (%s)", q.Name, q.State)
	}
	if !haveStats {
		return q.Name
	}
	return fmt.Sprintf("%s — CPU %d%%, %d MiB", q.Name, st.CPUPercent, st.MemoryKiB/1024)
}

func sizeText(n int64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d bytes", n)
	case n < 1024*1024:
		return fmt.Sprintf("%.1f KiB", float64(n)/1024)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1024*1024))
}

func clipboardLabel(c ClipboardStatus) string {
	return fmt.Sprintf("Clipboard: %s from %s at %s", sizeText(c.Size), c.Source, c.Time.Format("15:04:05"))
}

// buildMenu lays out the menu for the current model with the qubes that
// visible returned. Callers hold t.mu.
func (t *Tray) buildMenu(qubes []*Qube) ([]sni.MenuItem, map[int32]target) {
	targets := map[int32]target{idManager: {action: OpenManager}}
	var items []sni.MenuItem
	if !t.connected {
		qubes = nil // their state is unknown while the daemon is away
	}
	switch {
	case !t.connected:
		items = append(items, sni.MenuItem{ID: idStatus, Label: "Qube daemon not reachable; retrying", Disabled: true})
	case len(qubes) == 0:
		items = append(items, sni.MenuItem{ID: idStatus, Label: "No qubes running", Disabled: true})
	}
	for _, q := range qubes {
		st, ok := t.stats[q.Name]
		ids := t.ids.qube(q.Name)
		mi := sni.MenuItem{ID: ids.entry, Label: qubeLabel(q, st, ok), Icon: t.swatch(q.Label)}
		if !q.AdminVM {
			for _, a := range actionsFor(q.State) {
				id := ids.action(a)
				targets[id] = target{action: a, qube: q.Name}
				mi.Children = append(mi.Children, sni.MenuItem{ID: id, Label: actionLabels[a]})
			}
		}
		items = append(items, mi)
	}
	items = append(items, sni.MenuItem{ID: idSepQubes, Separator: true})
	if t.clip != nil {
		items = append(items,
			sni.MenuItem{ID: idClipboard, Label: clipboardLabel(*t.clip), Disabled: true},
			sni.MenuItem{ID: idSepManager, Separator: true})
	}
	items = append(items, sni.MenuItem{ID: idManager, Label: "Qube Manager"})
	return items, targets
}

// swatch returns the menu icon for a label colour. Callers hold t.mu.
func (t *Tray) swatch(c color.RGBA) []byte {
	if b, ok := t.swatches[c]; ok {
		return b
	}
	b := swatchPNG(c)
	t.swatches[c] = b
	return b
}

// iconColours lists the label colours of the running qubes among qubes.
func iconColours(qubes []*Qube) []color.RGBA {
	var out []color.RGBA
	for _, q := range qubes {
		if q.State == Running && !q.AdminVM {
			out = append(out, q.Label)
		}
	}
	return out
}

// toolTip summarises the state. Callers hold t.mu.
func (t *Tray) toolTip(qubes []*Qube) sni.ToolTip {
	tt := sni.ToolTip{Title: "Qubes"}
	var names []string
	for _, q := range qubes {
		if q.State == Running && !q.AdminVM {
			names = append(names, q.Name)
		}
	}
	switch {
	case !t.connected:
		tt.Text = "Qube daemon not reachable; retrying"
	case len(names) == 0:
		tt.Text = "No qubes running"
	default:
		tt.Text = fmt.Sprintf("%d running: %s", len(names), strings.Join(names, ", "))
	}
	return tt
}
