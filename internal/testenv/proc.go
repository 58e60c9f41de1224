package testenv

import (
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// stop ends a started process: SIGTERM, then SIGKILL after two seconds.
func stop(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// prefixWriter sends a child's output to the test log, line by line.
type prefixWriter struct {
	t      testing.TB
	prefix string
	buf    strings.Builder
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.buf.Write(b)
	for {
		s := p.buf.String()
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			break
		}
		p.t.Log(p.prefix + s[:i])
		p.buf.Reset()
		p.buf.WriteString(s[i+1:])
	}
	return len(b), nil
}
