package hostd

import (
	"context"
	"io"
	"regexp"
	"strings"

	"github.com/qube-desktop/qube-desktop/internal/adminapi"
	"github.com/qube-desktop/qube-desktop/internal/qube"
	"github.com/qube-desktop/qube-desktop/internal/store"
)

// call is one request with its source and destination resolved.
type call struct {
	s    *Server
	req  adminapi.Request
	v    *view
	src  *store.Qube
	dest *store.Qube
	// sub is the part of the method name after a wildcard prefix: the class
	// of admin.vm.Create.<Class>, the device class of admin.vm.device.*.
	sub string
}

type check int

const (
	optional check = iota
	required
	forbidden
)

// method is one Admin API method, with the argument, payload and
// destination rules qubesd's decorators enforce (methods.tsv).
type method struct {
	arg, payload check
	// adminDest: required = dest must be dom0, forbidden = must not be.
	adminDest check
	fn        func(*call) ([]byte, error)
	// stream methods write events until the client leaves.
	stream func(s *Server, ctx context.Context, c *call, w io.Writer) error
}

var methods map[string]method

// prefixed methods take the rest of their name as call.sub.
var prefixed = []string{"admin.vm.CreateInPool.", "admin.vm.Create.", "admin.vm.device."}

func init() {
	methods = map[string]method{
		"admin.Events":   {arg: forbidden, payload: forbidden, stream: (*Server).streamEvents},
		"admin.vm.Stats": {arg: forbidden, payload: forbidden, stream: (*Server).streamStats},

		"admin.vmclass.List":     {arg: forbidden, payload: forbidden, adminDest: required, fn: vmclassList},
		"admin.deviceclass.List": {arg: forbidden, payload: forbidden, adminDest: required, fn: func(*call) ([]byte, error) { return nil, nil }},
		"admin.label.List":       {arg: forbidden, payload: forbidden, adminDest: required, fn: labelList},
		"admin.label.Get":        {arg: required, payload: forbidden, adminDest: required, fn: labelGet},
		"admin.label.Index":      {arg: required, payload: forbidden, adminDest: required, fn: labelIndex},
		"admin.label.Create":     {arg: required, payload: required, adminDest: required, fn: labelCreate},
		"admin.label.Remove":     {arg: required, payload: forbidden, adminDest: required, fn: labelRemove},

		"admin.property.List":       {arg: forbidden, payload: forbidden, adminDest: required, fn: propList},
		"admin.property.GetAll":     {arg: forbidden, payload: forbidden, adminDest: required, fn: propGetAll},
		"admin.property.Get":        {arg: required, payload: forbidden, adminDest: required, fn: propGet},
		"admin.property.GetDefault": {arg: required, payload: forbidden, adminDest: required, fn: propGetDefault},
		"admin.property.Help":       {arg: required, payload: forbidden, adminDest: required, fn: propHelp},
		"admin.property.Set":        {arg: required, adminDest: required, fn: propSet},
		"admin.property.Reset":      {arg: required, payload: forbidden, adminDest: required, fn: propReset},

		"admin.vm.property.List":       {arg: forbidden, payload: forbidden, fn: propList},
		"admin.vm.property.GetAll":     {arg: forbidden, payload: forbidden, fn: propGetAll},
		"admin.vm.property.Get":        {arg: required, payload: forbidden, fn: propGet},
		"admin.vm.property.GetDefault": {arg: required, payload: forbidden, fn: propGetDefault},
		"admin.vm.property.Help":       {arg: required, payload: forbidden, fn: propHelp},
		"admin.vm.property.Set":        {arg: required, fn: propSet},
		"admin.vm.property.Reset":      {arg: required, payload: forbidden, fn: propReset},

		"admin.pool.List":         {arg: forbidden, payload: forbidden, adminDest: required, fn: poolList},
		"admin.pool.ListDrivers":  {arg: forbidden, payload: forbidden, adminDest: required, fn: poolListDrivers},
		"admin.pool.Info":         {arg: required, payload: forbidden, adminDest: required, fn: poolInfo},
		"admin.pool.UsageDetails": {arg: required, payload: forbidden, adminDest: required, fn: poolUsage},
		"admin.pool.volume.List":  {arg: required, payload: forbidden, adminDest: required, fn: poolVolumeList},
		"admin.backup.Info": {arg: required, payload: forbidden, adminDest: required, fn: func(c *call) ([]byte, error) {
			return nil, excf("QubesBackupProfileNotFoundError", "Backup profile does not exist: %s", c.req.Arg)
		}},

		"admin.vm.List":             {arg: forbidden, payload: forbidden, fn: vmList},
		"admin.vm.CurrentState":     {arg: forbidden, payload: forbidden, fn: currentState},
		"admin.vm.CreateDisposable": {fn: createDisposable},
		"admin.vm.Remove":           {arg: forbidden, payload: forbidden, fn: remove},
		"admin.vm.Start":            {arg: forbidden, payload: forbidden, fn: vmStart},
		"admin.vm.Shutdown":         {payload: forbidden, fn: vmShutdown},
		"admin.vm.Kill":             {arg: forbidden, payload: forbidden, fn: vmKill},
		"admin.vm.Pause":            {arg: forbidden, payload: forbidden, fn: vmPause},
		"admin.vm.Unpause":          {arg: forbidden, payload: forbidden, fn: vmUnpause},
		adminapi.RunMethod:          {arg: forbidden, payload: required, adminDest: forbidden, fn: vmRun},

		"admin.vm.feature.List":                        {arg: forbidden, payload: forbidden, fn: featureList},
		"admin.vm.feature.Get":                         {arg: required, payload: forbidden, fn: featureGet},
		"admin.vm.feature.Set":                         {arg: required, fn: featureSet},
		"admin.vm.feature.Remove":                      {arg: required, payload: forbidden, fn: featureRemove},
		"admin.vm.feature.CheckWithTemplate":           {arg: required, payload: forbidden, fn: featureCheck(true, false, false)},
		"admin.vm.feature.CheckWithNetvm":              {arg: required, payload: forbidden, fn: featureCheck(false, true, false)},
		"admin.vm.feature.CheckWithAdminVM":            {arg: required, payload: forbidden, fn: featureCheck(false, false, true)},
		"admin.vm.feature.CheckWithTemplateAndAdminVM": {arg: required, payload: forbidden, fn: featureCheck(true, false, true)},

		"admin.vm.tag.List":   {arg: forbidden, payload: forbidden, fn: tagList},
		"admin.vm.tag.Get":    {arg: required, payload: forbidden, fn: tagGet},
		"admin.vm.tag.Set":    {arg: required, payload: forbidden, fn: tagSet},
		"admin.vm.tag.Remove": {arg: required, payload: forbidden, fn: tagRemove},

		"admin.vm.notes.Get":       {arg: forbidden, payload: forbidden, adminDest: forbidden, fn: notesGet},
		"admin.vm.notes.Set":       {arg: forbidden, payload: optional, adminDest: forbidden, fn: notesSet},
		"admin.vm.firewall.Get":    {arg: forbidden, payload: forbidden, adminDest: forbidden, fn: func(*call) ([]byte, error) { return []byte("action=accept\n"), nil }},
		"admin.vm.firewall.Set":    {arg: forbidden, payload: required, adminDest: forbidden, fn: firewallUnsupported},
		"admin.vm.firewall.Reload": {arg: forbidden, payload: forbidden, adminDest: forbidden, fn: firewallUnsupported},

		"admin.vm.volume.List":          {arg: forbidden, payload: forbidden, fn: volumeList},
		"admin.vm.volume.Info":          {arg: required, payload: forbidden, fn: volumeInfo},
		"admin.vm.volume.ListSnapshots": {arg: required, payload: forbidden, fn: volumeSnapshots},
		"admin.vm.volume.CloneFrom":     {arg: required, payload: forbidden, fn: volumeCloneFrom},
		"admin.vm.volume.CloneTo":       {arg: required, payload: required, fn: volumeCloneTo},

		// Creation and devices are matched by prefix (see prefixed).
		"admin.vm.Create.":       {payload: optional, adminDest: required, fn: create(false)},
		"admin.vm.CreateInPool.": {payload: optional, adminDest: required, fn: create(true)},
		"admin.vm.device.":       {payload: forbidden, fn: deviceList},
	}
}

// deviceMethod matches the read-only device calls; sandbox qubes have no
// devices to list.
var deviceMethod = regexp.MustCompile(`^[a-z]+\.(Available|Assigned|Attached)$`)

// handle answers one parsed request.
func (s *Server) handle(ctx context.Context, req adminapi.Request, w io.Writer) error {
	c, m, err := s.resolve(req)
	if err != nil {
		return adminapi.Answer(w, nil, err)
	}
	if m.stream != nil {
		return m.stream(s, ctx, c, w)
	}
	body, err := m.fn(c)
	if _, ok := err.(noAnswer); ok {
		s.log.Printf("%s from %s to %s: %v (connection dropped)", req.Call(), req.Source, req.Dest, err)
	}
	return adminapi.Answer(w, body, err)
}

func (s *Server) resolve(req adminapi.Request) (*call, method, error) {
	c := &call{s: s, req: req, v: s.view()}
	if err := req.CheckNames(); err != nil {
		return nil, method{}, err
	}
	var err error
	if c.src, err = c.lookup(req.Source); err != nil {
		return nil, method{}, err
	}
	if c.dest, err = c.lookup(req.Dest); err != nil {
		return nil, method{}, err
	}
	m, ok := methods[req.Method]
	if !ok {
		for _, p := range prefixed {
			if rest, found := strings.CutPrefix(req.Method, p); found && rest != "" {
				m, ok, c.sub = methods[p], true, rest
				break
			}
		}
		if ok && c.sub != "" && strings.HasPrefix(req.Method, "admin.vm.device.") && !deviceMethod.MatchString(c.sub) {
			ok = false
		}
		if ok && strings.HasPrefix(req.Method, "admin.vm.Create") && !qube.Class(c.sub).Known() {
			ok = false
		}
	}
	if !ok {
		return nil, method{}, excf("ProtocolError", "no such method: %s", pyRepr(req.Method))
	}
	switch {
	case m.arg == forbidden && req.Arg != "":
		return nil, m, excf("ProtocolError", "unexpected argument")
	case m.arg == required && req.Arg == "":
		return nil, m, excf("ProtocolError", "expected an argument")
	case m.payload == forbidden && len(req.Payload) > 0:
		return nil, m, excf("ProtocolError", "unexpected payload")
	case m.payload == required && len(req.Payload) == 0:
		return nil, m, excf("ProtocolError", "expected payload")
	case m.adminDest == required && c.dest.Name != store.AdminVM:
		return nil, m, excf("ProtocolError", "this method is only for the AdminVM (dest dom0)")
	case m.adminDest == forbidden && c.dest.Name == store.AdminVM:
		return nil, m, excf("ProtocolError", "this method is not for the AdminVM")
	}
	return c, m, nil
}

// lookup resolves a source or destination already checked by CheckNames:
// a name or uuid:<uuid>.
func (c *call) lookup(tok string) (*store.Qube, error) {
	if u, ok := strings.CutPrefix(tok, "uuid:"); ok {
		for _, q := range c.v.c.Qubes {
			if strings.EqualFold(q.UUID, u) {
				return q, nil
			}
		}
		return nil, notFound(tok)
	}
	q := c.v.c.Qubes[tok]
	if q == nil {
		return nil, notFound(tok)
	}
	return q, nil
}
