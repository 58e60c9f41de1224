package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/qube-desktop/qube-desktop/gui"
	"github.com/qube-desktop/qube-desktop/internal/adminapi"
	"github.com/qube-desktop/qube-desktop/internal/qube"
)

// backend is gui.Backend on the Admin API client.
type backend struct{ c *adminapi.Client }

var _ gui.Backend = backend{}

// daemonError shows a qubesd exception as its message alone ("Qube already
// exists: work"): the class and the method are for logs, not for people.
type daemonError struct{ e *adminapi.Error }

func (d daemonError) Error() string {
	if d.e.Message == "" {
		return fmt.Sprintf("qubesd refused it (%s)", d.e.Class)
	}
	return d.e.Message
}

func (d daemonError) Unwrap() error { return d.e }

// Is lets the manager recognise a refusal it can offer to override.
func (d daemonError) Is(target error) bool {
	return target == gui.ErrInUse && errors.Is(d.e, adminapi.ErrVMInUse)
}

func human(err error) error {
	var e *adminapi.Error
	if errors.As(err, &e) {
		return daemonError{e}
	}
	return err
}

func (b backend) List(ctx context.Context) ([]qube.Qube, error) {
	qs, err := b.c.ListQubes(ctx)
	return qs, human(err)
}

func (b backend) Details(ctx context.Context, name string) (gui.Details, error) {
	props, err := b.c.VMProps(name).GetAll(ctx)
	if err != nil {
		return gui.Details{}, human(err)
	}
	d := gui.Details{Props: make(map[string]qube.Property, len(props))}
	for _, p := range props {
		d.Props[p.Name] = p
	}
	if v, err := b.c.FeatureGet(ctx, name, "internal"); err == nil {
		d.Internal = v != "" && v != "0" && v != "False"
	}
	return d, nil
}

func (b backend) DiskUsage(ctx context.Context, name string) (int64, error) {
	vols, err := b.c.VolumeList(ctx, name)
	if err != nil {
		return 0, human(err)
	}
	var sum int64
	for _, v := range vols {
		info, err := b.c.VolumeInfo(ctx, name, v)
		if err != nil {
			return 0, human(err)
		}
		sum += info.Usage
	}
	return sum, nil
}

func (b backend) Labels(ctx context.Context) ([]qube.Label, error) {
	ls, err := b.c.Labels(ctx)
	return ls, human(err)
}

// follow reads one stream until it breaks or ctx ends.
func (b backend) follow(ctx context.Context, open func(context.Context, string) (*adminapi.Stream, error), handle func(adminapi.Event)) error {
	s, err := open(ctx, adminapi.AdminVM)
	if err != nil {
		return err
	}
	defer s.Close()
	stop := context.AfterFunc(ctx, func() { s.Close() })
	defer stop()
	for {
		ev, err := s.Next()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err == io.EOF {
			return errors.New("qubesd closed the event stream")
		}
		if err != nil {
			return human(err)
		}
		handle(ev)
	}
}

func (b backend) Events(ctx context.Context, handle func(gui.Event)) error {
	return b.follow(ctx, b.c.OpenEvents, func(ev adminapi.Event) {
		args := make(map[string]string, len(ev.Args))
		for _, a := range ev.Args {
			args[a.Key] = a.Value
		}
		handle(gui.Event{Subject: ev.Subject, Name: ev.Name, Args: args})
	})
}

func (b backend) Stats(ctx context.Context, handle func(gui.Stat)) error {
	return b.follow(ctx, b.c.OpenStats, func(ev adminapi.Event) {
		if ev.Name != adminapi.EventVMStats {
			return
		}
		if st, err := adminapi.ParseStats(ev); err == nil {
			handle(gui.Stat{Name: st.Qube, CPU: int(st.CPUUsage), MemoryKiB: st.MemoryKiB})
		}
	})
}

func (b backend) Start(ctx context.Context, n string) error { return human(b.c.Start(ctx, n)) }
func (b backend) Shutdown(ctx context.Context, n string, o gui.ShutdownOptions) error {
	return human(b.c.Shutdown(ctx, n, adminapi.ShutdownOptions{Force: o.Force, Wait: o.Wait}))
}
func (b backend) Kill(ctx context.Context, n string) error    { return human(b.c.Kill(ctx, n)) }
func (b backend) Pause(ctx context.Context, n string) error   { return human(b.c.Pause(ctx, n)) }
func (b backend) Unpause(ctx context.Context, n string) error { return human(b.c.Unpause(ctx, n)) }
func (b backend) Run(ctx context.Context, n, cmd string) error {
	return human(b.c.Run(ctx, n, cmd))
}

func (b backend) SetProperty(ctx context.Context, n, p, v string) error {
	return human(b.c.VMProps(n).Set(ctx, p, v))
}

func (b backend) ResetProperty(ctx context.Context, n, p string) error {
	return human(b.c.VMProps(n).Reset(ctx, p))
}

func (b backend) Features(ctx context.Context, n string) (map[string]string, error) {
	names, err := b.c.FeatureList(ctx, n)
	if err != nil {
		return nil, human(err)
	}
	fs := make(map[string]string, len(names))
	for _, f := range names {
		v, err := b.c.FeatureGet(ctx, n, f)
		if err != nil {
			return nil, human(err)
		}
		fs[f] = v
	}
	return fs, nil
}

func (b backend) SetFeature(ctx context.Context, n, f, v string) error {
	return human(b.c.FeatureSet(ctx, n, f, v))
}

func (b backend) RemoveFeature(ctx context.Context, n, f string) error {
	return human(b.c.FeatureRemove(ctx, n, f))
}

func (b backend) Create(ctx context.Context, r gui.CreateRequest) error {
	return human(b.c.Create(ctx, adminapi.CreateOptions{Class: r.Class, Name: r.Name, Label: r.Label, Template: r.Template}))
}

func (b backend) Clone(ctx context.Context, src, dst string) error {
	return human(b.c.Clone(ctx, src, dst, adminapi.CloneOptions{}))
}

func (b backend) Remove(ctx context.Context, n string) error { return human(b.c.Remove(ctx, n)) }
