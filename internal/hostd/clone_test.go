package hostd

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/qube-desktop/qube-desktop/internal/adminapi"
)

// The manager's clone (adminapi.Client.Clone, qubesadmin's clone_vm)
// works against hostd, home included, without following symlinks.
func TestCloneWithTheAdminAPIClient(t *testing.T) {
	d := startDaemon(t, failingDriver(t))
	d.mustCall(t, "admin.vm.Create.TemplateVM", "", "dom0", "name=tpl label=black")
	d.mustCall(t, "admin.vm.Create.AppVM", "tpl", "dom0", "name=work label=blue")
	d.mustCall(t, "admin.vm.property.Set", "memory", "work", "800")
	d.mustCall(t, "admin.vm.tag.Set", "mine", "work", "")
	d.mustCall(t, "admin.vm.feature.Set", "menu-items", "work", "xterm.desktop")
	home := filepath.Join(d.dir, "data", "qubes", "work", "home")
	os.MkdirAll(filepath.Join(home, "docs"), 0o700)
	os.WriteFile(filepath.Join(home, "docs", "note"), []byte("hello"), 0o600)
	os.Symlink("/etc/shadow", filepath.Join(home, "shadow"))

	cl := adminapi.New(adminapi.UnixTransport{Path: d.sock})
	if err := cl.Clone(context.Background(), "work", "work2", adminapi.CloneOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := d.mustCall(t, "admin.vm.property.Get", "memory", "work2", ""); got != "default=False type=int 800" {
		t.Errorf("memory %q", got)
	}
	if got := d.mustCall(t, "admin.vm.property.Get", "template", "work2", ""); got != "default=False type=vm tpl" {
		t.Errorf("template %q", got)
	}
	if got := d.mustCall(t, "admin.vm.tag.Get", "mine", "work2", ""); got != "1" {
		t.Errorf("tag %q", got)
	}
	if got := d.mustCall(t, "admin.vm.feature.Get", "menu-items", "work2", ""); got != "xterm.desktop" {
		t.Errorf("feature %q", got)
	}
	home2 := filepath.Join(d.dir, "data", "qubes", "work2", "home")
	if b, err := os.ReadFile(filepath.Join(home2, "docs", "note")); err != nil || string(b) != "hello" {
		t.Errorf("copied file: %q, %v", b, err)
	}
	if l, err := os.Readlink(filepath.Join(home2, "shadow")); err != nil || l != "/etc/shadow" {
		t.Errorf("symlink copied as %q, %v", l, err)
	}
	// A token works once.
	tok := d.mustCall(t, "admin.vm.volume.CloneFrom", "private", "work", "")
	d.mustCall(t, "admin.vm.volume.CloneTo", "private", "work2", tok)
	if _, err := d.call(t, "admin.vm.volume.CloneTo", "private", "work2", tok); err == nil {
		t.Error("a used token was accepted again")
	}
	if _, err := d.call(t, "admin.vm.volume.CloneFrom", "root", "work", ""); !errors.Is(err, adminapi.ErrPermissionDenied) {
		t.Errorf("CloneFrom root: %v", err)
	}
}
