package main

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/qube-desktop/qube-desktop/internal/adminapi/adminapitest"
)

// TestBinary builds qvm and checks its output and exit codes as a shell
// sees them, against replayed qubesd recordings.
func TestBinary(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "qvm")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	recs := adminapitest.ByName(adminapitest.Load(t))
	srv := adminapitest.NewReplay(t, recs["203-admin.vm.property.Get-label"], recs["217-admin.vm.property.Get-nosuchprop"])
	for _, tc := range []struct {
		args         []string
		code         int
		stdout, errs string
	}{
		{[]string{"--socket", srv.Path, "prefs", "work", "label"}, 0, "blue\n", ""},
		{[]string{"--socket", srv.Path, "prefs", "work", "nosuchprop"}, 1, "", "qvm prefs: error: Invalid property 'nosuchprop' of work\n"},
		{[]string{"frob"}, 2, "", "qvm: error: unknown command \"frob\" (run 'qvm --help' for the list)\n"},
	} {
		var out, errb bytes.Buffer
		cmd := exec.Command(bin, tc.args...)
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tc.code || out.String() != tc.stdout || errb.String() != tc.errs {
			t.Errorf("qvm %v: exit %d, stdout %q, stderr %q", tc.args, code, out.String(), errb.String())
		}
	}
}
