package hostd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/qube-desktop/qube-desktop/internal/adminapi"
	"github.com/qube-desktop/qube-desktop/internal/driver"
	"github.com/qube-desktop/qube-desktop/internal/qube"
	"github.com/qube-desktop/qube-desktop/internal/store"
)

func notStarted(name string) error {
	return excf("QubesVMNotStartedError", "Domain is powered off: %s", pyRepr(name))
}

func vmStart(c *call) ([]byte, error) { return nil, c.s.start(c.dest.Name) }

// start boots a qube; it returns once the qube runs, or why it could not.
func (s *Server) start(name string) error {
	if name == store.AdminVM {
		return nil
	}
	s.mu.Lock()
	if s.state(name) != qube.Halted {
		s.mu.Unlock()
		return nil
	}
	v := s.view()
	q := v.c.Qubes[name]
	if q == nil {
		s.mu.Unlock()
		return notFound(name)
	}
	if _, ok := q.Features["prohibit-start"]; ok {
		s.mu.Unlock()
		return excf("QubesException", "Qube start prohibited: %s has the prohibit-start feature", name)
	}
	s.setTransient(name, qube.Transient)
	s.mu.Unlock()

	s.events.emit(name, "domain-pre-start", "start_guid", "True", "mem_required", "None")
	spec := s.spec(v, q)
	label, _ := v.value(q, "label")
	err := s.addQubeServices(&spec, label)
	if err == nil {
		err = s.drv.Start(spec)
	}
	for _, svc := range spec.Services[len(s.cfg.Services):] {
		for _, f := range svc.Files {
			f.Close()
		}
	}
	if err != nil {
		s.setTransient(name, "")
		reason := err.Error()
		s.events.emit(name, "domain-start-failed", "reason", reason)
		s.log.Printf("start %s: %v", name, err)
		return excf("QubesException", "Failed to start %s: %s", name, reason)
	}
	s.tmu.Lock()
	s.starts[name] = time.Now()
	s.tmu.Unlock()
	s.setTransient(name, "")
	s.events.emit(name, "domain-start", "start_guid", "True")
	if s.cfg.Lifecycle != nil {
		s.cfg.Lifecycle.QubeStarted(name, label)
	}
	return nil
}

func (s *Server) addQubeServices(spec *driver.Spec, label string) error {
	spec.Services = slices.Clone(s.cfg.Services)
	if s.cfg.QubeServices == nil {
		return nil
	}
	more, err := s.cfg.QubeServices(spec.Name, label)
	if err != nil {
		return fmt.Errorf("prepare services: %w", err)
	}
	spec.Services = append(spec.Services, more...)
	return nil
}

// spec maps a qube to what the driver runs: see docs/qube-hostd.md.
func (s *Server) spec(v *view, q *store.Qube) driver.Spec {
	root, owner := v.rootDir(q)
	sp := driver.Spec{Name: q.Name, Services: s.cfg.Services}
	if root != "/" {
		sp.Root = root
		sp.RootWritable = owner == q.Name && q.Class == string(qube.TemplateVM)
	}
	if q.Class != string(qube.DispVM) {
		sp.Home = s.homeDir(q.Name)
	}
	netvm, _ := v.value(q, "netvm")
	sp.Network = netvm != ""
	return sp
}

// watchHalts turns driver halts into domain-shutdown events, cleans up
// disposables and wakes callers waiting for the halt.
func (s *Server) watchHalts() {
	defer s.wg.Done()
	for {
		var name string
		select {
		case <-s.ctx.Done():
			return
		case name = <-s.drv.Halted():
		}
		s.tmu.Lock()
		delete(s.starts, name)
		s.tmu.Unlock()
		// What the qube wrote in its last seconds counts from now on.
		s.usage.forget(name)
		s.setTransient(name, "")
		s.events.emit(name, "domain-stopped")
		s.events.emit(name, "domain-shutdown")
		if s.cfg.Lifecycle != nil {
			s.cfg.Lifecycle.QubeStopped(name)
		}
		v := s.view()
		if q := v.c.Qubes[name]; q != nil && q.Class == string(qube.DispVM) {
			if on, _ := v.value(q, "auto_cleanup"); on == "True" {
				if err := s.remove(name); err != nil {
					s.log.Printf("clean up disposable %s: %v", name, err)
				}
			}
		}
		s.halts.wake(name)
	}
}

func vmShutdown(c *call) ([]byte, error) {
	force, wait := false, false
	if c.req.Arg != "" {
		for _, o := range strings.Split(c.req.Arg, "+") {
			switch o {
			case "force":
				force = true
			case "wait":
				wait = true
			default:
				return nil, excf("ProtocolError", "Invalid shutdown option %s", pyRepr(o))
			}
		}
	}
	s, name := c.s, c.dest.Name
	if name == store.AdminVM {
		return nil, excf("QubesVMError", "dom0 cannot be shut down through qube-hostd")
	}
	if st := s.state(name); st == qube.Halted {
		return nil, notStarted(name)
	}
	if !force {
		var users []string
		for _, q := range c.v.c.Qubes {
			if n, _ := c.v.value(q, "netvm"); n == name && s.state(q.Name) != qube.Halted {
				users = append(users, q.Name)
			}
		}
		if len(users) > 0 {
			slices.Sort(users)
			return nil, excf("QubesVMInUseError", "There are other VMs connected to this VM: %s", strings.Join(users, ", "))
		}
	}
	timeout := 60
	if t, _ := c.v.value(c.dest, "shutdown_timeout"); t != "" {
		timeout, _ = strconv.Atoi(t)
	}
	halted := s.halts.wait(name)
	s.events.emit(name, "domain-pre-shutdown", "force", pyBool(force))
	if st, ok := s.cfg.Lifecycle.(Stopping); ok {
		st.QubeStopping(name)
	}
	s.setTransient(name, qube.Halting)
	errc := make(chan error, 1)
	go func() { errc <- s.drv.Shutdown(name, time.Duration(timeout)*time.Second) }()
	if !wait {
		return nil, nil
	}
	if err := <-errc; err != nil && !errors.Is(err, driver.ErrNotRunning) {
		return nil, excf("QubesVMError", "Shutdown of %s failed: %v", name, err)
	}
	<-halted
	return nil, nil
}

func vmKill(c *call) ([]byte, error) {
	s, name := c.s, c.dest.Name
	if name == store.AdminVM {
		return nil, excf("QubesVMError", "dom0 cannot be killed")
	}
	if s.drv.Power(name) == driver.Halted {
		return nil, notStarted(name)
	}
	halted := s.halts.wait(name)
	if err := s.drv.Kill(name); err != nil {
		return nil, notStarted(name)
	}
	<-halted
	return nil, nil
}

func vmPause(c *call) ([]byte, error) {
	s, name := c.s, c.dest.Name
	if s.state(name) != qube.Running || name == store.AdminVM {
		return nil, excf("QubesVMNotRunningError", "Domain not running (either powered off or paused): %s", pyRepr(name))
	}
	s.events.emit(name, "domain-pre-paused")
	if err := s.drv.Pause(name); err != nil {
		return nil, excf("QubesVMNotRunningError", "Domain not running (either powered off or paused): %s", pyRepr(name))
	}
	s.events.emit(name, "domain-paused")
	return nil, nil
}

func vmUnpause(c *call) ([]byte, error) {
	s, name := c.s, c.dest.Name
	if s.state(name) != qube.Paused {
		return nil, excf("QubesVMNotPausedError", "Domain is not paused: %s", pyRepr(name))
	}
	s.events.emit(name, "domain-pre-unpaused")
	if err := s.drv.Unpause(name); err != nil {
		return nil, excf("QubesVMNotPausedError", "Domain is not paused: %s", pyRepr(name))
	}
	s.events.emit(name, "domain-unpaused")
	return nil, nil
}

// vmRun is admin.vm.Run: payload is a shell command line run with sh -c
// as the qube's user; a halted qube is started first, as qvm-run does.
// It answers once the program started; its output goes to the qube's log.
func vmRun(c *call) ([]byte, error) {
	s, name := c.s, c.dest.Name
	if !asciiPrintable(string(c.req.Payload)) {
		return nil, excf("QubesValueError", "Command must be printable ASCII")
	}
	if err := s.start(name); err != nil {
		return nil, err
	}
	if st := s.state(name); st != qube.Running {
		return nil, excf("QubesVMNotRunningError", "Domain not running (either powered off or paused): %s", pyRepr(name))
	}
	logf, err := os.OpenFile(filepath.Join(s.qubeDir(name), "run.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	opts := driver.RunOptions{Env: s.cfg.RunEnv}
	if logf != nil {
		defer logf.Close()
		opts.Stdout, opts.Stderr = logf, logf
	}
	p, err := s.drv.Run(name, []string{"sh", "-c", string(c.req.Payload)}, opts)
	if err != nil {
		return nil, excf("QubesException", "%v", err)
	}
	go p.Wait()
	return nil, nil
}

func currentState(c *call) ([]byte, error) {
	s, q := c.s, c.dest
	st := s.state(q.Name)
	var mem, cpu uint64
	var maxKB uint64
	if q.Name == store.AdminVM {
		var si syscall.Sysinfo_t
		if syscall.Sysinfo(&si) == nil {
			maxKB = uint64(si.Totalram) * uint64(si.Unit) / 1024
			mem = maxKB - uint64(si.Freeram)*uint64(si.Unit)/1024
		}
	} else if st.IsActive() {
		if stats, err := s.drv.Stats(q.Name); err == nil {
			mem, cpu = stats.MemoryKB, uint64(stats.CPUTime.Nanoseconds())
		}
		m, _ := c.v.value(q, "maxmem")
		n, _ := strconv.ParseUint(m, 10, 64)
		maxKB = n * 1024
	}
	return fmt.Appendf(nil, "mem=%d mem_static_max=%d cputime=%d power_state=%s", mem, maxKB, cpu, st), nil
}

// streamEvents is admin.Events: connection-established, then every event
// (dest dom0) or the destination's own events, until the client leaves.
func (s *Server) streamEvents(ctx context.Context, c *call, w io.Writer) error {
	sub := s.events.subscribe()
	defer s.events.unsubscribe(sub)
	if err := adminapi.WriteEvent(w, adminapi.ConnectionEstablished); err != nil {
		return nil
	}
	all := c.dest.Name == store.AdminVM
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	gone := hangup(ctx, w)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-gone:
			return nil
		case <-sub.dropped:
			return fmt.Errorf("events client fell %d events behind; disconnected", subscriberQueue)
		case ev := <-sub.ch:
			if !all && ev.Subject != c.dest.Name {
				continue
			}
			if err := adminapi.WriteEvent(w, ev); err != nil {
				return nil
			}
		}
	}
}

// streamStats is admin.vm.Stats: a vm-stats event per running qube every
// stats_interval seconds. cpu_usage is the percentage of one host CPU
// used since the previous report.
func (s *Server) streamStats(ctx context.Context, c *call, w io.Writer) error {
	if err := adminapi.WriteEvent(w, adminapi.ConnectionEstablished); err != nil {
		return nil
	}
	type sample struct {
		cpu time.Duration
		at  time.Time
	}
	prev := map[string]sample{}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	gone := hangup(ctx, w)
	for {
		v := s.view()
		iv, _ := v.globalValue("stats_interval")
		n, _ := strconv.Atoi(iv)
		interval := time.Duration(max(n, 1)) * time.Second
		var names []string
		for name := range v.c.Qubes {
			if name != store.AdminVM && (c.dest.Name == store.AdminVM || name == c.dest.Name) {
				names = append(names, name)
			}
		}
		slices.Sort(names)
		for _, name := range names {
			st, err := s.drv.Stats(name)
			if err != nil {
				delete(prev, name)
				continue
			}
			now := time.Now()
			usage := 0
			if p, ok := prev[name]; ok && now.After(p.at) {
				usage = int(100 * (st.CPUTime - p.cpu) / now.Sub(p.at))
			}
			prev[name] = sample{st.CPUTime, now}
			ev := adminapi.Event{Subject: name, Name: "vm-stats", Args: []adminapi.Arg{
				{Key: "memory_kb", Value: strconv.FormatUint(st.MemoryKB, 10)},
				{Key: "cpu_time", Value: strconv.FormatInt(st.CPUTime.Milliseconds(), 10)},
				{Key: "cpu_usage", Value: strconv.Itoa(max(usage, 0))},
				{Key: "cpu_usage_raw", Value: strconv.Itoa(max(usage, 0))},
			}}
			if err := adminapi.WriteEvent(w, ev); err != nil {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-gone:
			return nil
		case <-time.After(interval):
		}
	}
}
