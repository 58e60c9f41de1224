// Package sandbox runs qubes as bubblewrap sandboxes: a read-only root (the
// host's / or a template directory), a private home, private /tmp and /run,
// and new user, pid, ipc, uts and (unless the qube has a netvm) network
// namespaces. The first process in each sandbox is an init (the daemon's own
// executable in init mode, see RunInitIfRequested) through which the host
// starts programs inside the qube. See docs/qube-hostd.md.
package sandbox

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/qube-desktop/qube-desktop/internal/driver"
	"golang.org/x/sys/unix"
)

// Config configures the driver.
type Config struct {
	// Bwrap is the bubblewrap binary; "" looks up "bwrap" in PATH.
	Bwrap string
	// Init is the executable that runs as each qube's init; "" is the
	// running executable, which must call RunInitIfRequested.
	Init string
	// Hide lists host paths masked with an empty tmpfs in every qube
	// (the daemon's data directory, for one). /home, /root, /tmp, /var/tmp
	// and /run are always private.
	Hide []string
	// LogDir receives one log file per qube service; "" discards output.
	LogDir string
	// StartTimeout bounds the wait for a qube's init; 0 means 10 s.
	StartTimeout time.Duration
	// NoFreezer pauses qubes with SIGSTOP even when the cgroup v2 freezer
	// is available.
	NoFreezer bool
	// UID and GID, when UID is not 0, are the host user bwrap runs as
	// (the daemon must be root). A root daemon should set them: inside
	// the user namespace the qube's uid 1000 is the host uid bwrap runs
	// as, so with root it could read every root-owned file of the host.
	UID, GID int
}

// Driver runs sandbox qubes. Create it with New.
type Driver struct {
	cfg    Config
	spawn  chan spawnReq
	quit   chan struct{} // closed by Close: no more starts
	halted chan string

	cgroups   *cgroups // nil: pause with signals
	closeOnce sync.Once

	mu    sync.Mutex
	qubes map[string]*sandbox
}

type sandbox struct {
	name    string
	initPID int // host pid of the qube's init (pid 1 inside)
	ctl     *os.File
	ctlMu   sync.Mutex
	done    chan struct{} // closed when bwrap exited
	paused  bool
	cgroup  string // the qube's cgroup, "" without the freezer
}

type spawnReq struct {
	cmd  *exec.Cmd
	errc chan error
}

var _ driver.Driver = (*Driver)(nil)

// New checks the configuration and starts the driver.
func New(cfg Config) (*Driver, error) {
	if cfg.Bwrap == "" {
		p, err := exec.LookPath("bwrap")
		if err != nil {
			return nil, errors.New("sandbox driver needs bubblewrap: install the bubblewrap package (bwrap not in PATH)")
		}
		cfg.Bwrap = p
	}
	if cfg.Init == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("find own executable for the qube init: %w", err)
		}
		cfg.Init = exe
	}
	if cfg.StartTimeout == 0 {
		cfg.StartTimeout = 10 * time.Second
	}
	d := &Driver{cfg: cfg, spawn: make(chan spawnReq), quit: make(chan struct{}), halted: make(chan string, 64),
		qubes: map[string]*sandbox{}}
	if !cfg.NoFreezer {
		d.cgroups = findCgroups()
	}
	go d.spawner()
	return d, nil
}

// spawner starts every bwrap from one OS thread that never exits. bwrap's
// --die-with-parent (PR_SET_PDEATHSIG) fires when the *thread* that forked
// it dies; Go may otherwise fork from any thread. So qubes die with the
// daemon, and only with it.
func (d *Driver) spawner() {
	runtime.LockOSThread()
	for {
		select {
		case r := <-d.spawn:
			r.errc <- r.cmd.Start()
		case <-d.quit:
			// Every qube is dead by now; the thread may go.
			return
		}
	}
}

// Halted implements driver.Driver.
func (d *Driver) Halted() <-chan string { return d.halted }

func (d *Driver) get(name string) (*sandbox, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.qubes[name]
	if s == nil {
		return nil, driver.ErrNotRunning
	}
	return s, nil
}

// PauseMethod says how Pause works here: "cgroup freezer" or "SIGSTOP".
func (d *Driver) PauseMethod() string {
	if d.cgroups != nil {
		return "cgroup freezer"
	}
	return "SIGSTOP"
}

// Power implements driver.Driver.
func (d *Driver) Power(name string) driver.Power {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch s := d.qubes[name]; {
	case s == nil:
		return driver.Halted
	case s.paused:
		return driver.Paused
	}
	return driver.Running
}

const (
	homePath = "/home/user"
	basePATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)

// Files bwrap gets besides the control socket (3) and info pipe (4): it
// binds them by fd, so it needs no search permission on their directories
// when it runs as an unprivileged user.
const (
	rootFD = 5
	homeFD = 6
	initFD = 7
)

// private are the host paths every qube gets empty.
var private = []string{"/tmp", "/var/tmp", "/run", "/home", "/root"}

// bwrapArgs builds the sandbox for spec.
func (d *Driver) bwrapArgs(spec driver.Spec) []string {
	root := spec.Root
	if root == "" {
		root = "/"
	}
	a := []string{
		"--die-with-parent", "--as-pid-1", "--new-session",
		"--unshare-user", "--uid", "1000", "--gid", "1000", "--disable-userns",
		"--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
		"--hostname", spec.Name,
	}
	if !spec.Network {
		a = append(a, "--unshare-net")
	}
	if spec.RootWritable && spec.Root != "" {
		a = append(a, "--bind-fd", strconv.Itoa(rootFD), "/")
	} else {
		a = append(a, "--ro-bind-fd", strconv.Itoa(rootFD), "/")
	}
	a = append(a, "--dev", "/dev", "--proc", "/proc")
	for _, p := range private {
		if _, err := os.Stat(filepath.Join(root, p)); err == nil {
			a = append(a, "--tmpfs", p)
		}
	}
	if root == "/" {
		for _, p := range d.cfg.Hide {
			if _, err := os.Stat(p); err == nil && !underPrivate(p) {
				a = append(a, "--tmpfs", p)
			}
		}
	}
	if spec.Home != "" {
		a = append(a, "--bind-fd", strconv.Itoa(homeFD), homePath)
	} else {
		a = append(a, "--dir", homePath)
	}
	// The init is executed through its fd, so bwrap needs no access to
	// the directory of the daemon's executable.
	a = append(a, "--chdir", homePath, "--clearenv",
		"--setenv", "HOME", homePath, "--setenv", "USER", "user",
		"--setenv", "PATH", basePATH, "--setenv", "QUBE_NAME", spec.Name,
		"--setenv", initEnv, "1",
		"--info-fd", "4", "/proc/self/fd/"+strconv.Itoa(initFD))
	return a
}

// Start implements driver.Driver.
func (d *Driver) Start(spec driver.Spec) error {
	d.mu.Lock()
	if d.qubes[spec.Name] != nil {
		d.mu.Unlock()
		return driver.ErrRunning
	}
	// Reserve the name while starting.
	d.qubes[spec.Name] = &sandbox{name: spec.Name, done: make(chan struct{})}
	d.mu.Unlock()
	s, err := d.start(spec)
	d.mu.Lock()
	if err != nil {
		delete(d.qubes, spec.Name)
	} else {
		d.qubes[spec.Name] = s
	}
	d.mu.Unlock()
	if err != nil {
		return err
	}
	for _, svc := range spec.Services {
		if err := d.startService(spec.Name, svc); err != nil {
			_ = d.Kill(spec.Name)
			return fmt.Errorf("start service %s in %s: %w", svc.Name, spec.Name, err)
		}
	}
	return nil
}

// underPrivate reports whether p lies in a path every qube gets empty, so
// it needs no mask of its own (and bwrap could not reach it to add one).
func underPrivate(p string) bool {
	for _, q := range private {
		if p == q || strings.HasPrefix(p, q+"/") {
			return true
		}
	}
	return false
}

// openPath opens a file or directory for bwrap's --bind-fd.
func openPath(p string) (*os.File, error) {
	fd, err := unix.Open(p, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: p, Err: err}
	}
	return os.NewFile(uintptr(fd), p), nil
}

// bindFiles opens what bwrapArgs binds by fd: root, home (or /dev/null
// as a placeholder when there is none) and the init.
func (d *Driver) bindFiles(spec driver.Spec) ([]*os.File, error) {
	root := spec.Root
	if root == "" {
		root = "/"
	}
	home := spec.Home
	if home == "" {
		home = os.DevNull
	} else if d.cfg.UID != 0 {
		if err := searchable(filepath.Dir(home)); err != nil {
			return nil, fmt.Errorf("bwrap runs as uid %d and cannot reach the home of %s: %w", d.cfg.UID, spec.Name, err)
		}
		if err := chownTree(home, d.cfg.UID, d.cfg.GID); err != nil {
			return nil, fmt.Errorf("give the home of %s to uid %d: %w", spec.Name, d.cfg.UID, err)
		}
	}
	var files []*os.File
	for i, p := range []string{root, home, d.cfg.Init} {
		f, err := openPath(p)
		if i == 2 {
			f, err = os.Open(p)
		}
		if err != nil {
			for _, f := range files {
				f.Close()
			}
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}

// searchable checks that every directory from / to dir lets others
// through (o+x), as bwrap running as the sandbox user resolves the home's
// path even when given its fd.
func searchable(dir string) error {
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("%s is not searchable by other users (chmod o+x %s, or keep the data directory elsewhere)", d, d)
		}
		if d == "/" {
			return nil
		}
	}
}

// chownTree hands a home to the sandbox user; it walks the tree only when
// the top directory belongs to someone else (a first start, or a changed uid).
func chownTree(dir string, uid, gid int) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) == uid && int(st.Gid) == gid {
		return nil
	}
	return filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

func (d *Driver) start(spec driver.Spec) (*sandbox, error) {
	binds, err := d.bindFiles(spec)
	if err != nil {
		return nil, fmt.Errorf("start qube %s: %w", spec.Name, err)
	}
	defer func() {
		for _, f := range binds {
			f.Close()
		}
	}()
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	ctl, ctlChild := os.NewFile(uintptr(pair[0]), "ctl"), os.NewFile(uintptr(pair[1]), "ctl-child")
	infoR, infoW, err := os.Pipe()
	if err != nil {
		ctl.Close()
		ctlChild.Close()
		return nil, err
	}
	var stderr strings.Builder
	cmd := exec.Command(d.cfg.Bwrap, d.bwrapArgs(spec)...)
	cmd.ExtraFiles = append([]*os.File{ctlChild, infoW}, binds...)
	cmd.Stderr = &limitedWriter{w: &stderr, n: 4096}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if d.cfg.UID != 0 {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(d.cfg.UID), Gid: uint32(d.cfg.GID)}
	}
	errc := make(chan error, 1)
	select {
	case d.spawn <- spawnReq{cmd, errc}:
		err = <-errc
	case <-d.quit:
		err = errors.New("the driver is closed")
	}
	ctlChild.Close()
	infoW.Close()
	if err != nil {
		ctl.Close()
		infoR.Close()
		return nil, fmt.Errorf("run bwrap: %w", err)
	}
	s := &sandbox{name: spec.Name, ctl: ctl, done: make(chan struct{})}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	fail := func(what string, err error) (*sandbox, error) {
		_ = cmd.Process.Kill()
		<-exited
		ctl.Close()
		infoR.Close()
		if s.cgroup != "" {
			removeCgroup(s.cgroup)
		}
		msg := strings.TrimSpace(stderr.String())
		if msg != "" {
			return nil, fmt.Errorf("start qube %s: %s: %v (bwrap: %s)", spec.Name, what, err, msg)
		}
		return nil, fmt.Errorf("start qube %s: %s: %v", spec.Name, what, err)
	}
	// bwrap writes {"child-pid": N} once the sandbox exists.
	var info struct {
		ChildPID int `json:"child-pid"`
	}
	infoR.SetReadDeadline(time.Now().Add(d.cfg.StartTimeout))
	if err := json.NewDecoder(infoR).Decode(&info); err != nil || info.ChildPID <= 0 {
		return fail("bwrap info", err)
	}
	infoR.Close()
	s.initPID = info.ChildPID
	if d.cgroups != nil {
		// Before the init is asked to start anything.
		if s.cgroup, err = d.cgroups.join(spec.Name, s.initPID); err != nil {
			return fail("join cgroup", err)
		}
	}
	// The init says 'R' once it serves requests.
	ready := make(chan error, 1)
	go func() {
		b := make([]byte, 1)
		n, err := ctl.Read(b)
		if err == nil && (n != 1 || b[0] != 'R') {
			err = errors.New("unexpected greeting")
		}
		ready <- err
	}()
	select {
	case err := <-ready:
		if err != nil {
			return fail("qube init", err)
		}
	case <-exited:
		return fail("qube init", errors.New("sandbox exited"))
	case <-time.After(d.cfg.StartTimeout):
		return fail("qube init", errors.New("timed out"))
	}
	go func() {
		<-exited
		ctl.Close()
		d.mu.Lock()
		if d.qubes[spec.Name] == s {
			delete(d.qubes, spec.Name)
		}
		d.mu.Unlock()
		if s.cgroup != "" {
			removeCgroup(s.cgroup)
		}
		close(s.done)
		d.halted <- spec.Name
	}()
	return s, nil
}

// limitedWriter keeps the first n bytes of bwrap's error output.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(b []byte) (int, error) {
	if l.n > 0 {
		k := min(len(b), l.n)
		l.w.Write(b[:k])
		l.n -= k
	}
	return len(b), nil
}

func (d *Driver) startService(name string, svc driver.Service) error {
	opts := driver.RunOptions{Env: svc.Env, ExtraFiles: svc.Files}
	if d.cfg.LogDir != "" {
		if err := os.MkdirAll(d.cfg.LogDir, 0o700); err != nil {
			return err
		}
		f, err := os.OpenFile(filepath.Join(d.cfg.LogDir, name+"."+svc.Name+".log"),
			os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		opts.Stdout, opts.Stderr = f, f
	}
	_, err := d.Run(name, svc.Argv, opts)
	return err
}

// Run implements driver.Driver.
func (d *Driver) Run(name string, argv []string, opts driver.RunOptions) (*driver.Process, error) {
	s, err := d.get(name)
	if err != nil {
		return nil, err
	}
	if len(argv) == 0 {
		return nil, errors.New("empty command")
	}
	if s.ctl == nil {
		return nil, driver.ErrNotRunning
	}
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	hostEnd, qubeEnd := os.NewFile(uintptr(pair[0]), "run"), os.NewFile(uintptr(pair[1]), "run-qube")
	files := []*os.File{opts.Stdin, opts.Stdout, opts.Stderr}
	var devnull *os.File
	for i, f := range files {
		if f == nil {
			if devnull == nil {
				if devnull, err = os.OpenFile(os.DevNull, os.O_RDWR, 0); err != nil {
					return nil, err
				}
				defer devnull.Close()
			}
			files[i] = devnull
		}
	}
	files = append(files, opts.ExtraFiles...)
	fds := []int{int(qubeEnd.Fd())}
	for _, f := range files {
		fds = append(fds, int(f.Fd()))
	}
	s.ctlMu.Lock()
	err = unix.Sendmsg(int(s.ctl.Fd()), []byte{'r'}, unix.UnixRights(fds...), nil, 0)
	s.ctlMu.Unlock()
	qubeEnd.Close()
	if err != nil {
		hostEnd.Close()
		return nil, driver.ErrNotRunning
	}
	conn, err := net.FileConn(hostEnd)
	hostEnd.Close()
	if err != nil {
		return nil, err
	}
	env := append([]string{"HOME=" + homePath, "USER=user", "PATH=" + basePATH, "QUBE_NAME=" + name}, opts.Env...)
	req, _ := json.Marshal(runRequest{Argv: argv, Env: env, Dir: opts.Dir, NFiles: len(files)})
	conn.SetDeadline(time.Now().Add(d.cfg.StartTimeout))
	r := bufio.NewReader(conn)
	var rep reply
	if _, err = conn.Write(append(req, '\n')); err == nil {
		var u untrustedReply
		if u, err = readUntrustedReply(r); err == nil {
			rep, err = u.validate()
		}
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("run in %s: %w", name, err)
	}
	switch rep.kind {
	case replyError:
		conn.Close()
		return nil, fmt.Errorf("run in %s: %s", name, rep.text)
	case replyExit:
		conn.Close()
		return nil, fmt.Errorf("run in %s: qube init answered out of turn", name)
	}
	conn.SetDeadline(time.Time{})
	var once sync.Once
	var code int
	var werr error
	wait := func() (int, error) {
		once.Do(func() {
			defer conn.Close()
			u, err := readUntrustedReply(r)
			if err != nil {
				code, werr = -1, fmt.Errorf("%s stopped before the program ended: %w", name, err)
				return
			}
			rep, err := u.validate()
			if err != nil || rep.kind != replyExit {
				code, werr = -1, fmt.Errorf("run in %s: bad exit report: %v", name, err)
				return
			}
			code = rep.n
		})
		return code, werr
	}
	return driver.NewProcess(rep.n, wait), nil
}

// Shutdown implements driver.Driver: SIGTERM to the init, which passes it to
// every process and exits when they are gone; SIGKILL after timeout.
func (d *Driver) Shutdown(name string, timeout time.Duration) error {
	s, err := d.get(name)
	if err != nil {
		return err
	}
	if s.initPID == 0 {
		return driver.ErrNotRunning
	}
	_ = d.Unpause(name)
	_ = syscall.Kill(s.initPID, syscall.SIGTERM)
	select {
	case <-s.done:
		return nil
	case <-time.After(timeout):
	}
	return d.Kill(name)
}

// Kill implements driver.Driver: SIGKILL to pid 1 of the qube's pid
// namespace makes the kernel kill every process in it.
func (d *Driver) Kill(name string) error {
	s, err := d.get(name)
	if err != nil {
		return err
	}
	if s.initPID == 0 {
		return driver.ErrNotRunning
	}
	_ = syscall.Kill(s.initPID, syscall.SIGKILL)
	<-s.done
	return nil
}

// Close implements driver.Driver: no more starts, then every qube is killed.
func (d *Driver) Close() error {
	d.closeOnce.Do(func() { close(d.quit) })
	d.mu.Lock()
	names := make([]string, 0, len(d.qubes))
	for n := range d.qubes {
		names = append(names, n)
	}
	d.mu.Unlock()
	for _, n := range names {
		_ = d.Kill(n)
	}
	if d.cgroups != nil {
		removeCgroup(d.cgroups.dir)
	}
	return nil
}
