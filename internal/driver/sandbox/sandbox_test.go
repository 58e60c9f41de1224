package sandbox

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/qube-desktop/qube-desktop/internal/driver"
	"github.com/qube-desktop/qube-desktop/internal/testenv"
)

func TestMain(m *testing.M) {
	RunInitIfRequested()
	os.Exit(m.Run())
}

func newDriver(t *testing.T, hide ...string) *Driver {
	t.Helper()
	testenv.NeedCommands(t, "bwrap")
	d, err := New(Config{Hide: hide, LogDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// sh runs a shell command in the qube and returns its output and exit code.
func sh(t *testing.T, d *Driver, qube, script string) (string, int) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	p, err := d.Run(qube, []string{"sh", "-c", script}, driver.RunOptions{Stdout: w, Stderr: w})
	w.Close()
	if err != nil {
		r.Close()
		t.Fatalf("run %q: %v", script, err)
	}
	out, _ := io.ReadAll(r)
	r.Close()
	code, err := p.Wait()
	if err != nil {
		t.Fatalf("wait %q: %v", script, err)
	}
	return string(out), code
}

func waitHalted(t *testing.T, d *Driver, name string) {
	t.Helper()
	select {
	case n := <-d.Halted():
		if n != name {
			t.Fatalf("halted %q, want %q", n, name)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no halt notification", name)
	}
	if p := d.Power(name); p != driver.Halted {
		t.Fatalf("%s power %v after halt", name, p)
	}
}

func TestIsolation(t *testing.T) {
	data := t.TempDir()
	secret := filepath.Join(data, "other-qube-home")
	os.MkdirAll(secret, 0o700)
	os.WriteFile(filepath.Join(secret, "secret"), []byte("x"), 0o600)
	hostTmp, _ := os.CreateTemp("/tmp", "hostonly")
	hostTmp.Close()
	defer os.Remove(hostTmp.Name())

	d := newDriver(t, data)
	home := filepath.Join(t.TempDir(), "home")
	os.Mkdir(home, 0o700)
	if err := d.Start(driver.Spec{Name: "work", Home: home}); err != nil {
		t.Fatal(err)
	}
	if p := d.Power("work"); p != driver.Running {
		t.Fatalf("power %v", p)
	}
	checks := []struct{ script, want string }{
		{"hostname", "work\n"},
		{"id -u", "1000\n"},
		{"ls -A /root | wc -l", "0\n"},
		{"ls -A /home", "user\n"},
		{"test -e " + filepath.Join(secret, "secret") + " && echo visible || echo hidden", "hidden\n"},
		{"test -e " + hostTmp.Name() + " && echo visible || echo hidden", "hidden\n"},
		{"cat /proc/1/cmdline | tr '\\0' ' '; echo", "/proc/self/fd/7 \n"},
		{"for f in /proc/1/fd/*; do test -d $f && echo init holds a directory fd $f; done; true", ""},
		{"ls /proc | grep -c '^[0-9]'", "3\n"}, // init, sh, ls (grep too?) checked below
		{"grep -c : /proc/net/dev", "1\n"},     // only lo
		{"touch /usr/qube-was-here 2>/dev/null && echo rw || echo ro", "ro\n"},
		{"echo persisted > ~/f && cat /home/user/f", "persisted\n"},
		{"unshare -U true 2>/dev/null && echo userns || echo nouserns", "nouserns\n"},
	}
	for _, c := range checks {
		got, code := sh(t, d, "work", c.script)
		if strings.HasPrefix(c.script, "ls /proc") {
			// The pipeline's processes are all there is: at most a handful.
			if n := strings.TrimSpace(got); n != "3" && n != "4" && n != "5" {
				t.Errorf("pid namespace shows %s processes", n)
			}
			continue
		}
		if got != c.want || code != 0 {
			t.Errorf("%q: got %q (exit %d), want %q", c.script, got, code, c.want)
		}
	}
	if b, err := os.ReadFile(filepath.Join(home, "f")); err != nil || string(b) != "persisted\n" {
		t.Errorf("home file on host: %q, %v", b, err)
	}
	if _, code := sh(t, d, "work", "exit 7"); code != 7 {
		t.Errorf("exit code %d, want 7", code)
	}
	if _, err := d.Run("work", []string{"no-such-program-xyz"}, driver.RunOptions{}); err == nil ||
		!strings.Contains(err.Error(), "not found") {
		t.Errorf("missing program: %v", err)
	}
	if err := d.Start(driver.Spec{Name: "work", Home: home}); err != driver.ErrRunning {
		t.Errorf("second start: %v", err)
	}
	if err := d.Shutdown("work", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	waitHalted(t, d, "work")
	if _, err := d.Run("work", []string{"true"}, driver.RunOptions{}); err != driver.ErrNotRunning {
		t.Errorf("run in halted qube: %v", err)
	}
	// The home survives a restart.
	if err := d.Start(driver.Spec{Name: "work", Home: home}); err != nil {
		t.Fatal(err)
	}
	if got, _ := sh(t, d, "work", "cat ~/f"); got != "persisted\n" {
		t.Errorf("home after restart: %q", got)
	}
	d.Kill("work")
	waitHalted(t, d, "work")
}

func TestNetworkWhenNetvmSet(t *testing.T) {
	d := newDriver(t)
	if err := d.Start(driver.Spec{Name: "net", Network: true}); err != nil {
		t.Fatal(err)
	}
	host, _ := os.ReadFile("/proc/net/dev")
	got, _ := sh(t, d, "net", "cat /proc/net/dev")
	if got != string(host) {
		t.Errorf("netvm qube sees other interfaces than the host:\n%s\nhost:\n%s", got, host)
	}
}

func TestDispVMHomeIsThrownAway(t *testing.T) {
	d := newDriver(t)
	for range 2 {
		if err := d.Start(driver.Spec{Name: "disp1"}); err != nil {
			t.Fatal(err)
		}
		if got, _ := sh(t, d, "disp1", "ls -A ~; echo x > ~/f"); got != "" {
			t.Errorf("fresh DispVM home holds %q", got)
		}
		if err := d.Shutdown("disp1", 5*time.Second); err != nil {
			t.Fatal(err)
		}
		waitHalted(t, d, "disp1")
	}
}

func procState(t *testing.T, pid int) byte {
	b, err := os.ReadFile(filepath.Join("/proc", itoa(pid), "stat"))
	if err != nil {
		t.Fatal(err)
	}
	i := strings.LastIndexByte(string(b), ')')
	return b[i+2]
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestPauseKillAndStats(t *testing.T) {
	for _, noFreezer := range []bool{false, true} {
		testenv.NeedCommands(t, "bwrap")
		d, err := New(Config{NoFreezer: noFreezer})
		if err != nil {
			t.Fatal(err)
		}
		t.Run(d.PauseMethod(), func(t *testing.T) { testPauseKillAndStats(t, d) })
		d.Close()
	}
}

func testPauseKillAndStats(t *testing.T, d *Driver) {
	if err := d.Start(driver.Spec{Name: "busy"}); err != nil {
		t.Fatal(err)
	}
	p, err := d.Run("busy", []string{"sh", "-c", "while :; do :; done"}, driver.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// CPU time grows while the loop spins (slowly on a loaded machine).
	deadline := time.Now().Add(15 * time.Second)
	for {
		st, err := d.Stats("busy")
		if err != nil || st.MemoryKB == 0 {
			t.Fatalf("stats of a busy qube: %+v, %v", st, err)
		}
		if st.CPUTime >= 200*time.Millisecond {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("busy qube used only %v CPU", st.CPUTime)
		}
		time.Sleep(50 * time.Millisecond)
	}
	s, _ := d.get("busy")
	pids := nsProcs(s.initPID)
	if len(pids) < 2 {
		t.Fatalf("qube processes: %v", pids)
	}
	if err := d.Pause("busy"); err != nil {
		t.Fatal(err)
	}
	if d.Power("busy") != driver.Paused {
		t.Fatal("not paused")
	}
	time.Sleep(100 * time.Millisecond)
	if s.cgroup != "" {
		ev, _ := os.ReadFile(filepath.Join(s.cgroup, "cgroup.events"))
		if !strings.Contains(string(ev), "frozen 1") {
			t.Errorf("cgroup not frozen: %q", ev)
		}
		procs, _ := os.ReadFile(filepath.Join(s.cgroup, "cgroup.procs"))
		if n := len(strings.Fields(string(procs))); n != len(pids) {
			t.Errorf("cgroup holds %d processes, the qube %d", n, len(pids))
		}
	} else {
		for _, pid := range nsProcs(s.initPID) {
			if c := procState(t, pid); c != 'T' {
				t.Errorf("pid %d state %c while paused", pid, c)
			}
		}
	}
	before, _ := d.Stats("busy")
	time.Sleep(300 * time.Millisecond)
	after, _ := d.Stats("busy")
	if after.CPUTime-before.CPUTime > 20*time.Millisecond {
		t.Errorf("paused qube used %v CPU", after.CPUTime-before.CPUTime)
	}
	if err := d.Unpause("busy"); err != nil {
		t.Fatal(err)
	}
	if err := d.Unpause("busy"); err != driver.ErrNotPaused {
		t.Errorf("second unpause: %v", err)
	}
	time.Sleep(100 * time.Millisecond)
	for _, pid := range nsProcs(s.initPID) {
		if c := procState(t, pid); c == 'T' {
			t.Errorf("pid %d still stopped after unpause", pid)
		}
	}
	if err := d.Kill("busy"); err != nil {
		t.Fatal(err)
	}
	waitHalted(t, d, "busy")
	if _, err := p.Wait(); err == nil {
		t.Error("program of a killed qube reported a clean exit")
	}
	if err := d.Kill("busy"); err != driver.ErrNotRunning {
		t.Errorf("kill halted: %v", err)
	}
	if s.cgroup != "" {
		if _, err := os.Stat(s.cgroup); !os.IsNotExist(err) {
			t.Errorf("cgroup %s left behind: %v", s.cgroup, err)
		}
	}
}

func TestShutdownForcedAfterTimeout(t *testing.T) {
	d := newDriver(t)
	if err := d.Start(driver.Spec{Name: "stubborn"}); err != nil {
		t.Fatal(err)
	}
	r, w, _ := os.Pipe()
	defer r.Close()
	_, err := d.Run("stubborn", []string{"sh", "-c", "trap '' TERM; echo trapped; while :; do sleep 0.05; done"}, driver.RunOptions{Stdout: w})
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	// Shut down only once the shell ignores SIGTERM.
	if b := make([]byte, 8); func() bool { n, _ := io.ReadFull(r, b); return string(b[:n]) != "trapped\n" }() {
		t.Fatal("shell did not start")
	}
	start := time.Now()
	if err := d.Shutdown("stubborn", 700*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 700*time.Millisecond {
		t.Errorf("stubborn qube stopped after %v, before the timeout: SIGTERM was not ignored?", el)
	}
	waitHalted(t, d, "stubborn")
}

func TestServicesStartWithQube(t *testing.T) {
	d := newDriver(t)
	err := d.Start(driver.Spec{Name: "svc", Services: []driver.Service{
		{Name: "marker", Argv: []string{"sh", "-c", "echo $GREETING > /tmp/svc; exec sleep 1000"}, Env: []string{"GREETING=hello"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, _ := sh(t, d, "svc", "cat /tmp/svc 2>/dev/null")
		if got == "hello\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("service output %q", got)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := d.Start(driver.Spec{Name: "bad", Services: []driver.Service{{Name: "x", Argv: []string{"/nonexistent"}}}}); err == nil {
		t.Fatal("qube with a broken service started")
	}
	waitHalted(t, d, "bad")
}

// A root daemon runs bwrap as an unprivileged user: the qube cannot read
// what only root may read, and its home still works.
func TestRootDaemonDropsToSandboxUser(t *testing.T) {
	if os.Geteuid() != 0 {
		testenv.Missing(t, "root: this test runs the daemon as root, as CI does")
	}
	testenv.NeedCommands(t, "bwrap")
	d, err := New(Config{UID: 65534, GID: 65534})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// A home under a root-only directory (as in /root/.local/share) is
	// refused with advice; one under traversable directories works.
	tmp := t.TempDir()
	os.Chmod(tmp, 0o700)
	if err := d.Start(driver.Spec{Name: "dropped", Home: mkdirs(t, tmp, "home")}); err == nil ||
		!strings.Contains(err.Error(), "chmod o+x") {
		t.Fatalf("home behind a 0700 directory: %v", err)
	}
	os.Chmod(tmp, 0o711)
	os.Chmod(filepath.Dir(tmp), 0o711)
	home := mkdirs(t, tmp, "home")
	if err := d.Start(driver.Spec{Name: "dropped", Home: home}); err != nil {
		t.Fatal(err)
	}
	if got, code := sh(t, d, "dropped", "cat /etc/shadow >/dev/null 2>&1 && echo readable || echo denied; id -u; echo x > ~/f && cat ~/f"); got != "denied\n1000\nx\n" || code != 0 {
		t.Errorf("got %q", got)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(home, "f"), &st); err != nil || st.Uid != 65534 {
		t.Errorf("home file owner %d, %v", st.Uid, err)
	}
}

func mkdirs(t *testing.T, parent, name string) string {
	p := filepath.Join(parent, name)
	if err := os.MkdirAll(p, 0o700); err != nil {
		t.Fatal(err)
	}
	return p
}

// An X server runs inside a qube as one of its services, and programs run
// in the qube reach it; nothing of it is visible on the host.
func TestXvfbInsideQube(t *testing.T) {
	testenv.NeedCommands(t, "Xvfb", "xdpyinfo")
	d := newDriver(t)
	err := d.Start(driver.Spec{Name: "x", Services: []driver.Service{
		{Name: "xvfb", Argv: []string{"Xvfb", ":0", "-nolisten", "tcp", "-screen", "0", "640x480x24"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		got, code := sh(t, d, "x", "xdpyinfo -display :0 2>/dev/null | grep dimensions")
		if code == 0 && strings.Contains(got, "640x480 pixels") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no X server in the qube: %q", got)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := d.Shutdown("x", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	waitHalted(t, d, "x")
}

// A program the qube cannot see (here under the host's /tmp) runs in it
// when passed as a file and executed as /proc/self/fd/N: how qube-agent
// can be started without being on the qube's root.
func TestRunProgramPassedAsFile(t *testing.T) {
	d := newDriver(t)
	if err := d.Start(driver.Spec{Name: "fdexec"}); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("/bin/echo")
	if err != nil {
		t.Skip("no /bin/echo")
	}
	hidden := filepath.Join(t.TempDir(), "hidden-echo")
	if err := os.WriteFile(hidden, src, 0o755); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Open(hidden)
	if err != nil {
		t.Fatal(err)
	}
	defer exe.Close()
	r, w, _ := os.Pipe()
	p, err := d.Run("fdexec", []string{"/proc/self/fd/3", "from", "an", "fd"}, driver.RunOptions{Stdout: w, ExtraFiles: []*os.File{exe}})
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(r)
	if code, err := p.Wait(); code != 0 || err != nil || string(out) != "from an fd\n" {
		t.Fatalf("got %q, exit %d, %v", out, code, err)
	}
	if got, _ := sh(t, d, "fdexec", "test -e "+hidden+" && echo visible || echo hidden"); got != "hidden\n" {
		t.Fatalf("the program's path is %s in the qube", got)
	}
}
