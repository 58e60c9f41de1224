package main

import (
	"errors"
	"testing"

	"github.com/qube-desktop/qube-desktop/gui"
	"github.com/qube-desktop/qube-desktop/internal/adminapi"
)

func TestHumanErrors(t *testing.T) {
	inUse := human(&adminapi.Error{Class: "QubesVMInUseError", Message: "There are other VMs connected to this VM: work", Call: "admin.vm.Shutdown"})
	if inUse.Error() != "There are other VMs connected to this VM: work" {
		t.Errorf("shown as %q", inUse)
	}
	if !errors.Is(inUse, gui.ErrInUse) || !errors.Is(inUse, adminapi.ErrVMInUse) {
		t.Error("an in-use refusal does not match gui.ErrInUse and adminapi.ErrVMInUse")
	}
	other := human(&adminapi.Error{Class: "QubesVMNotStartedError", Message: "Domain is powered off: 'work'"})
	if errors.Is(other, gui.ErrInUse) {
		t.Error("a not-started error matches gui.ErrInUse")
	}
	if got := human(&adminapi.Error{Class: "QubesException"}).Error(); got != "qubesd refused it (QubesException)" {
		t.Errorf("empty message shown as %q", got)
	}
}
