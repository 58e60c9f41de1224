// Package testenv starts the real components that integration tests need
// (Xvfb, dbus-daemon, compositors) and decides what a missing one means:
// a skip on a developer's machine, a failure under CI=true.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// InCI reports whether the tests run under CI, where nothing may be skipped
// for want of a component.
func InCI() bool { return os.Getenv("CI") == "true" }

// Missing skips the test with the reason, or fails it under CI=true.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if InCI() {
		t.Fatalf("CI=true: required component missing: "+format, args...)
	}
	t.Skipf("component missing (set CI=true to make this a failure): "+format, args...)
}

// NeedCommands returns the path of each named program, or calls Missing.
func NeedCommands(t testing.TB, names ...string) []string {
	t.Helper()
	paths := make([]string, len(names))
	for i, n := range names {
		p, err := exec.LookPath(n)
		if err != nil {
			Missing(t, "program %q not on PATH (see scripts/install-deps)", n)
		}
		paths[i] = p
	}
	return paths
}
