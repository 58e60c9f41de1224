package tray

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/qube-desktop/qube-desktop/internal/sni"
	"github.com/qube-desktop/qube-desktop/internal/testenv"
)

// manyQubes makes 1000 qubes of which the first running ones run.
func manyQubes(running int) *fakeDaemon {
	labels := []Qube{{Label: red}, {Label: green}, {Label: blue}, {Label: black}}
	var qs []Qube
	for i := range 1000 {
		q := labels[i%len(labels)]
		q.Name = fmt.Sprintf("q%04d", i)
		if i < running {
			q.State = Running
		}
		qs = append(qs, q)
	}
	return newFakeDaemon(qs...)
}

// BenchmarkPublish is one menu update after a stats sample, with 1000
// qubes of which 50 or all run: rebuild the menu model and diff it into an
// ItemsPropertiesUpdated (no bus; the menu is not exported). Updates are
// coalesced to at most one per UpdateInterval.
func BenchmarkPublish(b *testing.B) {
	for _, running := range []int{50, 1000} {
		b.Run(fmt.Sprintf("running=%d", running), func(b *testing.B) {
			tr := New(Options{Source: manyQubes(running)})
			tr.reload(context.Background())
			tr.menu = sni.NewMenu(nil)
			qs := visible(tr.qubes)
			tr.lastIcon = fmt.Sprint(true, iconColours(qs), tr.toolTip(qs)) // stats leave the icon alone
			i := 0
			for b.Loop() {
				i++
				tr.onStats(Stats{Qube: fmt.Sprintf("q%04d", i%running), CPUPercent: i % 100, MemoryKiB: uint64(i)})
				tr.publish()
			}
		})
	}
}

// BenchmarkGetLayout is what a panel pays to read the whole menu (depth -1)
// over a real dbus-daemon, with 50 or 1000 running qubes, decoding
// included.
func BenchmarkGetLayout(b *testing.B) {
	for _, running := range []int{50, 1000} {
		b.Run(fmt.Sprintf("running=%d", running), func(b *testing.B) { benchGetLayout(b, running) })
	}
}

func benchGetLayout(b *testing.B, running int) {
	bus := testenv.StartDBus(b)
	tr := New(Options{Source: manyQubes(running), Logf: func(string, ...any) {}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- tr.Run(ctx, bus.Conn(b)) }()
	b.Cleanup(func() { cancel(); <-done })
	host := bus.Conn(b)
	var name string
	for deadline := time.Now().Add(5 * time.Second); name == ""; time.Sleep(10 * time.Millisecond) {
		var names []string
		host.BusObject().Call("org.freedesktop.DBus.ListNames", 0).Store(&names)
		for _, n := range names {
			if len(n) > 27 && n[:27] == "org.kde.StatusNotifierItem-" {
				name = n
			}
		}
		if time.Now().After(deadline) {
			b.Fatal("tray did not appear on the bus")
		}
	}
	menu := host.Object(name, sni.MenuPath)
	for {
		c := menu.Call(sni.MenuInterface+".GetLayout", 0, int32(0), int32(-1), []string{})
		if c.Err == nil && len(c.Body[1].([]any)[2].([]dbus.Variant)) >= running {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for b.Loop() {
		if err := menu.Call(sni.MenuInterface+".GetLayout", 0, int32(0), int32(-1), []string{}).Err; err != nil {
			b.Fatal(err)
		}
	}
}
