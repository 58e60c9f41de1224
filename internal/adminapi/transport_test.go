package adminapi

import (
	"os"
	"os/exec"
	"testing"
)

func TestTransportFromEnvPrefersUserHostd(t *testing.T) {
	if _, err := os.Stat(DefaultSocket); err == nil {
		t.Skip("a system qubesd socket exists here: it wins, as it should")
	}
	if _, err := exec.LookPath("qrexec-client-vm"); err == nil {
		t.Skip("this is a qube: the Admin API goes through qrexec")
	}
	t.Setenv(SocketEnv, "")
	t.Setenv("XDG_RUNTIME_DIR", "/run/user/1000")
	if got := TransportFromEnv(""); got != (UnixTransport{Path: "/run/user/1000/qubes/qubesd.sock"}) {
		t.Errorf("TransportFromEnv() = %#v, want qube-hostd's user socket", got)
	}
	if got := TransportFromEnv("/tmp/x.sock"); got != (UnixTransport{Path: "/tmp/x.sock"}) {
		t.Errorf("TransportFromEnv(flag) = %#v", got)
	}
	t.Setenv(SocketEnv, "/tmp/env.sock")
	if got := TransportFromEnv(""); got != (UnixTransport{Path: "/tmp/env.sock"}) {
		t.Errorf("TransportFromEnv() with $%s = %#v", SocketEnv, got)
	}
}
