package testenv

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Xvfb is a running virtual X server owned by one test.
type Xvfb struct {
	Display string // ":N"
	cmd     *exec.Cmd
}

// StartXvfb starts Xvfb on a free display (chosen by Xvfb itself through
// -displayfd) with the given screen size and stops it when the test ends.
func StartXvfb(t testing.TB, width, height int) *Xvfb {
	t.Helper()
	NeedCommands(t, "Xvfb")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0",
		fmt.Sprintf("%dx%dx24", width, height), "-nolisten", "tcp", "-noreset")
	cmd.ExtraFiles = []*os.File{w}
	cmd.Stderr = &prefixWriter{t: t, prefix: "Xvfb: "}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start Xvfb: %v", err)
	}
	w.Close()
	t.Cleanup(func() { stop(cmd) })

	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(r).ReadString('\n')
		r.Close()
		line <- strings.TrimSpace(s)
	}()
	select {
	case n := <-line:
		if n == "" {
			t.Fatalf("Xvfb exited before announcing its display")
		}
		return &Xvfb{Display: ":" + n, cmd: cmd}
	case <-time.After(20 * time.Second):
		t.Fatalf("Xvfb did not announce its display within 20 s")
	}
	return nil
}

// Env returns os.Environ with DISPLAY pointing at this server.
func (x *Xvfb) Env() []string {
	return append(os.Environ(), "DISPLAY="+x.Display)
}
