package hostd

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/qube-desktop/qube-desktop/internal/qube"
	"github.com/qube-desktop/qube-desktop/internal/store"
)

// create is admin.vm.Create.<Class>[+template] and CreateInPool, payload
// "name=<name> label=<label>" (CreateInPool adds pool= or pool:<vol>=).
// There is only one pool in hostd; pool arguments are checked and ignored.
func create(inPool bool) func(*call) ([]byte, error) {
	return func(c *call) ([]byte, error) {
		class := qube.Class(c.sub)
		if class == qube.AdminVM || class == qube.RemoteVM {
			return nil, excf("ProtocolError", "Cannot create a %s with qube-hostd", class)
		}
		args, err := splitPayloadArgs(c.req.Payload)
		if err != nil {
			return nil, err
		}
		pool, pools := false, false
		for k := range args {
			switch {
			case k == "name" || k == "label":
			case k == "pool":
				pool = true
			case strings.HasPrefix(k, "pool:"):
				pools = true
			default:
				return nil, excf("ProtocolError", "Invalid param name %s", pyRepr(k))
			}
		}
		switch {
		case (pool || pools) && !inPool:
			return nil, excf("ProtocolError", "Pool option specified but 'allow_pool' is False")
		case pool && pools:
			return nil, excf("ProtocolError", "Only one of 'pool=' and 'pool:volume=' can be used")
		}
		// An unknown label reads as a missing one, as in qubesd [observed 103].
		if _, ok := c.v.c.Label(args["label"]); !ok {
			return nil, excf("ProtocolError", "Creation requested without key: label")
		}
		if args["name"] == "" {
			return nil, excf("ProtocolError", "Creation requested without key: name")
		}
		template := c.req.Arg
		if class.NeedsTemplate() {
			if template == "" {
				template, _ = c.v.globalValue("default_template")
			}
			if template == "" {
				return nil, excf("QubesNoTemplateError", "No template given and no default_template set")
			}
			t := c.v.c.Qubes[template]
			if t == nil {
				return nil, notFound(template)
			}
			if class == qube.AppVM && t.Class != string(qube.TemplateVM) {
				return nil, excf("QubesValueError", "Qube %s is not a TemplateVM", template)
			}
			if class == qube.DispVM {
				if on, _ := c.v.value(t, "template_for_dispvms"); on != "True" {
					return nil, excf("QubesValueError", "Qube %s is not a disposable template (template_for_dispvms=False)", template)
				}
			}
		} else if template != "" {
			return nil, excf("ProtocolError", "%s takes no template argument", class)
		}
		name := args["name"]
		if err := qube.ValidateName(name); err != nil {
			return nil, excf("QubesValueError", "%s", err.(*qube.NameError).Reason)
		}
		props := map[string]string{"label": args["label"]}
		if class.NeedsTemplate() {
			props["template"] = template
		}
		if class == qube.DispVM {
			props["auto_cleanup"] = "True"
		}
		tag := "created-by-" + c.src.Name
		if err := c.s.add(name, class, props, tag); err != nil {
			return nil, err
		}
		return nil, nil
	}
}

// add stores a new qube, makes its home and sends the creation events.
func (s *Server) add(name string, class qube.Class, props map[string]string, tag string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if class != qube.DispVM {
		if err := s.makeHome(name); err != nil {
			return err
		}
	}
	err := s.st.Update(func(col *store.Collection) error {
		if col.Qubes[name] != nil {
			return excf("QubesVMAlreadyExistsError", "Qube already exists: %s", name)
		}
		col.Qubes[name] = &store.Qube{Name: name, Class: string(class), UUID: store.NewUUID(),
			QID: col.NextQID(), Props: props, Tags: []string{tag}}
		return nil
	})
	if err != nil {
		return err
	}
	s.events.emit("", "domain-add", "vm", name)
	s.events.emit(name, "domain-tag-add:"+tag, "tag", tag)
	s.events.emit(name, "domain-create-on-disk")
	return nil
}

// createDisposable makes a DispVM from the destination (a disposable
// template) or, with dest dom0, from the caller's default_dispvm. It
// returns the new name, or uuid:<uuid> when the payload is "uuid".
func createDisposable(c *call) ([]byte, error) {
	if c.req.Arg != "" {
		return nil, excf("ProtocolError", "Preloaded disposables are not supported by qube-hostd")
	}
	if p := string(c.req.Payload); p != "" && p != "uuid" {
		return nil, excf("ProtocolError", "Invalid payload %s", pyRepr(p))
	}
	dvm := c.dest
	if dvm.Name == store.AdminVM {
		n, _ := c.v.value(c.src, "default_dispvm")
		if dvm = c.v.c.Qubes[n]; dvm == nil {
			return nil, excf("QubesException", "No default disposable template (default_dispvm) for %s", c.src.Name)
		}
	}
	if on, _ := c.v.value(dvm, "template_for_dispvms"); on != "True" {
		return nil, excf("QubesException", "Refusing to create disposable out of app qube which has template_for_dispvms=False")
	}
	label, _ := c.v.value(dvm, "label")
	var name string
	for {
		name = fmt.Sprintf("disp%d", 1+rand.IntN(9999))
		if c.s.st.View().Qubes[name] == nil {
			break
		}
	}
	tag := "disp-created-by-" + c.src.Name
	if err := c.s.add(name, qube.DispVM, map[string]string{"label": label, "template": dvm.Name, "auto_cleanup": "True"}, tag); err != nil {
		return nil, err
	}
	if string(c.req.Payload) == "uuid" {
		return []byte("uuid:" + c.s.st.View().Qubes[name].UUID), nil
	}
	return []byte(name), nil
}

func remove(c *call) ([]byte, error) {
	return nil, c.s.remove(c.dest.Name)
}

func (s *Server) remove(name string) error {
	if name == store.AdminVM {
		return excf("QubesVMInUseError", "'dom0' cannot be removed")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.state(name); st != qube.Halted {
		return excf("QubesVMNotHaltedError", "Domain is not powered off: %s", pyRepr(name))
	}
	s.events.emit("", "domain-pre-delete", "vm", name)
	v := s.view()
	if q := v.c.Qubes[name]; q == nil {
		return notFound(name)
	}
	if users := v.users(name); len(users) > 0 {
		s.log.Printf("refusing to remove %s: used by %s", name, strings.Join(users, ", "))
		return excf("QubesVMInUseError", "Domain is in use: %s; see qube-hostd's log for details", pyRepr(name))
	}
	err := s.st.Update(func(col *store.Collection) error {
		delete(col.Qubes, name)
		return nil
	})
	if err != nil {
		return err
	}
	if err := os.RemoveAll(s.qubeDir(name)); err != nil {
		s.log.Printf("remove files of %s: %v", name, err)
	}
	s.usage.forget(name)
	s.events.emit("", "domain-delete", "vm", name)
	return nil
}

// makeHome creates a qube's home. The directories above it are 0711 so a
// sandbox driver running bwrap as an unprivileged user can reach the home
// it hands to that user, without being able to list other qubes.
func (s *Server) makeHome(name string) error {
	for _, d := range []string{filepath.Dir(s.qubeDir(name)), s.qubeDir(name)} {
		if err := os.Mkdir(d, 0o711); err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("create directory of %s: %w", name, err)
		}
	}
	if err := os.Mkdir(s.homeDir(name), 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("create home of %s: %w", name, err)
	}
	return nil
}
