package gui

import (
	"context"
	"errors"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/qube-desktop/qube-desktop/internal/qube"
)

// TerminalCommand is what "Open terminal" runs in a qube.
const TerminalCommand = "xterm"

// action is one thing the user can do to the selected qube (or, for New
// qube, without one). The toolbar and the context menu show the same list.
type action struct {
	title   string             // in the context menu; the toolbar drops "…" and " qube"/" command"
	icon    fyne.ThemeIconName // looked up when drawn: themes load after init
	enabled func(r *Row) bool
	run     func(m *Manager, r *Row)
}

func isAdmin(r *Row) bool { return r.Class == qube.AdminVM }

func selected(f func(r *Row) bool) func(r *Row) bool {
	return func(r *Row) bool { return r != nil && !isAdmin(r) && f(r) }
}

func always(*Row) bool { return true }

var toolbarActions []action

// init fills toolbarActions; a plain initializer would be a cycle, since
// actions update the toolbar.
func init() {
	toolbarActions = []action{
		{"New qube…", theme.IconNameContentAdd, always, func(m *Manager, _ *Row) { m.showCreate() }},
		{"Start", theme.IconNameMediaPlay, selected(func(r *Row) bool { return !r.Active() }),
			func(m *Manager, r *Row) { m.lifecycle(r.Name, "Starting", "start", m.backend.Start) }},
		{"Shutdown", theme.IconNameMediaStop, selected(func(r *Row) bool { return r.State == qube.Running && r.Transition == "" }),
			func(m *Manager, r *Row) {
				m.shutdown(r.Name, false)
			}},
		{"Restart", theme.IconNameMediaReplay, selected(func(r *Row) bool { return r.State == qube.Running && r.Transition == "" }),
			func(m *Manager, r *Row) {
				m.lifecycle(r.Name, "Restarting", "restart", func(ctx context.Context, name string) error {
					if err := m.backend.Shutdown(ctx, name, ShutdownOptions{Wait: true}); err != nil {
						return err
					}
					return m.backend.Start(ctx, name)
				})
			}},
		{"Pause", theme.IconNameMediaPause, selected(func(r *Row) bool { return r.State == qube.Running }),
			func(m *Manager, r *Row) { m.lifecycle(r.Name, "Pausing", "pause", m.backend.Pause) }},
		{"Resume", theme.IconNameMediaFastForward, selected(func(r *Row) bool { return r.State == qube.Paused }),
			func(m *Manager, r *Row) { m.lifecycle(r.Name, "Resuming", "resume", m.backend.Unpause) }},
		{"Kill", theme.IconNameCancel, selected(func(r *Row) bool { return r.Active() }),
			func(m *Manager, r *Row) { m.lifecycle(r.Name, "Killing", "kill", m.backend.Kill) }},
		{"Terminal", theme.IconNameComputer, selected(func(r *Row) bool { return r.State != qube.Paused }),
			func(m *Manager, r *Row) {
				m.lifecycle(r.Name, "Opening a terminal in", "open a terminal in", func(ctx context.Context, name string) error {
					return m.backend.Run(ctx, name, TerminalCommand)
				})
			}},
		{"Run command…", theme.IconNameMailForward, selected(func(r *Row) bool { return r.State != qube.Paused }),
			func(m *Manager, r *Row) { m.showRun(r.Name) }},
		{"Settings…", theme.IconNameSettings, selected(always), func(m *Manager, r *Row) { m.showSettings(r.Name) }},
		{"Clone…", theme.IconNameContentCopy, selected(func(r *Row) bool { return !r.Active() }),
			func(m *Manager, r *Row) { m.showClone(r.Name) }},
		{"Remove…", theme.IconNameDelete, selected(func(r *Row) bool { return !r.Active() }),
			func(m *Manager, r *Row) { m.confirmRemove(r.Name) }},
	}
}

// shutdown halts a qube; when qubes depend on it, it asks whether to force.
func (m *Manager) shutdown(name string, force bool) {
	doing := "Shutting down"
	if force {
		doing = "Forcing the shutdown of"
	}
	m.do(fmt.Sprintf("%s %s…", doing, name), func(ctx context.Context) error {
		return m.backend.Shutdown(ctx, name, ShutdownOptions{Force: force})
	}, func(err error) {
		switch {
		case err == nil:
		case !force && errors.Is(err, ErrInUse):
			msg := sentence(err.Error()) + " Shut it down anyway? The qubes that use it lose their network."
			d := dialog.NewConfirm("Shut down "+name+"?", msg, func(yes bool) {
				if yes {
					m.shutdown(name, true)
				}
			}, m.win)
			d.SetConfirmText("Force shutdown")
			d.Show()
		default:
			m.showError("Could not shut down "+name, err)
		}
	})
}

// runAction runs an action by title if it applies to the selection.
func (m *Manager) runAction(title string) {
	r := m.Selected()
	for _, a := range toolbarActions {
		if a.title == title && a.enabled(r) {
			a.run(m, r)
		}
	}
}

// lifecycle runs a power action in the background; progress shows as e.g.
// "Starting work…", failure as "Could not start work: <reason>."
func (m *Manager) lifecycle(name, doing, verb string, f func(context.Context, string) error) {
	m.do(fmt.Sprintf("%s %s…", doing, name), func(ctx context.Context) error { return f(ctx, name) }, func(err error) {
		if err != nil {
			m.showError(fmt.Sprintf("Could not %s %s", verb, name), err)
		}
	})
}

// showError tells the user what failed, in sentences.
func (m *Manager) showError(what string, err error) {
	dialog.ShowInformation(what, sentence(fmt.Sprintf("%s: %v", what, err)), m.win)
}

// contextMenu is the menu for the selected qube.
func (m *Manager) contextMenu() *fyne.Menu {
	r := m.Selected()
	var items []*fyne.MenuItem
	for _, a := range toolbarActions[1:] {
		it := fyne.NewMenuItem(a.title, func() { m.runAction(a.title) })
		it.Icon = theme.Icon(a.icon)
		it.Disabled = !a.enabled(r)
		items = append(items, it)
		if a.title == "Kill" || a.title == "Run command…" {
			items = append(items, fyne.NewMenuItemSeparator())
		}
	}
	return fyne.NewMenu("", items...)
}

func (m *Manager) showContextMenu(pos fyne.Position) {
	if m.Selected() == nil {
		return
	}
	widget.ShowPopUpMenuAtPosition(m.contextMenu(), m.win.Canvas(), pos)
}

// showContextMenuAtSelection opens the menu from the keyboard (Shift+F10
// or F10), near the top left of the table.
func (m *Manager) showContextMenuAtSelection() {
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(m.table)
	m.showContextMenu(pos.Add(fyne.NewPos(columnInfo[ColLabel].width, 40)))
}
