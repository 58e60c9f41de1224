package hostd

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/qube-desktop/qube-desktop/internal/qube"
	"github.com/qube-desktop/qube-desktop/internal/store"
)

// propDef describes one property: its wire type, its default and how a new
// value is checked. Values are kept as their wire strings: "True"/"False",
// decimal integers, a qube name ("" for None), a label name.
type propDef struct {
	name string
	typ  string // str, int, bool, vm, label
	help string
	// def returns the default value; ok false means "no default".
	def func(v *view, q *store.Qube) (val string, ok bool)
	// readOnly properties cannot be set; qubesd drops the connection.
	readOnly bool
	// positive ints must be > 0.
	positive bool
	// check validates a parsed value against the collection.
	check func(v *view, q *store.Qube, val string) error
	// haltedOnly properties can only change while the qube is halted.
	haltedOnly bool
}

// view is a snapshot of the collection plus the daemon's global defaults.
type view struct {
	c *store.Collection
	s *Server
}

func constant(val string) func(*view, *store.Qube) (string, bool) {
	return func(*view, *store.Qube) (string, bool) { return val, true }
}

func noDefault(*view, *store.Qube) (string, bool) { return "", false }

func global(name string) func(*view, *store.Qube) (string, bool) {
	return func(v *view, _ *store.Qube) (string, bool) { return v.globalValue(name) }
}

// fromTemplate defaults to the template's value, then to fallback.
func fromTemplate(name, fallback string) func(*view, *store.Qube) (string, bool) {
	return func(v *view, q *store.Qube) (string, bool) {
		if t := v.c.Qubes[q.Props["template"]]; t != nil && t != q {
			return v.value(t, name)
		}
		return fallback, true
	}
}

func isTemplateBased(q *store.Qube) bool { return qube.Class(q.Class).NeedsTemplate() }

// vmProps lists qube properties in qubesd's order: alphabetical, then the
// qube-reference group, as admin.vm.property.List returns them [observed 202].
func vmProps(q *store.Qube) []*propDef {
	if q.Class == string(qube.AdminVM) {
		return adminVMProps
	}
	var out []*propDef
	for _, p := range allVMProps {
		switch p.name {
		case "template":
			if !isTemplateBased(q) {
				continue
			}
		case "template_for_dispvms":
			if q.Class == string(qube.TemplateVM) {
				continue
			}
		case "appvm_default_bootmode":
			if q.Class != string(qube.TemplateVM) {
				continue
			}
		case "auto_cleanup", "is_preload":
			if q.Class != string(qube.DispVM) {
				continue
			}
		}
		out = append(out, p)
	}
	return out
}

func findProp(list []*propDef, name string) *propDef {
	for _, p := range list {
		if p.name == name {
			return p
		}
	}
	return nil
}

var allVMProps, adminVMProps, globalProps []*propDef

func init() {
	initVMProps()
	initAdminVMProps()
	initGlobalProps()
}

var (
	pLabel = &propDef{name: "label", typ: "label", def: noDefault,
		help: "Colourful label assigned to VM. This is where the colour of the padlock is set."}
	pName = &propDef{name: "name", typ: "str", readOnly: true, def: noDefault, help: "User-assigned name of the domain."}
)

func initVMProps() {
	allVMProps = []*propDef{
		{name: "auto_cleanup", typ: "bool", def: constant("False"), help: "Automatically remove this VM upon shutdown."},
		{name: "autostart", typ: "bool", def: constant("False"), help: "Setting this to True means that VM should be autostarted on qube-hostd start."},
		{name: "backup_timestamp", typ: "int", def: noDefault, help: "Time of last backup of the qube, in seconds since unix epoch."},
		{name: "debug", typ: "bool", def: constant("False"), help: "Turns on debugging features."},
		{name: "default_user", typ: "str", def: fromTemplate("default_user", "user"), help: "Default user used by qvm-run. Note that it make no difference on Windows HVM."},
		{name: "devices_denied", typ: "str", def: constant(""), help: "List of device interface codes denied to this VM."},
		{name: "dns", typ: "str", readOnly: true, def: constant(""), help: "DNS servers set up for this domain."},
		{name: "gateway", typ: "str", readOnly: true, def: constant(""), help: "Gateway for other domains that use this domain as netvm."},
		{name: "gateway6", typ: "str", readOnly: true, def: constant(""), help: "Gateway (IPv6) for other domains that use this domain as netvm."},
		{name: "icon", typ: "str", readOnly: true, def: iconDefault, help: "Icon name of the qube, <class>-<label>."},
		{name: "include_in_backups", typ: "bool", def: constant("True"), help: "If this domain is to be included in default backup."},
		{name: "installed_by_rpm", typ: "bool", def: constant("False"), help: "If this domain's image was installed from package tracked by package manager."},
		{name: "ip", typ: "str", def: constant(""), help: "IP address of this domain."},
		{name: "ip6", typ: "str", def: constant(""), help: "IPv6 address of this domain."},
		{name: "is_preload", typ: "bool", readOnly: true, def: constant("False"), help: "Whether this disposable was preloaded."},
		{name: "kernel", typ: "str", def: global("default_kernel"), help: "Kernel used by this domain (unused by sandbox qubes)."},
		{name: "keyboard_layout", typ: "str", def: constant("us++"), help: "Keyboard layout for this VM."},
		{name: "klass", typ: "str", readOnly: true, def: func(_ *view, q *store.Qube) (string, bool) { return q.Class, true }, help: "Class of the qube."},
		pLabel,
		{name: "mac", typ: "str", def: constant("00:16:3e:5e:6c:00"), help: "MAC address of the NIC emulated inside VM."},
		{name: "maxmem", typ: "int", positive: true, def: fromTemplate("maxmem", "4000"), help: "Maximum amount of memory available for this VM (for the purpose of the memory balancer)."},
		{name: "memory", typ: "int", positive: true, def: fromTemplate("memory", "400"), help: "Memory currently available for this VM. TemplateBasedVMs use its template's value by default."},
		pName,
		{name: "provides_network", typ: "bool", def: constant("False"), help: "If this domain can act as network provider (formerly known as NetVM or ServiceVM)."},
		{name: "qid", typ: "int", readOnly: true, def: noDefault, help: "Internal, persistent identificator of particular domain."},
		{name: "qrexec_timeout", typ: "int", positive: true, def: global("default_qrexec_timeout"), help: "Time in seconds after which qrexec connection attempt is deemed failed."},
		{name: "shutdown_timeout", typ: "int", positive: true, def: global("default_shutdown_timeout"), help: "Time in seconds for shutdown of the VM, after which it is killed."},
		{name: "start_time", typ: "str", readOnly: true, def: constant(""), help: "Tell when machine was started."},
		{name: "stubdom_mem", typ: "int", readOnly: true, def: noDefault, help: "Memory amount allocated for the stubdom."},
		{name: "stubdom_uuid", typ: "str", readOnly: true, def: constant(""), help: "Stubdomain UUID."},
		{name: "stubdom_xid", typ: "int", readOnly: true, def: constant("-1"), help: "Stubdomain Xen ID."},
		{name: "template_for_dispvms", typ: "bool", def: constant("False"), help: "Should this VM be allowed to start as Disposable VM."},
		{name: "updateable", typ: "bool", readOnly: true, def: func(_ *view, q *store.Qube) (string, bool) {
			return pyBool(!isTemplateBased(q)), true
		}, help: "True if this machine may be updated on its own."},
		{name: "uuid", typ: "str", readOnly: true, def: noDefault, help: "UUID from libvirt."},
		{name: "vcpus", typ: "int", positive: true, def: constant("2"), help: "Number of virtual CPUs for a qube."},
		{name: "virt_mode", typ: "str", def: constant("pvh"), help: "Virtualisation mode: full virtualisation (\"HVM\"), or paravirtualisation (\"PV\"), or hybrid (\"PVH\")."},
		{name: "visible_gateway", typ: "str", readOnly: true, def: constant(""), help: "Default gateway of this domain as seen by the domain."},
		{name: "visible_gateway6", typ: "str", readOnly: true, def: constant(""), help: "Default (IPv6) gateway of this domain as seen by the domain."},
		{name: "visible_ip", typ: "str", readOnly: true, def: constant(""), help: "IP address of this domain as seen by the domain."},
		{name: "visible_ip6", typ: "str", readOnly: true, def: constant(""), help: "IPv6 address of this domain as seen by the domain."},
		{name: "visible_netmask", typ: "str", readOnly: true, def: constant(""), help: "Netmask as seen by the domain."},
		{name: "xid", typ: "int", readOnly: true, def: constant("-1"), help: "Xen ID."},
		{name: "appvm_default_bootmode", typ: "str", def: constant("default"), help: "Default bootmode for AppVMs based on this template."},
		{name: "audiovm", typ: "vm", def: global("default_audiovm"), help: "VM used for Audio."},
		{name: "bootmode", typ: "str", def: constant("default"), help: "Bootmode of the qube."},
		{name: "default_dispvm", typ: "vm", def: global("default_dispvm"), check: checkDispVMTemplate,
			help: "Default VM to be used as Disposable VM for service calls."},
		{name: "guivm", typ: "vm", def: global("default_guivm"), help: "VM used for GUI."},
		{name: "kernelopts", typ: "str", def: constant("swiotlb=2048"), help: "Kernel command line passed to domain."},
		{name: "management_dispvm", typ: "vm", def: global("management_dispvm"), help: "Default DVM template for Disposable VMs for managing this VM."},
		{name: "netvm", typ: "vm", def: global("default_netvm"), check: checkNetVM,
			help: "VM that provides network connection to this domain. When None, machine is disconnected. For sandbox qubes any netvm means the host's network; see docs/qube-hostd.md."},
		{name: "template", typ: "vm", haltedOnly: true, def: noDefault, check: checkTemplate,
			help: "Template, on which this domain is based."},
	}
}

func initAdminVMProps() {
	adminVMProps = []*propDef{
		findProp(allVMProps, "devices_denied"),
		findProp(allVMProps, "icon"),
		findProp(allVMProps, "include_in_backups"),
		findProp(allVMProps, "keyboard_layout"),
		findProp(allVMProps, "klass"),
		pLabel,
		{name: "maxmem", typ: "int", readOnly: true, def: constant("4096"), help: "Memory available to dom0."},
		{name: "name", typ: "str", readOnly: true, def: constant(store.AdminVM), help: pName.help},
		{name: "qid", typ: "int", readOnly: true, def: constant("0"), help: "Internal, persistent identifier of particular domain."},
		{name: "updateable", typ: "bool", readOnly: true, def: constant("True"), help: "True if this machine may be updated on its own."},
		{name: "uuid", typ: "str", readOnly: true, def: constant("00000000-0000-0000-0000-000000000000"), help: "UUID of dom0."},
		findProp(allVMProps, "default_dispvm"),
	}
}

func initGlobalProps() {
	globalProps = []*propDef{
		{name: "check_updates_vm", typ: "bool", def: constant("True"), help: "Check for updates inside qubes."},
		{name: "clockvm", typ: "vm", def: constant(""), help: "Which VM to use as NTP proxy for updating AdminVM."},
		{name: "default_audiovm", typ: "vm", def: constant(store.AdminVM), help: "Default AudioVM for VMs."},
		{name: "default_dispvm", typ: "vm", def: constant(""), check: checkDispVMTemplate, help: "Default DispVM base for service calls."},
		{name: "default_guivm", typ: "vm", def: constant(store.AdminVM), help: "Default GuiVM for VMs."},
		{name: "default_kernel", typ: "str", def: constant(""), help: "Which kernel to use when not overriden in VM."},
		{name: "default_netvm", typ: "vm", def: constant(""), check: checkNetVM, help: "Default NetVM for AppVMs. Initial state is None, which means that AppVMs are not connected to the Internet."},
		{name: "default_pool", typ: "str", def: constant(poolName), help: "Default storage pool."},
		{name: "default_pool_kernel", typ: "str", def: constant(poolName), help: "Default storage pool for kernel volumes."},
		{name: "default_pool_private", typ: "str", def: constant(poolName), help: "Default storage pool for private volumes."},
		{name: "default_pool_root", typ: "str", def: constant(poolName), help: "Default storage pool for root volumes."},
		{name: "default_pool_volatile", typ: "str", def: constant(poolName), help: "Default storage pool for volatile volumes."},
		{name: "default_qrexec_timeout", typ: "int", positive: true, def: constant("60"), help: "Default time in seconds after which qrexec connection attempt is deemed failed."},
		{name: "default_shutdown_timeout", typ: "int", positive: true, def: constant("60"), help: "Default time in seconds for VM shutdown to complete."},
		{name: "default_template", typ: "vm", def: constant(""), check: checkTemplate, help: "Default template for new AppVMs."},
		{name: "management_dispvm", typ: "vm", def: constant(""), check: checkDispVMTemplate, help: "Default DVM template for management tasks."},
		{name: "maxmem", typ: "int", readOnly: true, def: hostMemMiB, help: "Maximum memory the host offers, in MiB."},
		{name: "no_cpus", typ: "int", readOnly: true, def: hostCPUs, help: "Number of CPUs of the host."},
		{name: "stats_interval", typ: "int", positive: true, def: constant("3"), help: "Interval in seconds for VM stats reporting (memory, CPU usage)."},
		{name: "updatevm", typ: "vm", def: constant(""), help: "Which VM to use as `yum` proxy for updating AdminVM and TemplateVMs."},
	}
}

func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

func iconDefault(v *view, q *store.Qube) (string, bool) {
	label, _ := v.value(q, "label")
	return strings.ToLower(q.Class) + "-" + label, true
}

// value returns a qube property's effective value and whether one exists.
func (v *view) value(q *store.Qube, name string) (string, bool) {
	if val, ok := q.Props[name]; ok {
		return val, true
	}
	p := findProp(vmProps(q), name)
	if p == nil {
		return "", false
	}
	return p.def(v, q)
}

func (v *view) globalValue(name string) (string, bool) {
	if val, ok := v.c.Global[name]; ok {
		return val, true
	}
	if p := findProp(globalProps, name); p != nil {
		return p.def(v, nil)
	}
	return "", false
}

// parseValue turns a Set payload into the stored wire string, with
// qubesd's errors [observed 211, 212, 213, 214, 226].
func (v *view) parseValue(p *propDef, q *store.Qube, raw []byte) (string, error) {
	for _, c := range raw {
		if c < 0x20 || c > 0x7e {
			return "", excf("QubesValueError", "Property value must be printable ASCII")
		}
	}
	s := string(raw)
	switch p.typ {
	case "bool":
		switch strings.ToLower(s) {
		case "1", "yes", "true", "on":
			s = "True"
		case "0", "no", "false", "off", "":
			s = "False"
		default:
			return "", excf("QubesValueError", "Invalid literal for boolean property: %s", pyRepr(s))
		}
	case "int":
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return "", excf("QubesValueError", "Failed to parse property value as int")
		}
		if p.positive && n <= 0 {
			return "", excf("QubesPropertyValueError", "%s must be positive", p.name)
		}
		s = strconv.FormatInt(n, 10)
	case "label":
		if _, ok := v.c.Label(s); !ok {
			return "", excf("QubesLabelNotFoundError", "Label does not exist: %s", s)
		}
	case "vm":
		if s != "" && v.c.Qubes[s] == nil {
			return "", excf("QubesPropertyValueError", "Can't set %s to non-existing qube %s", p.name, s)
		}
	}
	if p.check != nil {
		if err := p.check(v, q, s); err != nil {
			return "", err
		}
	}
	return s, nil
}

func checkTemplate(v *view, _ *store.Qube, val string) error {
	if val == "" {
		return nil
	}
	if t := v.c.Qubes[val]; t.Class != string(qube.TemplateVM) {
		return excf("QubesPropertyValueError", "Qube %s is not a TemplateVM", val)
	}
	return nil
}

func checkNetVM(v *view, q *store.Qube, val string) error {
	if val == "" {
		return nil
	}
	if q != nil && val == q.Name {
		return excf("QubesPropertyValueError", "Loops in network are unsupported")
	}
	if on, _ := v.value(v.c.Qubes[val], "provides_network"); on != "True" {
		return excf("QubesPropertyValueError", "VM %s does not provide network (provides_network=False)", val)
	}
	return nil
}

func checkDispVMTemplate(v *view, q *store.Qube, val string) error {
	if val == "" {
		return nil
	}
	if on, _ := v.value(v.c.Qubes[val], "template_for_dispvms"); on != "True" {
		who := "global"
		if q != nil {
			who = "qube " + pyRepr(q.Name)
		}
		return excf("QubesPropertyValueError",
			"Cannot set invalid property to %s, default_dispvm %s has template_for_dispvms set to False", who, pyRepr(val))
	}
	return nil
}

// pyRepr quotes like Python's repr of a plain string.
func pyRepr(s string) string {
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		return `"` + s + `"`
	}
	return "'" + strings.ReplaceAll(s, "'", `\'`) + "'"
}

// users lists who refers to qube name (templates, netvm, default_dispvm,
// global properties), the reasons Remove refuses.
func (v *view) users(name string) []string {
	var out []string
	for _, p := range globalProps {
		if p.typ == "vm" {
			if val, _ := v.globalValue(p.name); val == name {
				out = append(out, "global "+p.name)
			}
		}
	}
	for _, q := range v.c.Qubes {
		if q.Name == name {
			continue
		}
		for _, p := range vmProps(q) {
			if p.typ == "vm" {
				if val, _ := v.value(q, p.name); val == name && name != store.AdminVM {
					out = append(out, fmt.Sprintf("%s.%s", q.Name, p.name))
				}
			}
		}
	}
	slices.Sort(out)
	return out
}
