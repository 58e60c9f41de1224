package hostd

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/qube-desktop/qube-desktop/internal/adminapi"
)

// privateUsage is the usage= line of the qube's private volume.
func privateUsage(t *testing.T, d *testDaemon, name string) uint64 {
	t.Helper()
	info := d.mustCall(t, "admin.vm.volume.Info", "private", name, "")
	m := regexp.MustCompile(`(?m)^usage=(\d+)$`).FindStringSubmatch(info)
	if m == nil {
		t.Fatalf("no usage in %q", info)
	}
	n, _ := strconv.ParseUint(m[1], 10, 64)
	return n
}

// A halted qube's home is measured once; the daemon forgets the figure
// when it changes the home itself (clone, remove).
func TestHomeUsageCachedUntilTheDaemonChangesTheHome(t *testing.T) {
	d := startDaemon(t, failingDriver(t))
	d.mustCall(t, "admin.vm.Create.StandaloneVM", "", "dom0", "name=work label=blue")
	d.mustCall(t, "admin.vm.Create.StandaloneVM", "", "dom0", "name=big label=red")
	big := filepath.Join(d.dir, "data", "qubes", "big", "home", "big")
	if err := os.WriteFile(big, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	if n := privateUsage(t, d, "big"); n < 1<<20 {
		t.Fatalf("usage of a home holding 1 MiB: %d", n)
	}
	before := privateUsage(t, d, "work")
	if before >= 1<<20 {
		t.Fatalf("usage of an empty home: %d", before)
	}
	// A file the host's user drops in is not walked for on every request.
	home := filepath.Join(d.dir, "data", "qubes", "work", "home")
	if err := os.WriteFile(filepath.Join(home, "dropped"), make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	if n := privateUsage(t, d, "work"); n != before {
		t.Fatalf("usage walked again: %d, cached %d", n, before)
	}
	// Cloning big's home over work's is seen at once.
	os.Remove(filepath.Join(home, "dropped"))
	if err := os.WriteFile(big, make([]byte, 2<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	tok := d.mustCall(t, "admin.vm.volume.CloneFrom", "private", "big", "")
	d.mustCall(t, "admin.vm.volume.CloneTo", "private", "work", tok)
	if n := privateUsage(t, d, "work"); n < 2<<20 {
		t.Fatalf("usage after cloning 2 MiB in: %d", n)
	}
	// A qube created under a removed qube's name starts from its own home.
	d.mustCall(t, "admin.vm.Remove", "", "work", "")
	d.mustCall(t, "admin.vm.Create.StandaloneVM", "", "dom0", "name=work label=blue")
	if n := privateUsage(t, d, "work"); n >= 1<<20 {
		t.Fatalf("usage of a re-created qube: %d", n)
	}
}

// What a qube writes while it runs is counted once it halts.
func TestHomeUsageAfterTheQubeRan(t *testing.T) {
	d := sandboxDaemon(t)
	d.mustCall(t, "admin.vm.Create.StandaloneVM", "", "dom0", "name=work label=blue")
	d.mustCall(t, "admin.vm.Start", "", "work", "")
	before := privateUsage(t, d, "work")
	d.mustCall(t, adminapi.RunMethod, "", "work", "head -c 3000000 /dev/urandom > ~/f && echo written > ~/done")
	waitFile(t, filepath.Join(d.dir, "data", "qubes", "work", "home", "done"), "written\n")
	d.mustCall(t, "admin.vm.Shutdown", "wait", "work", "")
	if n := privateUsage(t, d, "work"); n < before+3000000 {
		t.Fatalf("usage after writing 3 MB: %d, before %d", n, before)
	}
}
