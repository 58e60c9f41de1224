package adminapi

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/qube-desktop/qube-desktop/internal/qube"
)

// AdminVM is the destination of global calls.
const AdminVM = "dom0"

// ListQubes returns every qube the caller may see (admin.vm.List to dom0).
func (c *Client) ListQubes(ctx context.Context) ([]qube.Qube, error) {
	b, err := c.Call(ctx, "admin.vm.List", "", AdminVM, nil)
	if err != nil {
		return nil, err
	}
	return ParseVMList(b)
}

// ListQube returns one qube's class and state (admin.vm.List to the qube).
func (c *Client) ListQube(ctx context.Context, name string) (qube.Qube, error) {
	b, err := c.Call(ctx, "admin.vm.List", "", name, nil)
	if err != nil {
		return qube.Qube{}, err
	}
	qs, err := ParseVMList(b)
	if err != nil {
		return qube.Qube{}, err
	}
	if len(qs) != 1 || qs[0].Name != name {
		return qube.Qube{}, fmt.Errorf("%w: admin.vm.List to %s returned %d qubes", ErrMalformed, name, len(qs))
	}
	return qs[0], nil
}

// CurrentState returns the live memory, CPU time and power state of a qube.
func (c *Client) CurrentState(ctx context.Context, name string) (CurrentState, error) {
	b, err := c.Call(ctx, "admin.vm.CurrentState", "", name, nil)
	if err != nil {
		return CurrentState{}, err
	}
	return ParseCurrentState(b)
}

// Properties of one qube (scope "admin.vm.property") or global ones
// ("admin.property", dest dom0) share one set of calls.
type propScope struct {
	c      *Client
	prefix string
	dest   string
}

// VMProps addresses the properties of a qube.
func (c *Client) VMProps(name string) Props { return Props{propScope{c, "admin.vm.property.", name}} }

// GlobalProps addresses the global properties (admin.property.*).
func (c *Client) GlobalProps() Props { return Props{propScope{c, "admin.property.", AdminVM}} }

// Props reads and writes the properties of one qube or the global ones.
type Props struct{ s propScope }

// Get reads one property.
func (p Props) Get(ctx context.Context, name string) (qube.Property, error) {
	b, err := p.s.c.Call(ctx, p.s.prefix+"Get", name, p.s.dest, nil)
	if err != nil {
		return qube.Property{}, err
	}
	return ParseProperty(name, b)
}

// GetAll reads every property in one call, in the server's order.
func (p Props) GetAll(ctx context.Context) ([]qube.Property, error) {
	b, err := p.s.c.Call(ctx, p.s.prefix+"GetAll", "", p.s.dest, nil)
	if err != nil {
		return nil, err
	}
	return ParseGetAll(b)
}

// GetDefault reads the value a property takes when reset; ok is false when
// it has none.
func (p Props) GetDefault(ctx context.Context, name string) (prop qube.Property, ok bool, err error) {
	b, err := p.s.c.Call(ctx, p.s.prefix+"GetDefault", name, p.s.dest, nil)
	if err != nil {
		return qube.Property{}, false, err
	}
	return ParseDefault(name, b)
}

// List returns the property names in the server's order.
func (p Props) List(ctx context.Context) ([]string, error) {
	return p.s.c.lines(ctx, p.s.prefix+"List", "", p.s.dest)
}

// Set writes a property. An empty value means None for vm properties.
func (p Props) Set(ctx context.Context, name, value string) error {
	return p.s.c.call0(ctx, p.s.prefix+"Set", name, p.s.dest, []byte(value))
}

// Reset returns a property to its default.
func (p Props) Reset(ctx context.Context, name string) error {
	return p.s.c.call0(ctx, p.s.prefix+"Reset", name, p.s.dest, nil)
}

// Help returns a property's help text.
func (p Props) Help(ctx context.Context, name string) (string, error) {
	b, err := p.s.c.Call(ctx, p.s.prefix+"Help", name, p.s.dest, nil)
	return string(b), err
}

// lines calls a method whose answer is one item per line.
func (c *Client) lines(ctx context.Context, method, arg, dest string) ([]string, error) {
	b, err := c.Call(ctx, method, arg, dest, nil)
	if err != nil {
		return nil, err
	}
	return splitLines(string(b)), nil
}

// Start starts a qube and returns when it runs (or failed to start).
func (c *Client) Start(ctx context.Context, name string) error {
	return c.call0(ctx, "admin.vm.Start", "", name, nil)
}

// ShutdownOptions are qvm-shutdown's --force and --wait.
type ShutdownOptions struct {
	Force bool // shut down even if other qubes use it (their network is cut)
	Wait  bool // return only when the qube is halted
}

// Shutdown asks a qube to shut down.
func (c *Client) Shutdown(ctx context.Context, name string, o ShutdownOptions) error {
	var arg []string
	if o.Force {
		arg = append(arg, "force")
	}
	if o.Wait {
		arg = append(arg, "wait")
	}
	return c.call0(ctx, "admin.vm.Shutdown", strings.Join(arg, "+"), name, nil)
}

// Pause pauses a running qube.
func (c *Client) Pause(ctx context.Context, name string) error {
	return c.call0(ctx, "admin.vm.Pause", "", name, nil)
}

// Unpause resumes a paused qube.
func (c *Client) Unpause(ctx context.Context, name string) error {
	return c.call0(ctx, "admin.vm.Unpause", "", name, nil)
}

// Kill stops a qube at once.
func (c *Client) Kill(ctx context.Context, name string) error {
	return c.call0(ctx, "admin.vm.Kill", "", name, nil)
}

// CreateOptions describe a new qube.
type CreateOptions struct {
	Class    qube.Class
	Name     string
	Label    string
	Template string // required for AppVM/DispVM unless default_template is set
	// Pool puts every volume in one pool; Pools names a pool per volume
	// (root, private, volatile, kernel). Either makes it a CreateInPool.
	Pool  string
	Pools map[string]string
}

// Create creates a qube (admin.vm.Create.<Class> or CreateInPool.<Class>).
// The name is checked first with qubesd's own rules.
func (c *Client) Create(ctx context.Context, o CreateOptions) error {
	if err := qube.ValidateName(o.Name); err != nil {
		return err
	}
	if o.Label == "" {
		return errors.New("a new qube needs a label (red, orange, yellow, green, gray, blue, purple, black or a custom one)")
	}
	if o.Pool != "" && len(o.Pools) > 0 {
		return errors.New("give either one pool for all volumes or a pool per volume, not both")
	}
	return c.call0(ctx, createMethod(o), o.Template, AdminVM, createPayload(o))
}

func createMethod(o CreateOptions) string {
	if o.Pool != "" || len(o.Pools) > 0 {
		return "admin.vm.CreateInPool." + string(o.Class)
	}
	return "admin.vm.Create." + string(o.Class)
}

func createPayload(o CreateOptions) []byte {
	s := "name=" + o.Name + " label=" + o.Label
	if o.Pool != "" {
		s += " pool=" + o.Pool
	}
	vols := make([]string, 0, len(o.Pools))
	for v := range o.Pools {
		vols = append(vols, v)
	}
	sort.Strings(vols)
	for _, v := range vols {
		s += " pool:" + v + "=" + o.Pools[v]
	}
	return []byte(s)
}

// DisposableOptions select CreateDisposable's variants.
type DisposableOptions struct {
	Preload bool // create a preloaded disposable (R4.3+)
	UUID    bool // answer with uuid:<uuid> instead of the name
}

// CreateDisposable creates (without starting) a disposable from a
// disposable template, or from the caller's default_dispvm when template is
// dom0. It returns the new qube's name, or "uuid:<uuid>" with o.UUID.
func (c *Client) CreateDisposable(ctx context.Context, template string, o DisposableOptions) (string, error) {
	var arg string
	if o.Preload {
		arg = "preload"
	}
	var payload []byte
	if o.UUID {
		payload = []byte("uuid")
	}
	b, err := c.Call(ctx, "admin.vm.CreateDisposable", arg, template, payload)
	if err != nil {
		return "", err
	}
	if len(b) == 0 {
		return "", fmt.Errorf("%w: CreateDisposable returned no name", ErrMalformed)
	}
	return string(b), nil
}

// Remove deletes a halted qube and its volumes.
func (c *Client) Remove(ctx context.Context, name string) error {
	return c.call0(ctx, "admin.vm.Remove", "", name, nil)
}

// FeatureList returns the names of a qube's features.
func (c *Client) FeatureList(ctx context.Context, name string) ([]string, error) {
	return c.lines(ctx, "admin.vm.feature.List", "", name)
}

// FeatureGet returns a feature's value (ErrFeatureNotFound when unset).
func (c *Client) FeatureGet(ctx context.Context, name, feature string) (string, error) {
	b, err := c.Call(ctx, "admin.vm.feature.Get", feature, name, nil)
	return string(b), err
}

// FeatureCheckWithTemplate returns a feature's value from the qube or,
// failing that, from its template chain.
func (c *Client) FeatureCheckWithTemplate(ctx context.Context, name, feature string) (string, error) {
	b, err := c.Call(ctx, "admin.vm.feature.CheckWithTemplate", feature, name, nil)
	return string(b), err
}

// FeatureSet sets a feature.
func (c *Client) FeatureSet(ctx context.Context, name, feature, value string) error {
	return c.call0(ctx, "admin.vm.feature.Set", feature, name, []byte(value))
}

// FeatureRemove unsets a feature (ErrFeatureNotFound when it was not set).
func (c *Client) FeatureRemove(ctx context.Context, name, feature string) error {
	return c.call0(ctx, "admin.vm.feature.Remove", feature, name, nil)
}

// TagList returns a qube's tags.
func (c *Client) TagList(ctx context.Context, name string) ([]string, error) {
	return c.lines(ctx, "admin.vm.tag.List", "", name)
}

// TagGet reports whether a qube has a tag.
func (c *Client) TagGet(ctx context.Context, name, tag string) (bool, error) {
	b, err := c.Call(ctx, "admin.vm.tag.Get", tag, name, nil)
	if err != nil {
		return false, err
	}
	switch string(b) {
	case "1":
		return true, nil
	case "0":
		return false, nil
	}
	return false, fmt.Errorf("%w: tag.Get answered %q, want 0 or 1", ErrMalformed, truncate(b))
}

// TagSet adds a tag.
func (c *Client) TagSet(ctx context.Context, name, tag string) error {
	return c.call0(ctx, "admin.vm.tag.Set", tag, name, nil)
}

// TagRemove removes a tag (ErrTagNotFound when absent).
func (c *Client) TagRemove(ctx context.Context, name, tag string) error {
	return c.call0(ctx, "admin.vm.tag.Remove", tag, name, nil)
}

// VolumeList returns a qube's volume names.
func (c *Client) VolumeList(ctx context.Context, name string) ([]string, error) {
	return c.lines(ctx, "admin.vm.volume.List", "", name)
}

// VolumeInfo describes one volume of a qube.
func (c *Client) VolumeInfo(ctx context.Context, name, volume string) (VolumeInfo, error) {
	b, err := c.Call(ctx, "admin.vm.volume.Info", volume, name, nil)
	if err != nil {
		return VolumeInfo{}, err
	}
	return ParseVolumeInfo(b)
}

// LabelList returns the label names in index order.
func (c *Client) LabelList(ctx context.Context) ([]string, error) {
	return c.lines(ctx, "admin.label.List", "", AdminVM)
}

// LabelGet returns a label's colour as 0xRRGGBB.
func (c *Client) LabelGet(ctx context.Context, label string) (uint32, error) {
	b, err := c.Call(ctx, "admin.label.Get", label, AdminVM, nil)
	if err != nil {
		return 0, err
	}
	return qube.ParseRGB(string(b))
}

// LabelIndex returns a label's index.
func (c *Client) LabelIndex(ctx context.Context, label string) (int, error) {
	b, err := c.Call(ctx, "admin.label.Index", label, AdminVM, nil)
	if err != nil {
		return 0, err
	}
	i, err := strconv.Atoi(string(b))
	if err != nil {
		return 0, fmt.Errorf("%w: label index %q", ErrMalformed, truncate(b))
	}
	return i, nil
}

// LabelCreate adds a custom label.
func (c *Client) LabelCreate(ctx context.Context, label string, rgb uint32) error {
	return c.call0(ctx, "admin.label.Create", label, AdminVM, []byte(fmt.Sprintf("0x%06x", rgb)))
}

// LabelRemove removes a custom label.
func (c *Client) LabelRemove(ctx context.Context, label string) error {
	return c.call0(ctx, "admin.label.Remove", label, AdminVM, nil)
}

// Labels returns every label with its index and colour.
func (c *Client) Labels(ctx context.Context) ([]qube.Label, error) {
	names, err := c.LabelList(ctx)
	if err != nil {
		return nil, err
	}
	ls := make([]qube.Label, len(names))
	err = c.each(ctx, len(names), func(ctx context.Context, i int) error {
		rgb, err := c.LabelGet(ctx, names[i])
		if err != nil {
			return err
		}
		idx, err := c.LabelIndex(ctx, names[i])
		ls[i] = qube.Label{Index: idx, Name: names[i], RGB: rgb}
		return err
	})
	return ls, err
}

// PoolList returns the storage pool names.
func (c *Client) PoolList(ctx context.Context) ([]string, error) {
	return c.lines(ctx, "admin.pool.List", "", AdminVM)
}

// PoolInfo returns a pool's settings and sizes as key=value pairs.
func (c *Client) PoolInfo(ctx context.Context, pool string) (KV, error) {
	b, err := c.Call(ctx, "admin.pool.Info", pool, AdminVM, nil)
	if err != nil {
		return nil, err
	}
	return ParseKV(b, "\n")
}

// ClassList returns the qube classes this qubesd knows.
func (c *Client) ClassList(ctx context.Context) ([]qube.Class, error) {
	ls, err := c.lines(ctx, "admin.vmclass.List", "", AdminVM)
	cs := make([]qube.Class, len(ls))
	for i, s := range ls {
		cs[i] = qube.Class(s)
	}
	return cs, err
}

// RunMethod is the host daemon's service that runs a command in a qube. It
// is not an upstream qubesd method; qubesd answers "no such method".
const RunMethod = "admin.vm.Run"

// ErrNotSupported is returned for a call this qubesd does not provide.
var ErrNotSupported = errors.New("not supported by this qubesd")

// Run runs a shell command line in a qube as its default user, through the
// host daemon's RunMethod, and returns once the command was started.
func (c *Client) Run(ctx context.Context, name, command string) error {
	err := c.call0(ctx, RunMethod, "", name, []byte(command))
	var e *Error
	if errors.As(err, &e) && e.Class == "ProtocolError" && strings.HasPrefix(e.Message, "no such method") {
		return fmt.Errorf("running commands in a qube is %w (it has no %s service)", ErrNotSupported, RunMethod)
	}
	return err
}

// LoadQubes lists the qubes and reads all properties of each, with up to
// Workers calls at once, so the manager can show many qubes quickly. When
// some GetAll calls fail (a qube removed meanwhile, a call refused by
// policy), every qube is still returned, those without Props, together with
// a *LoadError naming them.
func (c *Client) LoadQubes(ctx context.Context) ([]qube.Qube, error) {
	qs, err := c.ListQubes(ctx)
	if err != nil {
		return nil, err
	}
	errs := make([]error, len(qs))
	_ = c.each(ctx, len(qs), func(ctx context.Context, i int) error {
		props, err := c.VMProps(qs[i].Name).GetAll(ctx)
		if err != nil {
			errs[i] = err
			return nil
		}
		qs[i].Props = make(map[string]qube.Property, len(props))
		for _, p := range props {
			qs[i].Props[p.Name] = p
		}
		return nil
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	le := &LoadError{}
	for i, err := range errs {
		if err != nil {
			le.Qubes = append(le.Qubes, qs[i].Name)
			le.Errs = append(le.Errs, err)
		}
	}
	if len(le.Qubes) > 0 {
		return qs, le
	}
	return qs, nil
}

// LoadError lists the qubes whose properties could not be read.
type LoadError struct {
	Qubes []string
	Errs  []error
}

func (e *LoadError) Error() string {
	const show = 3
	var parts []string
	for i := range min(show, len(e.Qubes)) {
		parts = append(parts, e.Qubes[i]+": "+e.Errs[i].Error())
	}
	if len(e.Qubes) > show {
		parts = append(parts, fmt.Sprintf("and %d more", len(e.Qubes)-show))
	}
	return fmt.Sprintf("could not read the properties of %d qubes (%s)", len(e.Qubes), strings.Join(parts, "; "))
}

// Unwrap gives errors.Is/As access to each failure.
func (e *LoadError) Unwrap() []error { return e.Errs }

// each runs f for 0..n-1 on at most Workers goroutines and returns the
// first error; after an error no new calls start.
func (c *Client) each(ctx context.Context, n int, f func(ctx context.Context, i int) error) error {
	w := c.Workers
	if w <= 0 {
		w = DefaultWorkers
	}
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for range min(w, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(ctx, i); err != nil {
					once.Do(func() { first = err; cancel() })
				}
			}
		}()
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if first == nil {
		first = parent.Err()
	}
	return first
}
