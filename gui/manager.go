package gui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/qube-desktop/qube-desktop/internal/qube"
)

// Preference keys.
const (
	prefSortColumn = "sort.column"
	prefSortDesc   = "sort.descending"
	prefWidth      = "window.width"
	prefHeight     = "window.height"
)

// DefaultWindowSize is the first-run window size.
var DefaultWindowSize = fyne.NewSize(1180, 640)

// detailWorkers bounds the Details calls in flight while loading.
const detailWorkers = 8

// Manager is the Qube Manager window's content and its link to the backend.
// Its fields are used on the UI goroutine only; background work reports
// back through ui (fyne.Do).
type Manager struct {
	win     fyne.Window
	backend Backend
	prefs   fyne.Preferences
	model   *Model

	table    *qubeTable
	search   *widget.Entry
	power    *widget.RadioGroup
	internal *widget.Check
	buttons  map[string]*widget.Button
	status   *widget.Label
	progress *widget.ProgressBarInfinite
	opLabel  *widget.Label
	content  fyne.CanvasObject

	selected string
	ops      []string // what each running operation is doing, oldest first
	conn     string   // connection state for the status bar
	notice   string   // last event worth telling, e.g. a failed start
	settings string   // qube whose settings open once the first load is in

	ctx   context.Context
	ui    func(func()) // runs a function on the UI goroutine; see SetUIRunner
	retry time.Duration

	mu      sync.Mutex // guards inbox and pending
	inbox   inbox
	pending bool
}

// inbox collects what background goroutines received until the UI goroutine
// takes it in one go, so a burst of events costs one table refresh.
type inbox struct {
	events  []Event
	stats   []Stat
	details map[string]Details
	disks   map[string]int64
	list    []qube.Qube
	listed  bool
	loaded  bool // the list and every qube's details are in
}

// New builds the manager for a window. prefs keeps window size and sort
// order between runs.
func New(win fyne.Window, b Backend, prefs fyne.Preferences) *Manager {
	m := &Manager{win: win, backend: b, prefs: prefs, model: NewModel(), ui: fyne.Do,
		ctx: context.Background(), retry: reconnectDelay, conn: "Connecting to qubesd…"}
	if c, ok := columnByKey(prefs.String(prefSortColumn)); ok {
		m.model.Sort = c
	}
	m.model.Desc = prefs.Bool(prefSortDesc)
	m.build()
	return m
}

// SetUIRunner replaces fyne.Do as the way background work reaches the UI
// goroutine. Tests with Fyne's test driver, whose fyne.Do runs at once on
// the calling goroutine, use it to keep every widget on one goroutine.
// Call it before Run.
func (m *Manager) SetUIRunner(run func(func())) { m.ui = run }

// Shown is the number of rows the table shows.
func (m *Manager) Shown() int { return m.model.Len() }

// RowText is what the table shows for a qube, cell by cell (the label
// column as the label's name), or nil when its row is not shown.
func (m *Manager) RowText(name string) []string {
	i := m.model.Index(name)
	if i < 0 {
		return nil
	}
	r := m.model.Row(i)
	cells := make([]string, numColumns)
	for c := range numColumns {
		cells[c] = r.Text(c)
	}
	return cells
}

// Status is the status bar's text.
func (m *Manager) Status() string { return m.status.Text }

// Content is the window content.
func (m *Manager) Content() fyne.CanvasObject { return m.content }

// WindowSize is the size the window had when it was last closed.
func (m *Manager) WindowSize() fyne.Size {
	w, h := m.prefs.Float(prefWidth), m.prefs.Float(prefHeight)
	if w < 200 || h < 150 {
		return DefaultWindowSize
	}
	return fyne.NewSize(float32(w), float32(h))
}

// SaveWindowSize remembers the window size for the next run.
func (m *Manager) SaveWindowSize(s fyne.Size) {
	m.prefs.SetFloat(prefWidth, float64(s.Width))
	m.prefs.SetFloat(prefHeight, float64(s.Height))
}

func (m *Manager) build() {
	m.table = newQubeTable(m)
	m.search = widget.NewEntry()
	m.search.SetPlaceHolder("Search qubes (Ctrl+F)")
	m.search.OnChanged = func(s string) { m.model.Filter.Text = s; m.refilter() }
	m.power = widget.NewRadioGroup(powerNames, func(s string) {
		for i, n := range powerNames {
			if n == s {
				m.model.Filter.Power = Power(i)
			}
		}
		m.refilter()
	})
	m.power.Horizontal = true
	m.power.Required = true
	m.internal = widget.NewCheck("Show internal qubes", func(b bool) { m.model.Filter.ShowInternal = b; m.refilter() })

	m.buttons = map[string]*widget.Button{}
	bar := container.NewHBox()
	for _, a := range toolbarActions {
		short := strings.NewReplacer("…", "", " qube", "", " command", "").Replace(a.title)
		b := widget.NewButtonWithIcon(short, theme.Icon(a.icon), func() { m.runAction(a.title) })
		b.Importance = widget.LowImportance
		m.buttons[a.title] = b
		bar.Add(b)
		if a.title == "New qube…" || a.title == "Kill" {
			bar.Add(widget.NewSeparator())
		}
	}
	filters := container.NewBorder(nil, nil, nil, container.NewHBox(m.power, m.internal), m.search)

	m.status = widget.NewLabel("")
	m.status.Truncation = fyne.TextTruncateEllipsis // a long daemon error must not widen the window
	m.opLabel = widget.NewLabel("")
	m.progress = widget.NewProgressBarInfinite()
	m.progress.Stop()
	m.progress.Hide()
	statusBar := container.NewBorder(nil, nil, nil, container.NewHBox(m.opLabel, container.NewGridWrap(fyne.NewSize(120, 16), m.progress)), m.status)

	top := container.NewVBox(bar, filters)
	m.content = container.NewBorder(top, statusBar, nil, nil, m.table)
	m.power.SetSelected(powerNames[AllQubes])
	m.updateButtons()
	m.updateStatus()
	m.addShortcuts()
}

func (m *Manager) addShortcuts() {
	c := m.win.Canvas()
	ctrl := func(k fyne.KeyName, f func()) {
		c.AddShortcut(&desktop.CustomShortcut{KeyName: k, Modifier: fyne.KeyModifierShortcutDefault}, func(fyne.Shortcut) { f() })
	}
	ctrl(fyne.KeyF, func() { c.Focus(m.search) })
	ctrl(fyne.KeyN, func() { m.runAction("New qube…") })
	ctrl(fyne.KeyL, func() { c.Focus(m.table) })
	// GLFW reports Shift+key as a key, never as a shortcut: Shift+F10 (or
	// F10) reaches the focused table's TypedKey, or the canvas when nothing
	// has focus, as after a dialog closed.
	c.SetOnTypedKey(func(ev *fyne.KeyEvent) {
		if ev.Name == fyne.KeyF10 {
			m.showContextMenuAtSelection()
		}
	})
}

// SortBy sorts by a column; the second click on the same column reverses.
func (m *Manager) SortBy(c Column) {
	if m.model.Sort == c {
		m.model.Desc = !m.model.Desc
	} else {
		m.model.Sort, m.model.Desc = c, false
	}
	m.prefs.SetString(prefSortColumn, columnInfo[c].key)
	m.prefs.SetBool(prefSortDesc, m.model.Desc)
	m.refilter()
}

// refilter recomputes the view and repaints.
func (m *Manager) refilter() {
	m.model.Refresh()
	if m.selected != "" && m.model.Index(m.selected) < 0 {
		m.selected = ""
	}
	m.table.Refresh()
	m.updateButtons()
	m.updateStatus()
}

func (m *Manager) selectRow(i int) {
	if i < 0 || i >= m.model.Len() {
		return
	}
	m.selected = m.model.Row(i).Name
	m.table.ScrollTo(widget.TableCellID{Row: i, Col: int(ColName)})
	m.table.Refresh()
	m.updateButtons()
}

func (m *Manager) moveSelection(delta int) {
	n := m.model.Len()
	if n == 0 {
		return
	}
	i := m.model.Index(m.selected)
	if i < 0 {
		i = 0
	} else {
		i = min(max(i+delta, 0), n-1)
	}
	m.selectRow(i)
}

// Selected returns the selected row, or nil.
func (m *Manager) Selected() *Row {
	if m.selected == "" {
		return nil
	}
	return m.model.Get(m.selected)
}

func (m *Manager) updateButtons() {
	r := m.Selected()
	for _, a := range toolbarActions {
		if a.enabled(r) {
			m.buttons[a.title].Enable()
		} else {
			m.buttons[a.title].Disable()
		}
	}
}

func (m *Manager) updateStatus() {
	total, active := m.model.Counts()
	s := m.conn
	if m.conn == "Connected" {
		s = fmt.Sprintf("Connected · %d qubes, %d running · %d shown", total, active, m.model.Len())
	}
	if m.notice != "" {
		s += " · " + m.notice
	}
	m.status.SetText(s)
	switch len(m.ops) {
	case 0:
		m.opLabel.SetText("")
		m.progress.Stop()
		m.progress.Hide()
		return
	case 1:
		m.opLabel.SetText(m.ops[0])
	default:
		m.opLabel.SetText(fmt.Sprintf("%s (and %d more)", m.ops[0], len(m.ops)-1))
	}
	m.progress.Show()
	m.progress.Start()
}

// do runs f off the UI goroutine, showing what in the status bar while it
// runs, and then done (on the UI goroutine) with f's error.
func (m *Manager) do(what string, f func(ctx context.Context) error, done func(error)) {
	m.ops = append(m.ops, what)
	m.updateStatus()
	go func() {
		err := f(m.ctx)
		m.ui(func() {
			for i, o := range m.ops {
				if o == what {
					m.ops = append(m.ops[:i], m.ops[i+1:]...)
					break
				}
			}
			m.updateStatus()
			done(err)
		})
	}()
}

// Run follows the backend's event and stats streams until ctx ends,
// reconnecting after a failure. It returns at once.
func (m *Manager) Run(ctx context.Context) {
	m.ctx = ctx
	go m.follow(ctx, func(ctx context.Context) error { return m.backend.Events(ctx, m.postEvent) }, true)
	go m.follow(ctx, func(ctx context.Context) error { return m.backend.Stats(ctx, m.postStat) }, false)
}

// ShowSettingsOnLoad opens a qube's settings dialog, with the qube
// selected, once the qubes and their details are loaded (the dialog's
// template and netvm choices come from them), as `qube-manager -settings
// NAME` does for the tray. Call it before Run.
func (m *Manager) ShowSettingsOnLoad(name string) { m.settings = name }

// How long the manager waits before reconnecting; the delay doubles up to
// maxReconnectDelay while qubesd stays away.
const reconnectDelay, maxReconnectDelay = time.Second, 8 * time.Second

func (m *Manager) follow(ctx context.Context, stream func(context.Context) error, main bool) {
	delay := m.retry
	for {
		start := time.Now()
		err := stream(ctx)
		if ctx.Err() != nil {
			return
		}
		if time.Since(start) > maxReconnectDelay {
			delay = m.retry
		}
		if main {
			msg := fmt.Sprintf("Disconnected from qubesd, reconnecting in %d s: %v", int(max(delay, time.Second).Seconds()), err)
			m.ui(func() { m.conn = msg; m.updateStatus() })
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, maxReconnectDelay)
	}
}

func (m *Manager) post(f func(*inbox)) {
	m.mu.Lock()
	f(&m.inbox)
	if m.pending {
		m.mu.Unlock()
		return
	}
	m.pending = true
	m.mu.Unlock()
	m.ui(m.flush)
}

func (m *Manager) postEvent(ev Event) {
	if ev.Name == "connection-established" && ev.Subject == "" {
		m.ui(func() { m.conn = "Loading qubes…"; m.updateStatus() })
		go m.load()
	}
	m.post(func(in *inbox) { in.events = append(in.events, ev) })
}

func (m *Manager) postStat(s Stat) { m.post(func(in *inbox) { in.stats = append(in.stats, s) }) }

// load reads the qube list and then every qube's details, showing the table
// as soon as the list is there.
func (m *Manager) load() {
	if ls, err := m.backend.Labels(m.ctx); err == nil {
		m.ui(func() { m.model.SetLabels(ls) })
	}
	qs, err := m.backend.List(m.ctx)
	if err != nil {
		m.ui(func() { m.conn = sentence("Could not list qubes: " + err.Error()); m.updateStatus() })
		return
	}
	m.post(func(in *inbox) { in.list, in.listed = qs, true })
	names := make([]string, len(qs))
	for i, q := range qs {
		names[i] = q.Name
	}
	m.loadDetails(names)
	m.post(func(in *inbox) { in.loaded = true })
	m.loadDisks(names)
}

// loadDetails reads the details of some qubes with a few calls at once.
// A qube whose details cannot be read (removed meanwhile, or refused by
// policy) keeps a bare row.
func (m *Manager) loadDetails(names []string) {
	parallel(names, func(n string) {
		if d, err := m.backend.Details(m.ctx, n); err == nil {
			m.post(func(in *inbox) {
				if in.details == nil {
					in.details = map[string]Details{}
				}
				in.details[n] = d
			})
		}
	})
}

// loadDisks reads the disk usage of some qubes.
func (m *Manager) loadDisks(names []string) {
	parallel(names, func(n string) {
		if u, err := m.backend.DiskUsage(m.ctx, n); err == nil {
			m.post(func(in *inbox) {
				if in.disks == nil {
					in.disks = map[string]int64{}
				}
				in.disks[n] = u
			})
		}
	})
}

// parallel runs f for every name on at most detailWorkers goroutines.
func parallel(names []string, f func(string)) {
	next := make(chan string)
	var wg sync.WaitGroup
	for range min(detailWorkers, len(names)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range next {
				f(n)
			}
		}()
	}
	for _, n := range names {
		next <- n
	}
	close(next)
	wg.Wait()
}

// flush applies everything received since the last flush, on the UI goroutine.
func (m *Manager) flush() {
	m.mu.Lock()
	in := m.inbox
	m.inbox, m.pending = inbox{}, false
	m.mu.Unlock()

	if in.listed {
		m.model.Reset(in.list)
		m.conn = "Connected"
	}
	var reload []string
	for _, ev := range in.events {
		e := m.model.Apply(ev)
		reload = append(reload, e.Reload...)
		if e.Notice != "" {
			m.notice = e.Notice
		}
	}
	for _, s := range in.stats {
		m.model.ApplyStat(s)
	}
	for n, d := range in.details {
		m.model.SetDetails(n, d)
	}
	for n, u := range in.disks {
		if r := m.model.Get(n); r != nil {
			r.DiskUsage = u
		}
	}
	m.refilter()
	if in.loaded && m.settings != "" {
		name := m.settings
		m.settings = ""
		m.selectName(name)
		m.showSettings(name)
	}
	if len(reload) > 0 {
		slices.Sort(reload)
		reload = slices.Compact(reload)
		var fresh []string // rows that never had a disk usage: new qubes
		for _, n := range reload {
			if r := m.model.Get(n); r != nil && r.DiskUsage < 0 {
				fresh = append(fresh, n)
			}
		}
		go func() {
			m.loadDetails(reload)
			m.loadDisks(fresh)
		}()
	}
}
