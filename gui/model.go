package gui

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/qube-desktop/qube-desktop/internal/qube"
)

// Column is a column of the qube table.
type Column int

// The table's columns, in display order.
const (
	ColLabel Column = iota
	ColName
	ColState
	ColClass
	ColTemplate
	ColNetVM
	ColCPU
	ColMemory
	ColDisk
	ColIP
	numColumns
)

// columnInfo is each column's header, preference key and width (Fyne units,
// so HiDPI scaling applies).
var columnInfo = [numColumns]struct {
	title, key string
	width      float32
}{
	ColLabel:    {"Label", "label", 64},
	ColName:     {"Name", "name", 170},
	ColState:    {"State", "state", 96},
	ColClass:    {"Class", "class", 112},
	ColTemplate: {"Template", "template", 140},
	ColNetVM:    {"Net qube", "netvm", 170},
	ColCPU:      {"CPU", "cpu", 64},
	ColMemory:   {"Memory", "memory", 90},
	ColDisk:     {"Disk", "disk", 84},
	ColIP:       {"IP", "ip", 110},
}

func (c Column) String() string { return columnInfo[c].title }

func columnByKey(key string) (Column, bool) {
	for c := range numColumns {
		if columnInfo[c].key == key {
			return c, true
		}
	}
	return 0, false
}

// Row is one qube as the table shows it.
type Row struct {
	Name  string
	Class qube.Class
	State qube.State
	// Transition is "Starting" or "Halting" between a pre-event and its
	// outcome: qubesd's power state does not say so until much later.
	Transition string
	Props      map[string]qube.Property
	Internal   bool
	Loaded     bool // Details arrived at least once
	HasStats   bool // CPU and MemoryKiB come from admin.vm.Stats
	CPU        int
	MemoryKiB  int64
	DiskUsage  int64 // -1 unknown
}

// Prop returns a property value, "" when absent.
func (r *Row) Prop(name string) string { return r.Props[name].Value }

// StateText is the state as the user reads it.
func (r *Row) StateText() string {
	if r.Transition != "" {
		return r.Transition
	}
	switch r.State {
	case qube.Transient:
		return "Starting"
	case "":
		return "Unknown"
	}
	return string(r.State)
}

// Active reports whether the qube holds resources (running, paused, in transition).
func (r *Row) Active() bool { return r.State.IsActive() || r.Transition != "" }

// Text is the text of one cell.
func (r *Row) Text(c Column) string {
	switch c {
	case ColLabel:
		return r.Prop("label")
	case ColName:
		return r.Name
	case ColState:
		return r.StateText()
	case ColClass:
		return string(r.Class)
	case ColTemplate:
		return r.Prop("template")
	case ColNetVM:
		return vmPropText(r.Props["netvm"], r.Loaded)
	case ColCPU:
		if r.HasStats {
			return fmt.Sprintf("%d %%", r.CPU)
		}
	case ColMemory:
		if r.HasStats {
			return fmt.Sprintf("%d MiB", r.MemoryKiB/1024)
		}
	case ColDisk:
		if r.DiskUsage >= 0 {
			return humanBytes(r.DiskUsage)
		}
	case ColIP:
		if r.Prop("netvm") != "" {
			return r.Prop("ip")
		}
	}
	return ""
}

// vmPropText shows a qube-valued property the way Qube Manager does.
func vmPropText(p qube.Property, loaded bool) string {
	switch {
	case !loaded:
		return ""
	case p.Value == "" && p.Default:
		return "default (none)"
	case p.Value == "":
		return "none"
	case p.Default:
		return "default (" + p.Value + ")"
	}
	return p.Value
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n)/unit, 0
	for v >= unit && i < 4 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTP"[i])
}

// Power selects qubes by state or class.
type Power int

// The power filters.
const (
	AllQubes Power = iota
	RunningQubes
	HaltedQubes
	TemplateQubes
)

var powerNames = []string{"All", "Running", "Halted", "Templates"}

// Filter selects the rows shown.
type Filter struct {
	Text         string // case-insensitive, matched against name, class, template and label
	Power        Power
	ShowInternal bool
}

func (f Filter) match(r *Row) bool {
	if r.Internal && !f.ShowInternal {
		return false
	}
	switch f.Power {
	case RunningQubes:
		if !r.Active() {
			return false
		}
	case HaltedQubes:
		if r.Active() {
			return false
		}
	case TemplateQubes:
		if r.Class != qube.TemplateVM {
			return false
		}
	}
	if f.Text == "" {
		return true
	}
	t := strings.ToLower(f.Text)
	for _, s := range []string{r.Name, string(r.Class), r.Prop("template"), r.Prop("label")} {
		if strings.Contains(strings.ToLower(s), t) {
			return true
		}
	}
	return false
}

// Model holds every qube the manager knows and the filtered, sorted view
// the table shows. It is used only on the UI goroutine.
type Model struct {
	rows   map[string]*Row
	view   []*Row
	Sort   Column
	Desc   bool
	Filter Filter
	labels map[string]qube.Label
}

// NewModel returns an empty model sorted by name.
func NewModel() *Model {
	m := &Model{rows: map[string]*Row{}, Sort: ColName, labels: map[string]qube.Label{}}
	for _, l := range qube.Labels {
		m.labels[l.Name] = l
	}
	return m
}

// SetLabels replaces the label palette (custom labels included).
func (m *Model) SetLabels(ls []qube.Label) {
	for _, l := range ls {
		m.labels[l.Name] = l
	}
}

// Label returns a label by name, and whether it is known.
func (m *Model) Label(name string) (qube.Label, bool) {
	l, ok := m.labels[name]
	return l, ok
}

// Labels returns the known labels in index order.
func (m *Model) Labels() []qube.Label {
	ls := make([]qube.Label, 0, len(m.labels))
	for _, l := range m.labels {
		ls = append(ls, l)
	}
	slices.SortFunc(ls, func(a, b qube.Label) int { return cmp.Compare(a.Index, b.Index) })
	return ls
}

// Reset replaces the qube list with a fresh admin.vm.List, as after every
// (re)connection. Known details are kept until they are read again.
func (m *Model) Reset(qs []qube.Qube) {
	rows := make(map[string]*Row, len(qs))
	for _, q := range qs {
		r := m.rows[q.Name]
		if r == nil {
			r = &Row{Name: q.Name, DiskUsage: -1}
		}
		r.Class, r.State, r.Transition = q.Class, q.State, ""
		if !r.State.IsActive() {
			r.HasStats = false
		}
		rows[q.Name] = r
	}
	m.rows = rows
	m.Refresh()
}

// SetDetails stores what Backend.Details returned.
func (m *Model) SetDetails(name string, d Details) {
	r := m.rows[name]
	if r == nil {
		return
	}
	r.Props, r.Internal, r.Loaded = d.Props, d.Internal, true
	if k := d.Props["klass"].Value; k != "" && r.Class == "" {
		r.Class = qube.Class(k)
	}
}

// Effect is what an event asks of the manager beyond the model change.
type Effect struct {
	Reload []string // read these qubes' details again
	Notice string   // tell the user, in a sentence
}

// Apply changes the model as an admin.Events event says. Pre-events only
// mark transitions: qubesd sends them even when the action then fails.
func (m *Model) Apply(ev Event) Effect {
	if ev.Subject == "" {
		switch ev.Name {
		case "domain-add":
			name := ev.Args["vm"]
			if name == "" {
				return Effect{}
			}
			if m.rows[name] == nil {
				m.rows[name] = &Row{Name: name, State: qube.Halted, DiskUsage: -1}
			}
			return Effect{Reload: []string{name}}
		case "domain-delete":
			delete(m.rows, ev.Args["vm"])
		default:
			// A global default changed (default_netvm, default_dispvm…):
			// qubes that use it show a stale "default (x)".
			kind, detail, _ := strings.Cut(ev.Name, ":")
			if p, ok := strings.CutPrefix(detail, "default_"); ok && (kind == "property-set" || kind == "property-reset") {
				return Effect{Reload: m.Names(func(r *Row) bool { return r.Props[p].Default })}
			}
		}
		return Effect{}
	}
	r := m.rows[ev.Subject]
	if r == nil {
		return Effect{}
	}
	kind, detail, _ := strings.Cut(ev.Name, ":")
	switch kind {
	case "domain-pre-start":
		r.Transition = "Starting"
	case "domain-start", "domain-unpaused", "domain-resumed":
		r.State, r.Transition = qube.Running, ""
	case "domain-start-failed":
		r.State, r.Transition = qube.Halted, ""
		return Effect{Notice: sentence(fmt.Sprintf("qube %s failed to start: %s", r.Name, ev.Args["reason"]))}
	case "domain-pre-shutdown":
		r.Transition = "Halting"
	case "domain-shutdown":
		r.State, r.Transition, r.HasStats = qube.Halted, "", false
	case "domain-shutdown-failed":
		r.Transition = ""
		return Effect{Notice: sentence(fmt.Sprintf("qube %s failed to shut down: %s", r.Name, ev.Args["reason"]))}
	case "domain-paused":
		r.State = qube.Paused
	case "property-set":
		p, ok := r.Props[detail]
		if !ok {
			return Effect{Reload: []string{r.Name}}
		}
		p.Value, p.Default = ev.Args["newvalue"], false
		if p.Type == qube.TypeVM && p.Value == "None" {
			p.Value = ""
		}
		r.Props[detail] = p
	case "property-reset", "property-del":
		// The new (default) value is not in the event.
		return Effect{Reload: []string{r.Name}}
	case "domain-feature-set":
		if detail == "internal" {
			v := ev.Args["value"]
			r.Internal = v != "" && v != "0" && v != "False"
		}
	case "domain-feature-delete":
		if detail == "internal" {
			r.Internal = false
		}
	}
	return Effect{}
}

// ApplyStat records a vm-stats message.
func (m *Model) ApplyStat(s Stat) {
	if r := m.rows[s.Name]; r != nil && r.Active() {
		r.CPU, r.MemoryKiB, r.HasStats = s.CPU, s.MemoryKiB, true
	}
}

// Refresh recomputes the view after changes to rows, filter or sort.
func (m *Model) Refresh() {
	m.view = m.view[:0]
	for _, r := range m.rows {
		if m.Filter.match(r) {
			m.view = append(m.view, r)
		}
	}
	slices.SortFunc(m.view, func(a, b *Row) int {
		c := m.compare(a, b)
		if m.Desc {
			c = -c
		}
		if c == 0 {
			c = strings.Compare(a.Name, b.Name)
		}
		return c
	})
}

func (m *Model) compare(a, b *Row) int {
	switch m.Sort {
	case ColLabel:
		return cmp.Compare(m.labelIndex(a), m.labelIndex(b))
	case ColState:
		return cmp.Compare(stateRank(a), stateRank(b))
	case ColCPU:
		return cmp.Compare(statOr(a, int64(a.CPU)), statOr(b, int64(b.CPU)))
	case ColMemory:
		return cmp.Compare(statOr(a, a.MemoryKiB), statOr(b, b.MemoryKiB))
	case ColDisk:
		return cmp.Compare(a.DiskUsage, b.DiskUsage)
	}
	return strings.Compare(a.Text(m.Sort), b.Text(m.Sort))
}

func (m *Model) labelIndex(r *Row) int {
	if l, ok := m.labels[r.Prop("label")]; ok {
		return l.Index
	}
	return 1 << 30
}

// statOr sorts qubes without stats below idle running ones.
func statOr(r *Row, v int64) int64 {
	if !r.HasStats {
		return -1
	}
	return v
}

func stateRank(r *Row) int {
	switch {
	case r.Transition == "Starting" || r.State == qube.Transient:
		return 1
	case r.Transition == "Halting" || r.State == qube.Halting:
		return 3
	}
	switch r.State {
	case qube.Running:
		return 0
	case qube.Paused, qube.Suspended:
		return 2
	case qube.Halted:
		return 5
	}
	return 4
}

// Len is the number of rows shown.
func (m *Model) Len() int { return len(m.view) }

// Row returns the i-th row shown.
func (m *Model) Row(i int) *Row { return m.view[i] }

// Index returns the position of a qube in the view, or -1.
func (m *Model) Index(name string) int {
	for i, r := range m.view {
		if r.Name == name {
			return i
		}
	}
	return -1
}

// Get returns a qube by name, shown or not.
func (m *Model) Get(name string) *Row { return m.rows[name] }

// Counts returns the number of qubes and of active ones.
func (m *Model) Counts() (total, active int) {
	for _, r := range m.rows {
		if r.Active() {
			active++
		}
	}
	return len(m.rows), active
}

// Names returns the names of qubes matching keep, sorted.
func (m *Model) Names(keep func(*Row) bool) []string {
	var ns []string
	for _, r := range m.rows {
		if keep(r) {
			ns = append(ns, r.Name)
		}
	}
	slices.Sort(ns)
	return ns
}

// sentence makes a daemon message read as a sentence: capital first letter,
// final full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "!") && !strings.HasSuffix(s, "?") {
		s += "."
	}
	return s
}
