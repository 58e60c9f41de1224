package hostd

import (
	"fmt"
	"testing"
)

// BenchmarkVMList is one admin.vm.List over the socket with 100 qubes.
func BenchmarkVMList(b *testing.B) {
	d := startDaemon(b, failingDriver(b))
	d.mustCall(b, "admin.vm.Create.TemplateVM", "", "dom0", "name=tpl label=black")
	for i := range 99 {
		d.mustCall(b, "admin.vm.Create.AppVM", "tpl", "dom0", fmt.Sprintf("name=q%d label=red", i))
	}
	for b.Loop() {
		d.mustCall(b, "admin.vm.List", "", "dom0", "")
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
