// Package hostd is qube-hostd: an Admin API server compatible with qubesd
// (same framing, methods and exception classes, see the Admin API spec) that
// keeps qubes in an atomically written store and runs them with a driver.
package hostd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/qube-desktop/qube-desktop/internal/adminapi"
	"github.com/qube-desktop/qube-desktop/internal/driver"
	"github.com/qube-desktop/qube-desktop/internal/qube"
	"github.com/qube-desktop/qube-desktop/internal/store"
)

// Lifecycle is told when qubes start and stop. It is the seam for the GUI
// launcher (shared region, qube-agent inside, qube-guid outside).
type Lifecycle interface {
	QubeStarted(name, label string)
	QubeStopped(name string)
}

// Stopping is implemented by a Lifecycle that must know when a shutdown
// begins, before the qube's programs get SIGTERM: the GUI launcher must
// not restart an agent that ends because its qube is going down.
type Stopping interface {
	QubeStopping(name string)
}

// Config configures a Server.
type Config struct {
	Store  *store.Store
	Driver driver.Driver
	// Services run inside every qube (an X server, qube-agent).
	Services []driver.Service
	// QubeServices, if set, adds services for one qube as it starts: the
	// GUI launcher's seam to hand qube-agent the qube's shared region and
	// GUI socket. Files it returns are closed once the qube started.
	QubeServices func(name, label string) ([]driver.Service, error)
	// RunEnv is added to the environment of admin.vm.Run commands
	// (DISPLAY for the in-qube X server, for one).
	RunEnv    []string
	Lifecycle Lifecycle
	Log       *log.Logger
}

// Server serves the Admin API. Create it with New.
type Server struct {
	cfg    Config
	st     *store.Store
	drv    driver.Driver
	events bus
	halts  haltWaiters
	clones cloneTokens
	usage  usageCache
	log    *log.Logger

	// mu serialises changes that check and then act (create, remove,
	// lifecycle), so two clients cannot interleave them.
	mu sync.Mutex
	// transient holds Transient/Halting while a qube starts or stops.
	tmu       sync.Mutex
	transient map[string]qube.State
	starts    map[string]time.Time

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New makes a server and starts watching the driver. Call Close to stop.
func New(cfg Config) *Server {
	if cfg.Log == nil {
		cfg.Log = log.New(io.Discard, "", 0)
	}
	s := &Server{cfg: cfg, st: cfg.Store, drv: cfg.Driver, log: cfg.Log,
		transient: map[string]qube.State{}, starts: map[string]time.Time{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.wg.Add(1)
	go s.watchHalts()
	return s
}

// Autostart starts every qube with autostart=True.
func (s *Server) Autostart() {
	v := s.view()
	for name, q := range v.c.Qubes {
		if on, _ := v.value(q, "autostart"); on == "True" && name != store.AdminVM {
			if err := s.start(name); err != nil {
				s.log.Printf("autostart %s: %v", name, err)
			}
		}
	}
}

// Close stops serving, kills every qube and waits for the daemon's
// goroutines; it does not close listeners passed to Serve.
func (s *Server) Close() error {
	s.cancel()
	err := s.drv.Close()
	s.wg.Wait()
	return err
}

func (s *Server) view() *view { return &view{c: s.st.View(), s: s} }

// Listen creates the Admin API socket at path with the given mode (0600
// for a user daemon, 0660 for a system one; never world-accessible). A
// stale socket left by a crash is replaced; a live one is an error.
func Listen(path string, mode os.FileMode) (net.Listener, error) {
	if mode&0o007 != 0 {
		return nil, fmt.Errorf("socket mode %o would let every user on the host control qubes", mode)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create socket directory: %w", err)
	}
	if c, err := net.Dial("unix", path); err == nil {
		c.Close()
		return nil, fmt.Errorf("%s is served by a running daemon (qubesd or qube-hostd)", path)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("%s exists and is not a socket; remove it or choose another -socket", path)
		}
		os.Remove(path) // left by a daemon that crashed
	}
	// The umask covers the moment between bind and chmod.
	old := syscall.Umask(0o177)
	l, err := net.Listen("unix", path)
	syscall.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	if err := os.Chmod(path, mode); err != nil {
		l.Close()
		return nil, fmt.Errorf("set mode of %s: %w", path, err)
	}
	return l, nil
}

// DefaultSocket is $XDG_RUNTIME_DIR/qubes/qubesd.sock for a user daemon and
// /run/qubesd.sock for a system one (root without XDG_RUNTIME_DIR).
func DefaultSocket() string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "qubes", "qubesd.sock")
	}
	if os.Geteuid() == 0 {
		return "/run/qubesd.sock"
	}
	return filepath.Join(os.TempDir(), "qubes-"+strconv.Itoa(os.Getuid()), "qubesd.sock")
}

// requestTimeout bounds the wait for a client's whole request.
const requestTimeout = 30 * time.Second

// Serve answers connections on l until l is closed or the server closes.
func (s *Server) Serve(l net.Listener) error {
	go func() {
		<-s.ctx.Done()
		l.Close()
	}()
	for {
		conn, err := l.Accept()
		if err != nil {
			if s.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			// EMFILE and the like: back off instead of spinning.
			s.log.Printf("accept: %v", err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		go func() {
			defer func() {
				if r := recover(); r != nil {
					buf := make([]byte, 4096)
					s.log.Printf("panic serving a request: %v\n%s", r, buf[:runtime.Stack(buf, false)])
					conn.Close()
				}
			}()
			// A client that never half-closes must not hold a goroutine
			// forever; streams read nothing after the request.
			conn.SetReadDeadline(time.Now().Add(requestTimeout))
			if err := adminapi.ServeConn(s.ctx, conn, s.handle); err != nil {
				s.log.Printf("request: %v", err)
			}
		}()
	}
}

// excf builds a qubesd exception answer.
func excf(class, format string, args ...any) error {
	return &adminapi.Error{Class: class, Message: fmt.Sprintf(format, args...)}
}

// noAnswer is an error that drops the connection without a reply, as
// qubesd does for a failure that is not a Qubes exception.
type noAnswer struct{ why string }

func (e noAnswer) Error() string { return e.why }

func notFound(name string) error {
	return excf("QubesVMNotFoundError", "No such domain: %s", pyRepr(name))
}

func hostMemMiB(*view, *store.Qube) (string, bool) {
	var si syscall.Sysinfo_t
	if syscall.Sysinfo(&si) != nil {
		return "", false
	}
	return strconv.FormatUint(uint64(si.Totalram)*uint64(si.Unit)>>20, 10), true
}

func hostCPUs(*view, *store.Qube) (string, bool) { return strconv.Itoa(runtime.NumCPU()), true }

// qubeDir is where a qube keeps its files (its home) on the host.
func (s *Server) qubeDir(name string) string { return filepath.Join(s.st.Dir(), "qubes", name) }

func (s *Server) homeDir(name string) string { return filepath.Join(s.qubeDir(name), "home") }

// state is a qube's power state as admin.vm.List shows it.
func (s *Server) state(name string) qube.State {
	if name == store.AdminVM {
		return qube.Running
	}
	s.tmu.Lock()
	t, ok := s.transient[name]
	s.tmu.Unlock()
	if ok {
		return t
	}
	return qube.State(s.drv.Power(name).String())
}

func (s *Server) setTransient(name string, st qube.State) {
	s.tmu.Lock()
	defer s.tmu.Unlock()
	if st == "" {
		delete(s.transient, name)
	} else {
		s.transient[name] = st
	}
}

// asciiPrintable reports whether b is printable ASCII (space allowed).
func asciiPrintable(b string) bool {
	for i := 0; i < len(b); i++ {
		if b[i] < 0x20 || b[i] > 0x7e {
			return false
		}
	}
	return true
}

// splitPayloadArgs parses "key=value key=value" Create payloads.
func splitPayloadArgs(p []byte) (map[string]string, error) {
	if !asciiPrintable(string(p)) {
		return nil, excf("ProtocolError", "Invalid characters in payload")
	}
	m := map[string]string{}
	for _, f := range strings.Fields(string(p)) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return nil, excf("ProtocolError", "Invalid param %s", pyRepr(f))
		}
		if _, dup := m[k]; dup {
			return nil, excf("ProtocolError", "Duplicated param %s", pyRepr(k))
		}
		m[k] = v
	}
	return m, nil
}
