package adminapi_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/qube-desktop/qube-desktop/internal/adminapi"
	"github.com/qube-desktop/qube-desktop/internal/adminapi/adminapitest"
	"github.com/qube-desktop/qube-desktop/internal/qube"
)

// A conformance case makes one call whose request must equal the recorded
// bytes, and checks the decoded answer. Exceptions and empty answers are
// checked against the recording's own decoding; is adds an errors.Is check.
type ccase struct {
	call  func(ctx context.Context, c *adminapi.Client) (any, error)
	want  any // a value compared with reflect.DeepEqual, or a func(t, value)
	is    error
	src   string // the source token, "dom0" by default
	local bool   // the client refuses the call itself; nothing is sent
}

type check = func(t *testing.T, v any)

func prop(name string, typ qube.PropType, def bool, val string) qube.Property {
	return qube.Property{Name: name, Type: typ, Default: def, Value: val}
}

func none(err error) (any, error) { return nil, err }

func raw(method, arg, dest, payload string) func(context.Context, *adminapi.Client) (any, error) {
	return func(ctx context.Context, c *adminapi.Client) (any, error) {
		b, err := c.Call(ctx, method, arg, dest, []byte(payload))
		return string(b), err
	}
}

func vmProps(name string) func(c *adminapi.Client) adminapi.Props {
	return func(c *adminapi.Client) adminapi.Props { return c.VMProps(name) }
}

var work = vmProps("work")

// propsHave checks some properties of a GetAll answer, and its length.
func propsHave(n int, want ...qube.Property) check {
	return func(t *testing.T, v any) {
		ps := v.([]qube.Property)
		if len(ps) != n {
			t.Errorf("got %d properties, want %d", len(ps), n)
		}
		m := map[string]qube.Property{}
		for _, p := range ps {
			m[p.Name] = p
		}
		for _, w := range want {
			if m[w.Name] != w {
				t.Errorf("property %s = %+v, want %+v", w.Name, m[w.Name], w)
			}
		}
	}
}

func names(want ...string) check {
	return func(t *testing.T, v any) {
		var got []string
		for _, q := range v.([]qube.Qube) {
			got = append(got, string(q.Name)+"/"+string(q.Class)+"/"+string(q.State))
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("qubes %v, want %v", got, want)
		}
	}
}

func contains(sub string) check {
	return func(t *testing.T, v any) {
		if !strings.Contains(v.(string), sub) {
			t.Errorf("%q does not contain %q", v, sub)
		}
	}
}

var dom0 = qube.Qube{Name: "dom0", Class: qube.AdminVM, State: qube.Running, UUID: "00000000-0000-0000-0000-000000000000"}

var cases = map[string]ccase{
	"001-no-such-method": {call: raw("admin.vm.NoSuchMethod", "", "dom0", ""), is: adminapi.ErrProtocol},
	"002-dest-keyword-adminvm": {call: func(ctx context.Context, c *adminapi.Client) (any, error) {
		b, err := c.Do(ctx, adminapi.Request{Method: "admin.vm.List", Source: "dom0", DestType: "keyword", Dest: "adminvm"})
		if err != nil {
			return nil, err
		}
		return adminapi.ParseVMList(b)
	}, want: []qube.Qube{dom0}},
	"003-unexpected-argument":   {call: raw("admin.vm.List", "foo", "dom0", ""), is: adminapi.ErrProtocol},
	"010-admin.vm.List-initial": {call: func(ctx context.Context, c *adminapi.Client) (any, error) { return c.ListQubes(ctx) }, want: []qube.Qube{dom0}},
	"011-admin.label.List": {call: func(ctx context.Context, c *adminapi.Client) (any, error) { return c.LabelList(ctx) },
		want: []string{"red", "orange", "yellow", "green", "gray", "blue", "purple", "black"}},
	"012-admin.label.Get-red":     {call: func(ctx context.Context, c *adminapi.Client) (any, error) { return c.LabelGet(ctx, "red") }, want: uint32(0xcc0000)},
	"013-admin.label.Index-red":   {call: func(ctx context.Context, c *adminapi.Client) (any, error) { return c.LabelIndex(ctx, "red") }, want: 1},
	"014-admin.label.Get-missing": {call: func(ctx context.Context, c *adminapi.Client) (any, error) { return c.LabelGet(ctx, "pink") }, is: adminapi.ErrLabelNotFound},
	"015-admin.property.List": {call: func(ctx context.Context, c *adminapi.Client) (any, error) { return c.GlobalProps().List(ctx) },
		want: strings.Fields("check_updates_vm clockvm default_audiovm default_dispvm default_guivm default_kernel default_netvm default_pool default_pool_kernel default_pool_private default_pool_root default_pool_volatile default_qrexec_timeout default_shutdown_timeout default_template management_dispvm maxmem no_cpus stats_interval updatevm")},
	"016-admin.property.GetAll-before-kernel": {call: func(ctx context.Context, c *adminapi.Client) (any, error) { return c.GlobalProps().GetAll(ctx) },
		want: propsHave(20, prop("check_updates_vm", "bool", true, "True"), prop("clockvm", "vm", true, ""),
			prop("default_pool_kernel", "str", false, "linux-kernel"), prop("stats_interval", "int", true, "3"), prop("updatevm", "vm", true, ""))},
	"017-admin.property.Set-default_kernel": {call: func(ctx context.Context, c *adminapi.Client) (any, error) {
		return none(c.GlobalProps().Set(ctx, "default_kernel", "6.12.40-1.fc41"))
	}},
	"018-admin.property.Get-default_kernel": {call: func(ctx context.Context, c *adminapi.Client) (any, error) {
		return c.GlobalProps().Get(ctx, "default_kernel")
	},
		want: prop("default_kernel", "str", false, "6.12.40-1.fc41")},
	"019-admin.property.Help-default_netvm": {call: func(ctx context.Context, c *adminapi.Client) (any, error) {
		return c.GlobalProps().Help(ctx, "default_netvm")
	},
		want: "Default NetVM for AppVMs. Initial state is None, which means that AppVMs are not connected to the Internet."},
	"020-admin.vm.property.GetAll-dom0": {call: func(ctx context.Context, c *adminapi.Client) (any, error) { return c.VMProps("dom0").GetAll(ctx) },
		want: func(t *testing.T, v any) {
			propsHave(len(v.([]qube.Property)), prop("icon", "str", true, "adminvm-black"), prop("include_in_backups", "bool", true, "True"))(t, v)
		}},
	"021-admin.pool.List":        {call: func(ctx context.Context, c *adminapi.Client) (any, error) { return c.PoolList(ctx) }, want: []string{"varlibqubes", "linux-kernel"}},
	"022-admin.pool.ListDrivers": {call: raw("admin.pool.ListDrivers", "", "dom0", ""), want: contains("\nlinux-kernel dir_path\n")},
	"023-admin.pool.Info-varlibqubes": {call: func(ctx context.Context, c *adminapi.Client) (any, error) { return c.PoolInfo(ctx, "varlibqubes") },
		want: func(t *testing.T, v any) {
			kv := v.(adminapi.KV)
			if d, _ := kv.Get("driver"); d != "file" || len(kv) != 7 {
				t.Errorf("pool info %v", kv)
			}
		}},
	"024-admin.pool.UsageDetails-varlibqubes": {call: raw("admin.pool.UsageDetails", "varlibqubes", "dom0", ""), want: contains("data_usage=")},
	"025-admin.vmclass.List": {call: func(ctx context.Context, c *adminapi.Client) (any, error) { return c.ClassList(ctx) },
		want: []qube.Class{qube.AdminVM, qube.AppVM, qube.DispVM, qube.RemoteVM, qube.StandaloneVM, qube.TemplateVM}},
	"026-admin.deviceclass.List":     {call: raw("admin.deviceclass.List", "", "dom0", ""), want: "block\npci\n"},
	"027-admin.vm.CurrentState-dom0": {call: func(ctx context.Context, c *adminapi.Client) (any, error) { return c.CurrentState(ctx, "dom0") }},
	"100-admin.vm.Create.TemplateVM": {call: create(adminapi.CreateOptions{Class: qube.TemplateVM, Name: "fedora-42", Label: "black"})},
	"101-admin.vm.Create.AppVM":      {call: create(adminapi.CreateOptions{Class: qube.AppVM, Name: "work", Label: "blue", Template: "fedora-42"})},
	"102-admin.vm.Create.AppVM-duplicate": {call: create(adminapi.CreateOptions{Class: qube.AppVM, Name: "work", Label: "blue", Template: "fedora-42"}),
		is: adminapi.ErrVMAlreadyExists},
	"103-admin.vm.Create.AppVM-unknown-label":          {call: create(adminapi.CreateOptions{Class: qube.AppVM, Name: "work2", Label: "pink", Template: "fedora-42"}), is: adminapi.ErrProtocol},
	"104-admin.vm.Create.AppVM-missing-template":       {call: create(adminapi.CreateOptions{Class: qube.AppVM, Name: "work2", Label: "red", Template: "nosuchtpl"}), is: adminapi.ErrVMNotFound},
	"105-admin.vm.Create.AppVM-no-template-no-default": {call: create(adminapi.CreateOptions{Class: qube.AppVM, Name: "work2", Label: "red"})},
	// Create never sends pool= without CreateInPool; this is qubesd's answer to a client that does.
	"106-admin.vm.Create.AppVM-bad-option": {call: raw("admin.vm.Create.AppVM", "fedora-42", "dom0", "name=work2 label=red pool=varlibqubes"), is: adminapi.ErrProtocol},
	"107-admin.vm.CreateInPool.AppVM":      {call: create(adminapi.CreateOptions{Class: qube.AppVM, Name: "personal", Label: "green", Template: "fedora-42", Pool: "varlibqubes"})},
	"108-admin.vm.Create.StandaloneVM":     {call: create(adminapi.CreateOptions{Class: qube.StandaloneVM, Name: "standalone1", Label: "purple"})},
	// Create refuses "0bad" itself (see TestBadNameMatchesQubesd); this is qubesd's own refusal.
	"109-admin.vm.Create.AppVM-bad-name": {call: raw("admin.vm.Create.AppVM", "fedora-42", "dom0", "name=0bad label=red"), is: adminapi.ErrValue},
	"110-admin.vm.List-after-create": {call: listQubes, want: names("dom0/AdminVM/Running", "fedora-42/TemplateVM/Halted",
		"personal/AppVM/Halted", "standalone1/StandaloneVM/Halted", "work/AppVM/Halted")},
	"111-admin.vm.List-single": {call: func(ctx context.Context, c *adminapi.Client) (any, error) { return c.ListQube(ctx, "work") },
		want: qube.Qube{Name: "work", Class: qube.AppVM, State: qube.Halted, UUID: "7170d554-dbf0-43a7-9f35-c9157e10a379"}},
	"112-admin.vm.List-missing-vm": {call: func(ctx context.Context, c *adminapi.Client) (any, error) { return c.ListQube(ctx, "nosuchvm") }, is: adminapi.ErrVMNotFound},
	"200-admin.vm.property.GetAll-work": {call: getAll("work"), want: propsHave(48, prop("label", "label", false, "blue"),
		prop("template", "vm", false, "fedora-42"), prop("netvm", "vm", true, ""), prop("keyboard_layout", "str", true, "us++"),
		prop("memory", "int", true, "400"), prop("klass", "str", true, "AppVM"), prop("xid", "int", true, "-1"))},
	"201-admin.vm.property.GetAll-fedora-42": {call: getAll("fedora-42"), want: func(t *testing.T, v any) {
		propsHave(len(v.([]qube.Property)), prop("klass", "str", true, "TemplateVM"), prop("label", "label", false, "black"))(t, v)
	}},
	"202-admin.vm.property.List-work": {call: func(ctx context.Context, c *adminapi.Client) (any, error) { return c.VMProps("work").List(ctx) },
		want: func(t *testing.T, v any) {
			l := v.([]string)
			if len(l) != 48 || l[0] != "autostart" || l[47] != "template" {
				t.Errorf("property list %v", l)
			}
		}},
	"203-admin.vm.property.Get-label":                 {call: get(work, "label"), want: prop("label", "label", false, "blue")},
	"204-admin.vm.property.Get-memory":                {call: get(work, "memory"), want: prop("memory", "int", true, "400")},
	"205-admin.vm.property.Get-netvm":                 {call: get(work, "netvm"), want: prop("netvm", "vm", true, "")},
	"206-admin.vm.property.Get-template":              {call: get(work, "template"), want: prop("template", "vm", false, "fedora-42")},
	"207-admin.vm.property.Get-qid":                   {call: get(work, "qid"), want: prop("qid", "int", false, "2")},
	"208-admin.vm.property.Set-label":                 {call: set(work, "label", "red")},
	"209-admin.vm.property.Set-memory":                {call: set(work, "memory", "800")},
	"210-admin.vm.property.Get-memory-after-set":      {call: get(work, "memory"), want: prop("memory", "int", false, "800")},
	"211-admin.vm.property.Set-memory-not-int":        {call: set(work, "memory", "abc"), is: adminapi.ErrValue},
	"212-admin.vm.property.Set-memory-negative":       {call: set(work, "memory", "-5"), is: adminapi.ErrValue},
	"213-admin.vm.property.Set-label-unknown":         {call: set(work, "label", "pink"), is: adminapi.ErrLabelNotFound},
	"214-admin.vm.property.Set-netvm-missing-vm":      {call: set(work, "netvm", "sys-nope"), is: adminapi.ErrPropertyValue},
	"215-admin.vm.property.Set-netvm-empty":           {call: set(work, "netvm", "")},
	"216-admin.vm.property.Get-netvm-after-empty-set": {call: get(work, "netvm"), want: prop("netvm", "vm", false, "")},
	"217-admin.vm.property.Get-nosuchprop":            {call: get(work, "nosuchprop"), is: adminapi.ErrNoSuchProperty},
	"218-admin.vm.property.Set-nosuchprop":            {call: set(work, "nosuchprop", "1"), is: adminapi.ErrNoSuchProperty},
	"219-admin.vm.property.Reset-memory": {call: func(ctx context.Context, c *adminapi.Client) (any, error) {
		return none(c.VMProps("work").Reset(ctx, "memory"))
	}},
	"220-admin.vm.property.Help-memory": {call: func(ctx context.Context, c *adminapi.Client) (any, error) {
		return c.VMProps("work").Help(ctx, "memory")
	},
		want: "Memory currently available for this VM. TemplateBasedVMs use its template's value by default."},
	"221-admin.vm.property.GetDefault-memory": {call: func(ctx context.Context, c *adminapi.Client) (any, error) {
		p, ok, err := c.VMProps("work").GetDefault(ctx, "memory")
		if !ok && err == nil {
			err = errors.New("no default")
		}
		return p, err
	}, want: prop("memory", "int", true, "400")},
	"222-admin.vm.property.Set-name-readonly":          {call: set(work, "name", "renamed")},
	"223-admin.vm.property.Set-template":               {call: set(work, "template", "fedora-42")},
	"224-admin.vm.property.Set-vcpus":                  {call: set(work, "vcpus", "4")},
	"225-admin.vm.property.Set-autostart":              {call: set(work, "autostart", "True")},
	"226-admin.vm.property.Set-autostart-bad":          {call: set(work, "autostart", "maybe"), is: adminapi.ErrValue},
	"227-admin.vm.property.Get-dom0-label":             {call: get(vmProps("dom0"), "label"), want: prop("label", "label", false, "black")},
	"228-admin.vm.property.Set-include_in_backups":     {call: set(work, "include_in_backups", "False")},
	"229-admin.vm.property.Set-debug":                  {call: set(work, "debug", "True")},
	"230-admin.vm.property.Get-include_in_backups":     {call: get(work, "include_in_backups"), want: prop("include_in_backups", "bool", false, "False")},
	"231-admin.vm.property.Set-default_dispvm-not-dvm": {call: set(work, "default_dispvm", "personal"), is: adminapi.ErrPropertyValue},
	"300-admin.vm.feature.Set": {call: func(ctx context.Context, c *adminapi.Client) (any, error) {
		return none(c.FeatureSet(ctx, "work", "menu-items", "firefox.desktop org.gnome.Terminal.desktop"))
	}},
	"301-admin.vm.feature.List": {call: func(ctx context.Context, c *adminapi.Client) (any, error) { return c.FeatureList(ctx, "work") }, want: []string{"menu-items"}},
	"302-admin.vm.feature.Get": {call: func(ctx context.Context, c *adminapi.Client) (any, error) {
		return c.FeatureGet(ctx, "work", "menu-items")
	},
		want: "firefox.desktop org.gnome.Terminal.desktop"},
	"303-admin.vm.feature.Get-missing": {call: func(ctx context.Context, c *adminapi.Client) (any, error) {
		return c.FeatureGet(ctx, "work", "nosuchfeature")
	},
		is: adminapi.ErrFeatureNotFound},
	"304-admin.vm.feature.Set-template": {call: func(ctx context.Context, c *adminapi.Client) (any, error) {
		return none(c.FeatureSet(ctx, "fedora-42", "os", "Linux"))
	}},
	"305-admin.vm.feature.CheckWithTemplate": {call: func(ctx context.Context, c *adminapi.Client) (any, error) {
		return c.FeatureCheckWithTemplate(ctx, "work", "os")
	}, want: "Linux"},
	"306-admin.vm.feature.Remove":         {call: featureRemove("work", "menu-items")},
	"307-admin.vm.feature.Remove-missing": {call: featureRemove("work", "menu-items"), is: adminapi.ErrFeatureNotFound},
	"310-admin.vm.tag.Set": {call: func(ctx context.Context, c *adminapi.Client) (any, error) {
		return none(c.TagSet(ctx, "work", "mytag"))
	}},
	"311-admin.vm.tag.List": {call: func(ctx context.Context, c *adminapi.Client) (any, error) { return c.TagList(ctx, "work") },
		want: []string{"audiovm-dom0", "created-by-dom0", "guivm-dom0", "mytag"}},
	"312-admin.vm.tag.Get":           {call: tagGet("work", "mytag"), want: true},
	"313-admin.vm.tag.Get-absent":    {call: tagGet("work", "othertag"), want: false},
	"314-admin.vm.tag.Remove":        {call: tagRemove("work", "mytag")},
	"315-admin.vm.tag.Remove-absent": {call: tagRemove("work", "mytag"), is: adminapi.ErrTagNotFound},
	"320-admin.vm.notes.Set":         {call: raw("admin.vm.notes.Set", "", "work", "Work qube notes"), is: adminapi.ErrProtocol},
	"321-admin.vm.notes.Get":         {call: raw("admin.vm.notes.Get", "", "work", ""), want: ""},
	"400-admin.vm.volume.List": {call: func(ctx context.Context, c *adminapi.Client) (any, error) { return c.VolumeList(ctx, "work") },
		want: []string{"root", "private", "volatile", "kernel"}},
	"401-admin.vm.volume.Info-private": {call: volInfo("private"), want: func(t *testing.T, v any) {
		vi := v.(adminapi.VolumeInfo)
		vi.Raw = nil
		want := adminapi.VolumeInfo{Pool: "varlibqubes", VID: "appvms/work/private", Path: "/var/lib/qubes/appvms/work/private.img",
			Size: 2147483648, RW: true, SaveOnStop: true, RevisionsToKeep: 1}
		if !reflect.DeepEqual(vi, want) {
			t.Errorf("volume %+v, want %+v", vi, want)
		}
	}},
	"402-admin.vm.volume.Info-root": {call: volInfo("root"), want: func(t *testing.T, v any) {
		vi := v.(adminapi.VolumeInfo)
		if vi.Source != "vm-templates/fedora-42/root" || !vi.SnapOnStart || vi.SaveOnStop || vi.Size != 10737418240 || len(vi.Raw) != 12 {
			t.Errorf("volume %+v", vi)
		}
	}},
	"403-admin.vm.volume.Info-missing":          {call: volInfo("nosuchvol"), is: adminapi.ErrPermissionDenied},
	"404-admin.vm.volume.ListSnapshots-private": {call: raw("admin.vm.volume.ListSnapshots", "private", "work", ""), want: ""},
	"405-admin.pool.volume.List-varlibqubes":    {call: raw("admin.pool.volume.List", "varlibqubes", "dom0", ""), want: contains("\nappvms/work/private\n")},
	"410-admin.vm.CurrentState-work": {call: func(ctx context.Context, c *adminapi.Client) (any, error) { return c.CurrentState(ctx, "work") },
		want: adminapi.CurrentState{PowerState: qube.Halted}},
	"411-admin.vm.Start-offline": {call: func(ctx context.Context, c *adminapi.Client) (any, error) { return none(c.Start(ctx, "work")) }},
	"412-admin.vm.Shutdown-halted": {call: func(ctx context.Context, c *adminapi.Client) (any, error) {
		return none(c.Shutdown(ctx, "work", adminapi.ShutdownOptions{}))
	}, is: adminapi.ErrVMError},
	"413-admin.vm.Pause-halted":   {call: func(ctx context.Context, c *adminapi.Client) (any, error) { return none(c.Pause(ctx, "work")) }, is: adminapi.ErrVMNotStarted},
	"414-admin.vm.Unpause-halted": {call: func(ctx context.Context, c *adminapi.Client) (any, error) { return none(c.Unpause(ctx, "work")) }, is: adminapi.ErrVMNotPaused},
	"415-admin.vm.Kill-halted":    {call: func(ctx context.Context, c *adminapi.Client) (any, error) { return none(c.Kill(ctx, "work")) }, is: adminapi.ErrVMNotStarted},
	"417-admin.vm.CreateDisposable-not-dvm-template": {call: func(ctx context.Context, c *adminapi.Client) (any, error) {
		return c.CreateDisposable(ctx, "work", adminapi.DisposableOptions{})
	}, is: adminapi.ErrQubes},
	"418-admin.vm.device.pci.Assigned":      {call: raw("admin.vm.device.pci.Assigned", "", "work", ""), want: ""},
	"419-admin.vm.device.block.Available":   {call: raw("admin.vm.device.block.Available", "", "work", ""), want: ""},
	"420-admin.vm.firewall.Get":             {call: raw("admin.vm.firewall.Get", "", "work", ""), want: "action=accept\n"},
	"421-admin.backup.Info-missing-profile": {call: raw("admin.backup.Info", "nosuchprofile", "dom0", ""), is: adminapi.ErrBackupProfileMissing},
	"422-admin.vm.List-from-src-work-policy-filtered": {src: "work", call: listQubes, want: func(t *testing.T, v any) {
		if qs := v.([]qube.Qube); len(qs) == 0 || qs[0].Name != "dom0" {
			t.Errorf("filtered list %v", qs)
		}
	}},
	"423-admin.vm.List-from-src-personal-no-policy":  {src: "personal", call: listQubes, want: []qube.Qube{}},
	"424-admin.vm.property.Get-from-src-work":        {src: "work", call: get(vmProps("personal"), "label"), want: prop("label", "label", false, "green")},
	"425-admin.vm.property.Set-template_for_dispvms": {call: set(vmProps("personal"), "template_for_dispvms", "True")},
	"426-admin.vm.CreateDisposable": {call: func(ctx context.Context, c *adminapi.Client) (any, error) {
		return c.CreateDisposable(ctx, "personal", adminapi.DisposableOptions{})
	}, want: "disp204"},
	"427-admin.vm.CreateDisposable-uuid": {call: func(ctx context.Context, c *adminapi.Client) (any, error) {
		return c.CreateDisposable(ctx, "personal", adminapi.DisposableOptions{UUID: true})
	}, want: "uuid:c28740d5-e225-416a-b489-3ea8b10228a2"},
	"428-admin.vm.List-with-dispvms": {call: listQubes, want: func(t *testing.T, v any) {
		if qs := v.([]qube.Qube); len(qs) < 2 || qs[1].Name != "disp204" || qs[1].Class != qube.DispVM {
			t.Errorf("list %v", qs)
		}
	}},
	"429-admin.backup.Info":               {call: raw("admin.backup.Info", "research", "dom0", ""), want: contains("VMs not selected for backup:\n - disp204\n")},
	"600-admin.vm.Remove-template-in-use": {call: remove("fedora-42"), is: adminapi.ErrVMInUse},
	"601-admin.vm.Remove-personal":        {call: remove("personal"), is: adminapi.ErrVMInUse},
	"602-admin.vm.Remove-dom0":            {call: remove("dom0"), is: adminapi.ErrVMInUse},
	"603-admin.vm.Remove-missing":         {call: remove("nosuchvm"), is: adminapi.ErrVMNotFound},
	"604-admin.vm.Remove-work":            {call: remove("work")},
	"605-admin.vm.List-after-remove": {call: listQubes, want: func(t *testing.T, v any) {
		for _, q := range v.([]qube.Qube) {
			if q.Name == "work" {
				t.Error("work still listed")
			}
		}
	}},
	"606-admin.vm.feature.Set-prohibited": {call: func(ctx context.Context, c *adminapi.Client) (any, error) {
		return none(c.FeatureSet(ctx, "fedora-42", "preload-dispvm", "x"))
	}, is: adminapi.ErrPermissionDenied},
	"607-admin.vm.tag.Remove-created-by": {call: tagRemove("fedora-42", "created-by-dom0")},
	"700-admin.label.Create":             {call: labelCreate("pink", 0xff69b4)},
	"701-admin.label.Create-duplicate":   {call: labelCreate("pink", 0xff69b4), is: adminapi.ErrLabelInUse},
	"702-admin.label.Index-new":          {call: func(ctx context.Context, c *adminapi.Client) (any, error) { return c.LabelIndex(ctx, "pink") }, want: 9},
	"703-admin.label.List-after-create": {call: func(ctx context.Context, c *adminapi.Client) (any, error) { return c.LabelList(ctx) },
		want: []string{"red", "orange", "yellow", "green", "gray", "blue", "purple", "black", "pink"}},
	"704-admin.label.Remove":        {call: labelRemove("pink")},
	"705-admin.label.Remove-in-use": {call: labelRemove("black"), is: adminapi.ErrProtocol},
	"706-request-too-long": {local: true, call: func(ctx context.Context, c *adminapi.Client) (any, error) {
		return none(c.FeatureSet(ctx, "fedora-42", "big", strings.Repeat("x", 70000)))
	}, is: adminapi.ErrRequestTooLong},
}

func create(o adminapi.CreateOptions) func(context.Context, *adminapi.Client) (any, error) {
	return func(ctx context.Context, c *adminapi.Client) (any, error) { return none(c.Create(ctx, o)) }
}
func listQubes(ctx context.Context, c *adminapi.Client) (any, error) { return c.ListQubes(ctx) }
func getAll(name string) func(context.Context, *adminapi.Client) (any, error) {
	return func(ctx context.Context, c *adminapi.Client) (any, error) { return c.VMProps(name).GetAll(ctx) }
}
func get(p func(*adminapi.Client) adminapi.Props, name string) func(context.Context, *adminapi.Client) (any, error) {
	return func(ctx context.Context, c *adminapi.Client) (any, error) { return p(c).Get(ctx, name) }
}
func set(p func(*adminapi.Client) adminapi.Props, name, value string) func(context.Context, *adminapi.Client) (any, error) {
	return func(ctx context.Context, c *adminapi.Client) (any, error) { return none(p(c).Set(ctx, name, value)) }
}
func featureRemove(vm, f string) func(context.Context, *adminapi.Client) (any, error) {
	return func(ctx context.Context, c *adminapi.Client) (any, error) { return none(c.FeatureRemove(ctx, vm, f)) }
}
func tagGet(vm, tag string) func(context.Context, *adminapi.Client) (any, error) {
	return func(ctx context.Context, c *adminapi.Client) (any, error) { return c.TagGet(ctx, vm, tag) }
}
func tagRemove(vm, tag string) func(context.Context, *adminapi.Client) (any, error) {
	return func(ctx context.Context, c *adminapi.Client) (any, error) { return none(c.TagRemove(ctx, vm, tag)) }
}
func volInfo(vol string) func(context.Context, *adminapi.Client) (any, error) {
	return func(ctx context.Context, c *adminapi.Client) (any, error) { return c.VolumeInfo(ctx, "work", vol) }
}
func remove(vm string) func(context.Context, *adminapi.Client) (any, error) {
	return func(ctx context.Context, c *adminapi.Client) (any, error) { return none(c.Remove(ctx, vm)) }
}
func labelCreate(l string, rgb uint32) func(context.Context, *adminapi.Client) (any, error) {
	return func(ctx context.Context, c *adminapi.Client) (any, error) { return none(c.LabelCreate(ctx, l, rgb)) }
}
func labelRemove(l string) func(context.Context, *adminapi.Client) (any, error) {
	return func(ctx context.Context, c *adminapi.Client) (any, error) { return none(c.LabelRemove(ctx, l)) }
}

// TestConformance replays every recording: the client's request must equal
// the recorded bytes and the recorded answer must decode to the expected
// value or error. Event streams are covered by TestEventStreams and
// TestStatsStream, the framing error by TestFramingErrorRecording; together
// they must exercise every recording on disk.
func TestConformance(t *testing.T) {
	recs := adminapitest.Load(t)
	exercised := 0
	for _, rec := range recs {
		cs, ok := cases[rec.Name]
		if !ok {
			continue
		}
		exercised++
		t.Run(rec.Name, func(t *testing.T) {
			srv := adminapitest.NewReplay(t, rec)
			c := adminapi.New(adminapi.UnixTransport{Path: srv.Path})
			if cs.src != "" {
				c.Source = cs.src
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			v, err := cs.call(ctx, c)
			srv.Close()
			got := srv.Requests()
			if cs.local {
				if len(got) != 0 {
					t.Errorf("the client sent %d requests, want none", len(got))
				}
			} else if len(got) != 1 || string(got[0]) != string(rec.Request) {
				t.Fatalf("requests sent:\n%q\nrecorded:\n%q", got, rec.Request)
			}
			checkOutcome(t, rec, cs, v, err)
		})
	}
	covered := exercised + len(streamRecordings) + 1 // + 000, the framing error
	t.Logf("conformance: %d recordings replayed through client calls, %d streams and 1 framing error: %d of %d recordings on disk",
		exercised, len(streamRecordings), covered, len(recs))
	if covered != len(recs) {
		var missing []string
		for _, r := range recs {
			if _, ok := cases[r.Name]; !ok && !streamRecordings[r.Name] && r.Name != framingError {
				missing = append(missing, r.Name)
			}
		}
		t.Errorf("%d recordings on disk, %d exercised; no case for %v", len(recs), covered, missing)
	}
	for name := range cases {
		if adminapitest.ByName(recs)[name] == nil {
			t.Errorf("case %s has no recording", name)
		}
	}
}

func checkOutcome(t *testing.T, rec *adminapitest.Recording, cs ccase, v any, err error) {
	t.Helper()
	if cs.is != nil && !errors.Is(err, cs.is) {
		t.Errorf("error %v, want one matching %v", err, cs.is)
	}
	switch {
	case cs.local:
		return
	case rec.Kind == "empty":
		var na *adminapi.NoAnswerError
		if !errors.As(err, &na) || !errors.Is(err, adminapi.ErrNoAnswer) {
			t.Fatalf("error %v, want a NoAnswerError", err)
		}
		method, _, _ := strings.Cut(string(rec.Request), " ")
		if !strings.Contains(err.Error(), strings.TrimSuffix(method, "+")) || !strings.Contains(err.Error(), "without an answer") {
			t.Errorf("error %q does not name the call %s", err, method)
		}
	case rec.Kind == "exception":
		var e *adminapi.Error
		if !errors.As(err, &e) {
			t.Fatalf("error %v, want *adminapi.Error", err)
		}
		if e.Class != rec.ExcClass || e.Message != rec.ExcMsg {
			t.Errorf("exception %s %q, recorded %s %q", e.Class, e.Message, rec.ExcClass, rec.ExcMsg)
		}
		if !errors.Is(err, &adminapi.Error{Class: rec.ExcClass}) {
			t.Errorf("errors.Is does not match its own class %s", rec.ExcClass)
		}
	case err != nil:
		t.Fatalf("unexpected error: %v", err)
	default:
		if f, ok := cs.want.(check); ok {
			f(t, v)
		} else if cs.want != nil && !reflect.DeepEqual(v, cs.want) {
			t.Errorf("got %#v\nwant %#v", v, cs.want)
		}
	}
}

const framingError = "000-framing-error-no-NUL"

var streamRecordings = map[string]bool{
	"416-admin.vm.Stats-offline": true, "500-admin.Events-all": true,
	"501-admin.Events-vm-work": true, "502-admin.Events-from-src-work": true,
}

// TestFramingErrorRecording: our client cannot send a header without NUL;
// the server side must refuse the recorded bytes as qubesd did, and the
// recorded empty answer must decode to the no-answer error.
func TestFramingErrorRecording(t *testing.T) {
	rec := adminapitest.ByName(adminapitest.Load(t))[framingError]
	if _, err := adminapi.ParseRequest(rec.Request); !errors.Is(err, adminapi.ErrFraming) {
		t.Errorf("ParseRequest(%q) = %v, want a framing error", rec.Request, err)
	}
	if _, err := adminapi.DecodeResponse("admin.vm.List", rec.Response); !errors.Is(err, adminapi.ErrNoAnswer) ||
		!strings.Contains(err.Error(), "admin.vm.List") {
		t.Errorf("DecodeResponse = %v", err)
	}
}

// TestServerSide runs the server half on every recording: each recorded
// request parses (except the framing error and the oversized one) and
// re-encodes to the same bytes, and each recorded answer is re-encoded
// byte for byte by WriteOK/WriteException.
func TestServerSide(t *testing.T) {
	for _, rec := range adminapitest.Load(t) {
		req, err := adminapi.ReadRequest(strings.NewReader(string(rec.Request)), 0)
		switch rec.Name {
		case framingError:
			if !errors.Is(err, adminapi.ErrFraming) {
				t.Errorf("%s: %v, want framing error", rec.Name, err)
			}
			continue
		case "706-request-too-long":
			if !errors.Is(err, adminapi.ErrRequestTooLong) {
				t.Errorf("%s: %v, want request too long", rec.Name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", rec.Name, err)
			continue
		}
		if rec.Name == "002-dest-keyword-adminvm" {
			if req.Dest != "dom0" || req.DestType != "name" {
				t.Errorf("keyword adminvm parsed as %s %s", req.DestType, req.Dest)
			}
		} else if string(req.Bytes()) != string(rec.Request) {
			t.Errorf("%s: re-encoded request %q", rec.Name, req.Bytes())
		}
		var out strings.Builder
		switch rec.Kind {
		case "success":
			body, _ := adminapi.DecodeResponse(rec.Name, rec.Response)
			adminapi.WriteOK(&out, body)
		case "exception":
			adminapi.WriteException(&out, rec.ExcClass, rec.ExcMsg)
		default:
			continue
		}
		if out.String() != string(rec.Response) {
			t.Errorf("%s: re-encoded answer %q, recorded %q", rec.Name, out.String(), rec.Response)
		}
	}
}

// chunkReader returns exactly one recorded chunk per Read.
type chunkReader struct{ chunks [][]byte }

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.chunks[0])
	if n < len(r.chunks[0]) {
		r.chunks[0] = r.chunks[0][n:]
	} else {
		r.chunks = r.chunks[1:]
	}
	return n, nil
}

// indexEvents reads the decoded event table of one stream from INDEX.md,
// an independent rendering of the same bytes.
func indexEvents(t *testing.T, name string) []string {
	f, err := os.Open(filepath.Join(adminapitest.Dir(t), "INDEX.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []string
	in := false
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		switch {
		case strings.HasPrefix(line, "### "):
			in = line == "### "+name
		case in && strings.HasPrefix(line, "| ") && !strings.HasPrefix(line, "| # ") && !strings.HasPrefix(line, "|---"):
			cols := strings.Split(line, " | ")
			rows = append(rows, strings.Join(cols[1:], " | "))
		}
	}
	if len(rows) == 0 {
		t.Fatalf("no event table for %s in INDEX.md", name)
	}
	return rows
}

func renderEvent(ev adminapi.Event) string {
	subj := ev.Subject
	if subj == "" {
		subj = "(app)"
	}
	var kw []string
	for _, a := range ev.Args {
		kw = append(kw, a.Key+"="+a.Value)
	}
	return fmt.Sprintf("%s | %s | %s |", subj, ev.Name, strings.Join(kw, " "))
}

// TestEventStreams replays the three admin.Events recordings chunk by chunk
// with their recorded boundaries, straight into the decoder and over a
// socket through the client, and compares every event with INDEX.md.
func TestEventStreams(t *testing.T) {
	recs := adminapitest.Load(t)
	n := 0
	for _, rec := range recs {
		if !streamRecordings[rec.Name] || rec.Chunks == nil {
			continue
		}
		n++
		t.Run(rec.Name, func(t *testing.T) {
			want := indexEvents(t, rec.Name)
			var joined []byte
			for _, c := range rec.Chunks {
				joined = append(joined, c...)
			}
			if string(joined) != string(rec.Response) {
				t.Fatal("chunks do not add up to resp.bin")
			}
			r := adminapi.NewEventReader(&chunkReader{chunks: append([][]byte(nil), rec.Chunks...)})
			var got []string
			for {
				ev, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("after %d events: %v", len(got), err)
				}
				got = append(got, renderEvent(ev))
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("decoded %d events, INDEX.md has %d:\n%s", len(got), len(want), diff(got, want))
			}

			// The same stream over a socket, as the client opens it.
			srv := adminapitest.NewReplay(t, rec)
			req, _ := adminapi.ParseRequest(rec.Request)
			c := adminapi.New(adminapi.UnixTransport{Path: srv.Path})
			c.Source = req.Source
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			s, err := c.OpenEvents(ctx, req.Dest)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			for i := range want {
				ev, err := s.Next()
				if err != nil {
					t.Fatalf("event %d: %v", i, err)
				}
				if r := renderEvent(ev); r != want[i] {
					t.Fatalf("event %d over the socket: %s, want %s", i, r, want[i])
				}
			}
			if _, err := s.Next(); err != io.EOF {
				t.Errorf("after the last event: %v, want io.EOF", err)
			}
			if got := srv.Requests(); len(got) != 1 || string(got[0]) != string(rec.Request) {
				t.Errorf("request %q, recorded %q", got, rec.Request)
			}
		})
	}
	t.Logf("event streams: %d recordings replayed chunk by chunk", n)
	if n != 3 {
		t.Errorf("found %d admin.Events recordings with chunks, want 3", n)
	}
}

func diff(got, want []string) string {
	var b strings.Builder
	for i := 0; i < max(len(got), len(want)); i++ {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			fmt.Fprintf(&b, "#%d got  %s\n#%d want %s\n", i, g, i, w)
		}
	}
	return b.String()
}

// TestStatsStream replays admin.vm.Stats offline: connection-established,
// then qubesd's handler crashed and the stream ended.
func TestStatsStream(t *testing.T) {
	rec := adminapitest.ByName(adminapitest.Load(t))["416-admin.vm.Stats-offline"]
	srv := adminapitest.NewReplay(t, rec)
	c := adminapi.New(adminapi.UnixTransport{Path: srv.Path})
	s, err := c.OpenStats(context.Background(), "dom0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ev, err := s.Next()
	if err != nil || ev.Name != adminapi.EventConnectionEstablished || ev.Subject != "" || len(ev.Args) != 0 {
		t.Fatalf("first event %+v, %v", ev, err)
	}
	if _, err := s.Next(); err != io.EOF {
		t.Errorf("then %v, want io.EOF", err)
	}
	if got := srv.Requests(); len(got) != 1 || string(got[0]) != string(rec.Request) {
		t.Errorf("request %q, recorded %q", got, rec.Request)
	}
}
