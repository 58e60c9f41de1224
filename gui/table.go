package gui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// qubeTable is a widget.Table that selects whole rows, by qube name, and is
// driven from the keyboard: Up, Down, Page Up/Down, Home and End move the
// selection, Return opens the settings, Delete removes the qube.
// widget.Table's own per-cell selection and focus markers are not used.
type qubeTable struct {
	widget.Table
	m       *Manager
	focused bool
}

func newQubeTable(m *Manager) *qubeTable {
	t := &qubeTable{m: m}
	t.Length = func() (int, int) { return m.model.Len(), int(numColumns) }
	t.CreateCell = func() fyne.CanvasObject { return newCell(t) }
	t.UpdateCell = func(id widget.TableCellID, o fyne.CanvasObject) { o.(*cell).update(id) }
	t.ShowHeaderRow = true
	t.CreateHeader = func() fyne.CanvasObject {
		b := widget.NewButton("", nil)
		b.Importance = widget.LowImportance
		b.IconPlacement = widget.ButtonIconTrailingText
		b.Alignment = widget.ButtonAlignLeading
		return b
	}
	t.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		b := o.(*widget.Button)
		col := Column(id.Col)
		b.SetText(col.String())
		switch {
		case col != m.model.Sort:
			b.SetIcon(nil)
		case m.model.Desc:
			b.SetIcon(theme.MenuDropDownIcon())
		default:
			b.SetIcon(theme.MenuDropUpIcon())
		}
		b.OnTapped = func() { m.SortBy(col) }
	}
	t.ExtendBaseWidget(t)
	for c := range numColumns {
		t.SetColumnWidth(int(c), columnInfo[c].width)
	}
	return t
}

// Tapped on the gaps between cells only takes the focus.
func (t *qubeTable) Tapped(*fyne.PointEvent) { t.focus() }

func (t *qubeTable) focus() {
	if c := fyne.CurrentApp().Driver().CanvasForObject(t); c != nil {
		c.Focus(t)
	}
}

// FocusGained highlights the selection more strongly.
func (t *qubeTable) FocusGained() { t.focused = true; t.Refresh() }

// FocusLost dims the selection.
func (t *qubeTable) FocusLost() { t.focused = false; t.Refresh() }

// TypedKey moves the row selection and runs the row's main actions.
func (t *qubeTable) TypedKey(ev *fyne.KeyEvent) {
	m := t.m
	page := int(t.Size().Height/t.MinSize().Height) - 1
	if page < 1 {
		page = 10
	}
	switch ev.Name {
	case fyne.KeyUp:
		m.moveSelection(-1)
	case fyne.KeyDown:
		m.moveSelection(1)
	case fyne.KeyPageUp:
		m.moveSelection(-page)
	case fyne.KeyPageDown:
		m.moveSelection(page)
	case fyne.KeyHome:
		m.moveSelection(-m.model.Len())
	case fyne.KeyEnd:
		m.moveSelection(m.model.Len())
	case fyne.KeyReturn, fyne.KeyEnter:
		m.runAction("Settings…")
	case fyne.KeyDelete:
		m.runAction("Remove…")
	case fyne.KeyF10:
		m.showContextMenuAtSelection()
	}
}

// TypedRune ignores text typed into the table.
func (t *qubeTable) TypedRune(rune) {}

// cell is one table cell: a selection background under either a label
// swatch or a text. It handles taps itself, since widget.Table has no
// right-click hook and would otherwise select a single cell.
type cell struct {
	widget.BaseWidget
	t      *qubeTable
	id     widget.TableCellID
	bg     *canvas.Rectangle
	swatch *canvas.Rectangle
	text   *widget.Label
}

func newCell(t *qubeTable) *cell {
	c := &cell{t: t, bg: canvas.NewRectangle(color.Transparent), swatch: canvas.NewRectangle(color.Transparent),
		text: widget.NewLabel("")}
	c.swatch.SetMinSize(fyne.NewSize(16, 16))
	c.swatch.CornerRadius = 3
	c.swatch.StrokeWidth = 1 // keeps a black label visible on a dark theme
	c.text.Truncation = fyne.TextTruncateEllipsis
	c.ExtendBaseWidget(c)
	return c
}

func (c *cell) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.NewStack(c.bg, container.NewCenter(c.swatch), c.text))
}

func (c *cell) update(id widget.TableCellID) {
	c.id = id
	m := c.t.m
	if id.Row >= m.model.Len() {
		return
	}
	r := m.model.Row(id.Row)
	switch {
	case r.Name != m.selected:
		c.bg.FillColor = color.Transparent
	case c.t.focused:
		c.bg.FillColor = theme.Color(theme.ColorNameSelection)
	default:
		c.bg.FillColor = theme.Color(theme.ColorNameHover)
	}
	c.bg.Refresh()
	if Column(id.Col) == ColLabel {
		c.text.Hide()
		if l, ok := m.model.Label(r.Prop("label")); ok {
			c.swatch.FillColor = l.Color()
			c.swatch.StrokeColor = theme.Color(theme.ColorNameDisabled)
			c.swatch.Show()
		} else {
			c.swatch.Hide()
		}
		c.swatch.Refresh()
		return
	}
	c.swatch.Hide()
	c.text.Show()
	// SetText reshapes the text; skip it when nothing changed, since every
	// event refreshes all visible cells.
	bold, txt := Column(id.Col) == ColName, r.Text(Column(id.Col))
	if c.text.Text != txt || c.text.TextStyle.Bold != bold {
		c.text.TextStyle.Bold = bold
		c.text.SetText(txt)
	}
}

// Tapped selects the row.
func (c *cell) Tapped(*fyne.PointEvent) {
	c.t.m.selectRow(c.id.Row)
	c.t.focus()
}

// TappedSecondary selects the row and opens its context menu.
func (c *cell) TappedSecondary(ev *fyne.PointEvent) {
	c.t.m.selectRow(c.id.Row)
	c.t.focus()
	c.t.m.showContextMenu(ev.AbsolutePosition)
}
