package tray

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"syscall"

	"github.com/qube-desktop/qube-desktop/internal/adminapi"
	"github.com/qube-desktop/qube-desktop/internal/qube"
)

// AdminSource is the Source of a real qubesd or qube-hostd, reached through
// the Admin API client. Actions that open windows on the host (settings,
// the manager) start local programs.
type AdminSource struct {
	Client *adminapi.Client
	// Terminal is the shell command line run in a qube for "Run terminal".
	Terminal string
	// Manager opens the Qube Manager; Settings opens a qube's settings and
	// gets the qube's name appended as its last argument.
	Manager  []string
	Settings []string
}

// DefaultTerminal starts the qube's preferred terminal, or xterm.
const DefaultTerminal = "command -v x-terminal-emulator >/dev/null && exec x-terminal-emulator; exec xterm"

// Qubes implements Source: the qube list with each qube's label colour.
func (s *AdminSource) Qubes(ctx context.Context) ([]Qube, error) {
	qs, err := s.Client.LoadQubes(ctx)
	if err != nil {
		return nil, err
	}
	var custom map[string]qube.Label // labels beyond the default palette, read once per reload
	out := make([]Qube, 0, len(qs))
	for _, q := range qs {
		l, ok := qube.LabelByName(q.Label())
		if !ok && q.Label() != "" {
			if custom == nil {
				custom = map[string]qube.Label{}
				ls, err := s.Client.Labels(ctx)
				if err != nil {
					return nil, fmt.Errorf("read label colours: %w", err)
				}
				for _, l := range ls {
					custom[l.Name] = l
				}
			}
			l, ok = custom[q.Label()]
		}
		if !ok {
			l, _ = qube.LabelByName("gray")
		}
		out = append(out, Qube{Name: q.Name, Label: l.Color(), State: trayState(q.State), AdminVM: q.Class == qube.AdminVM})
	}
	return out, nil
}

func trayState(s qube.State) State {
	switch s {
	case qube.Running:
		return Running
	case qube.Paused, qube.Suspended:
		return Paused
	case qube.Transient:
		return Starting
	case qube.Halting, qube.Dying:
		return Halting
	}
	return Halted
}

// Events implements Source with one admin.Events connection.
func (s *AdminSource) Events(ctx context.Context, fn func(Event)) error {
	return s.stream(ctx, "admin.Events", func(e adminapi.Event) {
		args := make(map[string]string, len(e.Args))
		for _, a := range e.Args {
			args[a.Key] = a.Value
		}
		fn(Event{Subject: e.Subject, Name: e.Name, Args: args})
	})
}

// Stats implements Source with one admin.vm.Stats connection. Fields are
// read by key and missing or extra ones tolerated, since they differ
// between qubesd versions.
func (s *AdminSource) Stats(ctx context.Context, fn func(Stats)) error {
	return s.stream(ctx, "admin.vm.Stats", func(e adminapi.Event) {
		if e.Name != adminapi.EventVMStats || e.Subject == "" {
			return
		}
		st := Stats{Qube: e.Subject}
		if v, ok := e.Arg("cpu_usage"); ok {
			st.CPUPercent, _ = strconv.Atoi(v)
		}
		if v, ok := e.Arg("memory_kb"); ok {
			st.MemoryKiB, _ = strconv.ParseUint(v, 10, 64)
		}
		fn(st)
	})
}

func (s *AdminSource) stream(ctx context.Context, method string, fn func(adminapi.Event)) error {
	st, err := s.Client.OpenStream(ctx, s.Client.Request(method, "", adminapi.AdminVM, nil))
	if err != nil {
		return err
	}
	defer st.Close()
	for {
		e, err := st.Next()
		if err != nil {
			return fmt.Errorf("%s: %w", method, err)
		}
		fn(e)
	}
}

// Do implements Source.
func (s *AdminSource) Do(ctx context.Context, a Action, name string) error {
	c := s.Client
	switch a {
	case Terminal:
		return c.Run(ctx, name, s.Terminal)
	case Pause:
		return c.Pause(ctx, name)
	case Resume:
		return c.Unpause(ctx, name)
	case Shutdown:
		return c.Shutdown(ctx, name, adminapi.ShutdownOptions{})
	case Restart:
		if err := c.Shutdown(ctx, name, adminapi.ShutdownOptions{Wait: true}); err != nil {
			return err
		}
		return c.Start(ctx, name)
	case Kill:
		return c.Kill(ctx, name)
	case Settings:
		return launch(append(append([]string(nil), s.Settings...), name))
	case OpenManager:
		return launch(s.Manager)
	}
	return fmt.Errorf("unknown tray action %q", a)
}

// launch starts a host program in its own session, so it outlives the tray,
// and reaps it when it exits.
func launch(argv []string) error {
	if len(argv) == 0 {
		return fmt.Errorf("no program configured")
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() { _ = cmd.Wait() }()
	return nil
}
