// Package guilaunch runs the GUI of every running sandbox qube: an X
// server and qube-agent inside the qube, qube-guid on the host, joined by
// a shared region and a GUI socket that the host makes. It plugs into
// qube-hostd through hostd.Config.QubeServices and hostd.Lifecycle; see
// docs/qube-hostd.md ("GUI launcher").
package guilaunch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/qube-desktop/qube-desktop/internal/driver"
	"github.com/qube-desktop/qube-desktop/internal/transport"
)

// Display is the X display of every qube: each qube has its own /tmp, so
// every X server is :0 inside its qube.
const Display = ":0"

// RunEnv is what admin.vm.Run commands need to reach the qube's X server.
func RunEnv() []string { return []string{"DISPLAY=" + Display} }

// Runner starts a program inside a running qube (the sandbox driver).
type Runner interface {
	Run(name string, argv []string, opts driver.RunOptions) (*driver.Process, error)
}

// Config says what to run and where.
type Config struct {
	Runner Runner
	// Agent is qube-agent on the host. It is copied once into a sealed
	// memfd that qubes execute: a qube never sees, and cannot write, the
	// host's file.
	Agent string
	// Guid is qube-guid on the host.
	Guid string
	// Xvfb is the X server command inside the qube (default "Xvfb"),
	// Screen its screen (default 1920x1080x24).
	Xvfb, Screen string
	// RegionSize is the size of each qube's shared region in bytes.
	RegionSize int
	// SocketDir holds the GUI sockets; only the daemon's user may enter.
	SocketDir string
	// GuidArgs are added to qube-guid's command line (e.g. -display).
	GuidArgs []string
	// Palette, if set, is qube-guid's -palette (the KDE colour scheme of
	// KWin's title bar) with "{label}" replaced by the qube's label.
	Palette string
	// Features, if set, returns a qube's features and the GUI domain's
	// (dom0's), read at every start of the qube's qube-guid; the gui-*
	// ones become its flags (see featureArgs).
	Features func(ctx context.Context, qube string) (qubeFeatures, guiFeatures map[string]string, err error)
	// AdminSocket, if set, is qube-guid's -admin-socket: the daemon's own
	// Admin API socket, where the clipboard policy looks up tags.
	AdminSocket string
	// ClipboardDir, if set, is qube-guid's -clipboard-dir, the global
	// clipboard all qube-guids share.
	ClipboardDir string
	// GuidEnv is qube-guid's environment (default: the daemon's).
	GuidEnv []string
	// LogDir receives <qube>.qube-agent.log and <qube>.qube-guid.log.
	LogDir string
	Log    *log.Logger
	// ReadyTimeout bounds the wait for a qube's X server (default 10 s).
	ReadyTimeout time.Duration
	// MinBackoff and MaxBackoff bound the delay before a restart
	// (default 250 ms and 30 s); a process that ran for StableAfter
	// (default 30 s) restarts after MinBackoff again.
	MinBackoff, MaxBackoff, StableAfter time.Duration
}

// DefaultRegionSize fits a few full-HD windows, double-buffered. Pages
// are only allocated when an agent draws into them.
const DefaultRegionSize = 128 << 20

// Launcher implements hostd.Lifecycle and hostd.Config.QubeServices.
type Launcher struct {
	cfg   Config
	agent *os.File // sealed memfd holding qube-agent
	log   *log.Logger

	mu    sync.Mutex
	qubes map[string]*qubeGUI
	seq   int
}

// qubeGUI is the host's side of one qube's GUI.
type qubeGUI struct {
	name    string
	region  *transport.Region
	socket  string   // path qube-guid connects to
	listen  *os.File // listening socket, the agent's fd 4
	ready   *os.File // read end of the X server's -displayfd pipe
	running sync.WaitGroup

	mu      sync.Mutex
	cancel  context.CancelFunc // ends the supervisors
	stopped bool
}

// New checks cfg and loads qube-agent into a sealed memfd.
func New(cfg Config) (*Launcher, error) {
	if cfg.Runner == nil {
		return nil, errors.New("guilaunch: no Runner")
	}
	if cfg.Xvfb == "" {
		cfg.Xvfb = "Xvfb"
	}
	if cfg.Screen == "" {
		cfg.Screen = "1920x1080x24"
	}
	if cfg.RegionSize == 0 {
		cfg.RegionSize = DefaultRegionSize
	}
	if cfg.RegionSize < transport.PageSize || cfg.RegionSize >= 2<<30 {
		return nil, fmt.Errorf("GUI region size %d: want 4 KiB up to 2 GiB (one wl_shm pool)", cfg.RegionSize)
	}
	if cfg.ReadyTimeout == 0 {
		cfg.ReadyTimeout = 10 * time.Second
	}
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff = 250 * time.Millisecond
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = 30 * time.Second
	}
	if cfg.StableAfter == 0 {
		cfg.StableAfter = 30 * time.Second
	}
	if cfg.GuidEnv == nil {
		cfg.GuidEnv = os.Environ()
	}
	if cfg.Log == nil {
		cfg.Log = log.New(os.Stderr, "guilaunch: ", 0)
	}
	if _, err := exec.LookPath(cfg.Guid); err != nil {
		return nil, fmt.Errorf("qube-guid: %w", err)
	}
	if err := privateDir(cfg.SocketDir); err != nil {
		return nil, err
	}
	agent, err := sealedCopy(cfg.Agent)
	if err != nil {
		return nil, err
	}
	return &Launcher{cfg: cfg, agent: agent, log: cfg.Log, qubes: map[string]*qubeGUI{}}, nil
}

// privateDir makes dir (mode 0700), or checks an existing one is a real
// directory of the daemon's user that nobody else may enter.
func privateDir(dir string) error {
	if dir == "" {
		return errors.New("guilaunch: no SocketDir")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("GUI socket directory: %w", err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	st, _ := fi.Sys().(*syscall.Stat_t)
	if !fi.IsDir() || st == nil || int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("GUI socket directory %s must be a directory owned by uid %d", dir, os.Geteuid())
	}
	if fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("GUI socket directory: %w", err)
		}
	}
	return nil
}

// sealedCopy copies an executable into a memfd sealed against any change.
// Handing a qube an fd of the host's file instead would let it reopen the
// file writable through /proc/self/fd (the fd bypasses its read-only mounts).
func sealedCopy(path string) (*os.File, error) {
	src, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("qube-agent: %w", err)
	}
	defer src.Close()
	flags := unix.MFD_CLOEXEC | unix.MFD_ALLOW_SEALING
	fd, err := unix.MemfdCreate("qube-agent", flags|unix.MFD_EXEC)
	if errors.Is(err, unix.EINVAL) { // kernels before 6.3 know no MFD_EXEC
		fd, err = unix.MemfdCreate("qube-agent", flags)
	}
	if err != nil {
		return nil, fmt.Errorf("memfd for qube-agent: %w", err)
	}
	f := os.NewFile(uintptr(fd), "memfd:qube-agent")
	if _, err := io.Copy(f, src); err != nil {
		f.Close()
		return nil, fmt.Errorf("copy qube-agent: %w", err)
	}
	seals := unix.F_SEAL_WRITE | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_SEAL
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, seals); err != nil {
		f.Close()
		return nil, fmt.Errorf("seal qube-agent: %w", err)
	}
	return f, nil
}

// Services is hostd.Config.QubeServices: it makes the qube's region and
// GUI socket and returns the X server, which reports readiness on fd 3.
func (l *Launcher) Services(name, label string) ([]driver.Service, error) {
	l.mu.Lock()
	old := l.qubes[name]
	delete(l.qubes, name)
	l.seq++
	seq := l.seq
	l.mu.Unlock()
	if old != nil { // left by a start that failed before the qube ran
		old.stop()
	}
	q := &qubeGUI{name: name}
	err := q.prepare(l.cfg, seq)
	if err != nil {
		q.stop()
		return nil, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		q.stop()
		return nil, err
	}
	q.ready = r
	l.mu.Lock()
	l.qubes[name] = q
	l.mu.Unlock()
	return []driver.Service{{
		Name: "xvfb",
		Argv: []string{l.cfg.Xvfb, Display, "-displayfd", "3", "-screen", "0", l.cfg.Screen,
			"-nolisten", "tcp", "-nolisten", "local", "-noreset"},
		Files: []*os.File{w},
	}}, nil
}

// prepare makes the region and the listening socket.
func (q *qubeGUI) prepare(cfg Config, seq int) error {
	var err error
	if q.region, err = transport.CreateRegion("qube-gui-"+q.name, cfg.RegionSize); err != nil {
		return err
	}
	// A fresh path per start: a late cleanup of the previous run never
	// removes the current socket.
	q.socket = filepath.Join(cfg.SocketDir, q.name+"."+strconv.Itoa(seq)+".sock")
	os.Remove(q.socket)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: q.socket, Net: "unix"})
	if err != nil {
		return fmt.Errorf("GUI socket for %s: %w", q.name, err)
	}
	ln.SetUnlinkOnClose(false)
	q.listen, err = ln.File()
	ln.Close()
	return err
}

// QubeStarted implements hostd.Lifecycle: once the qube's X server is up
// (so that admin.vm.Run finds it), qube-agent and qube-guid start and are
// restarted whenever they end, until the qube stops.
func (l *Launcher) QubeStarted(name, label string) {
	l.mu.Lock()
	q := l.qubes[name]
	l.mu.Unlock()
	if q == nil {
		return
	}
	if err := l.waitReady(q); err != nil {
		l.log.Printf("no GUI for %s: %v", name, err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.stopped { // the qube died while its X server started
		cancel()
		return
	}
	q.cancel = cancel
	q.running.Add(2)
	go func() {
		defer q.running.Done()
		l.supervise(ctx, name, "qube-agent", func() (func() error, error) { return l.startAgent(q) })
	}()
	go func() {
		defer q.running.Done()
		l.supervise(ctx, name, "qube-guid", func() (func() error, error) { return l.startGuid(ctx, q, label) })
	}()
}

// waitReady reads the display number the X server writes to -displayfd
// when it accepts clients. It comes from the qube: a bounded read, and
// only the exact answer counts.
func (l *Launcher) waitReady(q *qubeGUI) error {
	defer q.ready.Close()
	q.ready.SetReadDeadline(time.Now().Add(l.cfg.ReadyTimeout))
	var got []byte
	buf := make([]byte, maxReadyReport)
	for len(got) < maxReadyReport && !strings.Contains(string(got), "\n") {
		n, err := q.ready.Read(buf[:maxReadyReport-len(got)])
		got = append(got, buf[:n]...)
		if err != nil {
			return fmt.Errorf("the X server (%s) did not start within %v: %v; see its log", l.cfg.Xvfb, l.cfg.ReadyTimeout, err)
		}
	}
	return checkReady(got)
}

// maxReadyReport bounds what is read of the X server's report.
const maxReadyReport = 8

// checkReady validates the X server's report (untrusted: it comes from
// the qube): exactly our display number and a newline.
func checkReady(got []byte) error {
	if want := strings.TrimPrefix(Display, ":") + "\n"; string(got) != want {
		return fmt.Errorf("the X server reported display %q, want %q", got, want)
	}
	return nil
}

// supervise runs a process again whenever it ends, with a backoff that
// doubles up to MaxBackoff, until ctx ends or the qube is gone.
func (l *Launcher) supervise(ctx context.Context, name, what string, start func() (wait func() error, err error)) {
	backoff := l.cfg.MinBackoff
	for {
		began := time.Now()
		wait, err := start()
		if err == nil {
			err = wait()
		}
		if ctx.Err() != nil || errors.Is(err, driver.ErrNotRunning) {
			return
		}
		if time.Since(began) >= l.cfg.StableAfter {
			backoff = l.cfg.MinBackoff
		}
		l.log.Printf("%s of %s ended: %v; restarting in %v", what, name, err, backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, l.cfg.MaxBackoff)
	}
}

// Fds of qube-agent inside the qube.
const (
	agentRegionFd = 3
	agentListenFd = 4
	agentExeFd    = 5
)

// startAgent runs qube-agent inside the qube from the sealed memfd, with
// the region and the listening socket the host made.
func (l *Launcher) startAgent(q *qubeGUI) (func() error, error) {
	logf, err := l.logFile(q.name, "qube-agent")
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	argv := []string{"/proc/self/fd/" + strconv.Itoa(agentExeFd), "-transport", "unix",
		"-listen-fd", strconv.Itoa(agentListenFd), "-region-fd", strconv.Itoa(agentRegionFd), "-display", Display}
	p, err := l.cfg.Runner.Run(q.name, argv, driver.RunOptions{
		Env: RunEnv(), Stdout: logf, Stderr: logf,
		ExtraFiles: []*os.File{q.region.File(), q.listen, l.agent},
	})
	if err != nil {
		return nil, err
	}
	return func() error {
		code, err := p.Wait()
		if err != nil {
			// The qube stopped under it.
			return fmt.Errorf("%w: %v", driver.ErrNotRunning, err)
		}
		return fmt.Errorf("exit code %d", code)
	}, nil
}

// startGuid runs qube-guid on the host; ctx ending stops it (SIGTERM,
// SIGKILL 5 s later).
func (l *Launcher) startGuid(ctx context.Context, q *qubeGUI, label string) (func() error, error) {
	logf, err := l.logFile(q.name, "qube-guid")
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	var qf, gf map[string]string
	if l.cfg.Features != nil {
		fctx, cancel := context.WithTimeout(ctx, featuresTimeout)
		qf, gf, err = l.cfg.Features(fctx, q.name)
		cancel()
		if err != nil {
			l.log.Printf("%s: GUI features unreadable (%v); qube-guid uses its defaults for them", q.name, err)
		}
	}
	cmd := exec.CommandContext(ctx, l.cfg.Guid, l.guidArgs(q.name, label, q.socket, qf, gf)...)
	cmd.Env = l.cfg.GuidEnv
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.ExtraFiles = []*os.File{q.region.File()}
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	// A guid outliving a crashed daemon would wait for a qube that is gone.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return func() error {
		if err := cmd.Wait(); err != nil {
			return err
		}
		return errors.New("exited")
	}, nil
}

// featuresTimeout bounds reading a qube's features before qube-guid starts.
const featuresTimeout = 5 * time.Second

// guidArgs is qube-guid's command line for a qube; region fd 3.
func (l *Launcher) guidArgs(name, label, socket string, qubeFeatures, guiFeatures map[string]string) []string {
	args := []string{"-qube", name, "-label", label, "-socket", socket, "-region-fd", "3"}
	if l.cfg.Palette != "" {
		args = append(args, "-palette", strings.ReplaceAll(l.cfg.Palette, "{label}", label))
	}
	if l.cfg.AdminSocket != "" {
		args = append(args, "-admin-socket", l.cfg.AdminSocket)
	}
	if l.cfg.ClipboardDir != "" {
		args = append(args, "-clipboard-dir", l.cfg.ClipboardDir)
	}
	args = append(args, featureArgs(name, qubeFeatures, guiFeatures, l.log)...)
	return append(args, l.cfg.GuidArgs...)
}

func (l *Launcher) logFile(name, what string) (*os.File, error) {
	if l.cfg.LogDir == "" {
		return os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	}
	if err := os.MkdirAll(l.cfg.LogDir, 0o700); err != nil {
		return nil, err
	}
	return os.OpenFile(filepath.Join(l.cfg.LogDir, name+"."+what+".log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
}

// QubeStopped implements hostd.Lifecycle: qube-guid is stopped (its
// windows go with it) and the region and socket are released.
func (l *Launcher) QubeStopped(name string) {
	l.mu.Lock()
	q := l.qubes[name]
	delete(l.qubes, name)
	l.mu.Unlock()
	if q != nil {
		q.stop()
	}
}

// QubeStopping implements hostd.Stopping: a qube shutting down ends its
// agent with SIGTERM, which must not be restarted; qube-guid goes now.
func (l *Launcher) QubeStopping(name string) {
	l.mu.Lock()
	q := l.qubes[name]
	l.mu.Unlock()
	if q != nil {
		q.end()
	}
}

// SocketPath is where qube-guid of a running qube connects ("" if none).
func (l *Launcher) SocketPath(name string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if q := l.qubes[name]; q != nil {
		return q.socket
	}
	return ""
}

// end stops the supervisors from restarting anything and stops qube-guid.
func (q *qubeGUI) end() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.stopped = true
	if q.cancel != nil {
		q.cancel()
	}
}

// stop ends the supervisors and releases what the host made. The agent's
// supervisor returns once the qube is gone, which the caller ensures.
func (q *qubeGUI) stop() {
	q.end()
	q.running.Wait()
	for _, f := range []*os.File{q.listen, q.ready} {
		if f != nil {
			f.Close()
		}
	}
	if q.socket != "" {
		os.Remove(q.socket)
	}
	if q.region != nil {
		q.region.Close()
	}
}

// Close stops the GUI of every qube; call it after the driver stopped
// every qube.
func (l *Launcher) Close() {
	l.mu.Lock()
	qubes := l.qubes
	l.qubes = map[string]*qubeGUI{}
	l.mu.Unlock()
	for _, q := range qubes {
		q.stop()
	}
	l.agent.Close()
}
