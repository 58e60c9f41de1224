package hostd

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/qube-desktop/qube-desktop/internal/store"
)

// daemonWithQubes starts a daemon serving one template and n-1 AppVMs
// based on it, named q0, q1, ... The AppVMs go into the store in one write
// (a create over the API costs a store write each), with their homes.
func daemonWithQubes(b *testing.B, n int) *testDaemon {
	d := startDaemon(b, failingDriver(b))
	d.mustCall(b, "admin.vm.Create.TemplateVM", "", "dom0", "name=tpl label=black")
	err := d.srv.st.Update(func(c *store.Collection) error {
		for i := range n - 1 {
			name := fmt.Sprint("q", i)
			c.Qubes[name] = &store.Qube{Name: name, Class: "AppVM", UUID: store.NewUUID(), QID: i + 2,
				Props: map[string]string{"label": "red", "template": "tpl"}}
			if err := d.srv.makeHome(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// BenchmarkVMList is one admin.vm.List over the socket with 100 qubes.
func BenchmarkVMList(b *testing.B) {
	d := daemonWithQubes(b, 100)
	for b.Loop() {
		d.mustCall(b, "admin.vm.List", "", "dom0", "")
	}
}

// BenchmarkVMList1000 is one admin.vm.List over the socket with 1000 qubes.
func BenchmarkVMList1000(b *testing.B) {
	d := daemonWithQubes(b, 1000)
	for b.Loop() {
		d.mustCall(b, "admin.vm.List", "", "dom0", "")
	}
}

// BenchmarkGetAll1000 is what a manager does to fill its table: one
// admin.vm.property.GetAll per qube for all 1000 qubes (one op = 1000 calls).
func BenchmarkGetAll1000(b *testing.B) {
	d := daemonWithQubes(b, 1000)
	for b.Loop() {
		d.mustCall(b, "admin.vm.property.GetAll", "", "tpl", "")
		for i := range 999 {
			d.mustCall(b, "admin.vm.property.GetAll", "", fmt.Sprintf("q%d", i), "")
		}
	}
}

// BenchmarkVolumeInfo1000 is the disk-usage column of a manager: one
// admin.vm.volume.Info private per qube for all 1000 qubes (one op = 1000
// calls), each qube's home holding a few small files. Every op starts
// with no usage cached, as in a daemon's first load.
func BenchmarkVolumeInfo1000(b *testing.B) { benchVolumeInfo(b, true) }

// BenchmarkVolumeInfo1000Cached is the same load answered from the usage
// cache, as for a second manager or a reload.
func BenchmarkVolumeInfo1000Cached(b *testing.B) { benchVolumeInfo(b, false) }

func benchVolumeInfo(b *testing.B, cold bool) {
	d := daemonWithQubes(b, 1000)
	names := []string{"tpl"}
	for i := range 999 {
		names = append(names, fmt.Sprint("q", i))
		home := d.srv.homeDir(names[i+1])
		for j := range 10 {
			if err := os.WriteFile(filepath.Join(home, fmt.Sprint("f", j)), make([]byte, 5000), 0o600); err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, n := range names {
		d.mustCall(b, "admin.vm.volume.Info", "private", n, "")
	}
	for b.Loop() {
		for _, n := range names {
			if cold {
				d.srv.usage.forget(n)
			}
			d.mustCall(b, "admin.vm.volume.Info", "private", n, "")
		}
	}
}

// BenchmarkPropertySet is one admin.vm.property.Set: a store write with
// two fsyncs and the events.
func BenchmarkPropertySet(b *testing.B) {
	d := startDaemon(b, failingDriver(b))
	d.mustCall(b, "admin.vm.Create.StandaloneVM", "", "dom0", "name=q label=red")
	i := 0
	for b.Loop() {
		i++
		d.mustCall(b, "admin.vm.property.Set", "memory", "q", fmt.Sprint(100+i%1000))
	}
}

// BenchmarkPropertySet1000 is one admin.vm.property.Set with 1000 qubes in
// the store: the whole file is rewritten.
func BenchmarkPropertySet1000(b *testing.B) {
	d := daemonWithQubes(b, 1000)
	i := 0
	for b.Loop() {
		i++
		d.mustCall(b, "admin.vm.property.Set", "memory", "q500", fmt.Sprint(100+i%1000))
	}
}
