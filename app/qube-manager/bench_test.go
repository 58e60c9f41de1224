package main

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/qube-desktop/qube-desktop/gui"
	"github.com/qube-desktop/qube-desktop/internal/qube"
)

// BenchmarkManager1000 measures the manager against qube-hostd serving
// 1000 qubes: time to the first drawn table (list shown and the window
// captured), time until every row has its properties and then its disk
// usage, heap in use then, and
// the time from a property change to its row.
func BenchmarkManager1000(b *testing.B) {
	c := startHostd(b)
	create(b, c, qube.TemplateVM, "debian-12", "black", "")
	for i := range 999 {
		create(b, c, qube.AppVM, fmt.Sprintf("app-%04d", i), qube.Labels[i%8].Name, "debian-12")
	}
	b.ResetTimer()
	var first, all, disks, event time.Duration
	var heap uint64
	for i := range b.N {
		start := time.Now()
		m, w, ui := startManager(b, c, "")
		ui.until(b, "first table", func() bool { return m.Shown() >= 1000 })
		w.Canvas().Capture()
		first += time.Since(start)
		ui.until(b, "all details", func() bool { return allLoadedCol(m, gui.ColTemplate) })
		all += time.Since(start)
		ui.until(b, "all disk usages", func() bool { return allLoadedCol(m, gui.ColDisk) })
		disks += time.Since(start)
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		heap += ms.HeapInuse

		label := qube.Labels[(i+1)%8].Name
		if label == m.RowText("app-0500")[gui.ColLabel] {
			label = "purple"
		}
		start = time.Now()
		if err := c.VMProps("app-0500").Set(context.Background(), "label", label); err != nil {
			b.Fatal(err)
		}
		ui.until(b, "label change", func() bool { return m.RowText("app-0500")[gui.ColLabel] == label })
		event += time.Since(start)
	}
	n := float64(b.N)
	b.ReportMetric(float64(first.Milliseconds())/n, "ms-first-table")
	b.ReportMetric(float64(all.Milliseconds())/n, "ms-all-details")
	b.ReportMetric(float64(disks.Milliseconds())/n, "ms-all-disks")
	b.ReportMetric(float64(heap>>20)/n, "MiB-heap")
	b.ReportMetric(float64(event.Microseconds())/n/1000, "ms-event-to-row")
}

// allLoadedCol reports whether every app qube's row has the column filled.
func allLoadedCol(m *gui.Manager, col gui.Column) bool {
	for i := range 999 {
		if r := m.RowText(fmt.Sprintf("app-%04d", i)); r == nil || r[col] == "" {
			return false
		}
	}
	return true
}
