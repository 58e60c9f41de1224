package qvmcli_test

import (
	"context"
	"encoding/json"
	"net"
	"reflect"
	"strings"
	"testing"

	"github.com/qube-desktop/qube-desktop/internal/adminapi"
	"github.com/qube-desktop/qube-desktop/internal/adminapi/adminapitest"
	"github.com/qube-desktop/qube-desktop/internal/qvmcli"
)

// replay serves the named recordings; the test fails if a request matches
// none of them or one of them is never asked for.
func replay(t *testing.T, names ...string) string {
	t.Helper()
	all := adminapitest.ByName(adminapitest.Load(t))
	var recs []*adminapitest.Recording
	for _, n := range names {
		if all[n] == nil {
			t.Fatalf("no recording %s", n)
		}
		recs = append(recs, all[n])
	}
	srv := adminapitest.NewReplay(t, recs...)
	t.Cleanup(func() {
		if u := srv.Unused(); len(u) > 0 {
			t.Errorf("recordings never requested: %v", u)
		}
	})
	return srv.Path
}

type result struct {
	code           int
	stdout, stderr string
}

func qvm(t *testing.T, socket, stdin string, args ...string) result {
	t.Helper()
	var out, errb strings.Builder
	code := qvmcli.Main(context.Background(), append([]string{"--socket", socket}, args...),
		qvmcli.IO{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb})
	return result{code, out.String(), errb.String()}
}

func (r result) expect(t *testing.T, code int, stdout, stderr string) {
	t.Helper()
	if r.code != code || r.stdout != stdout || r.stderr != stderr {
		t.Errorf("exit %d, stdout %q, stderr %q\nwant exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr, code, stdout, stderr)
	}
}

func TestLs(t *testing.T) {
	s := replay(t, "010-admin.vm.List-initial", "020-admin.vm.property.GetAll-dom0")
	qvm(t, s, "", "ls").expect(t, 0, "NAME  STATE    CLASS    LABEL  TEMPLATE  NETVM\ndom0  Running  AdminVM  black  -         -\n", "")

	syn := adminapitest.NewSynthetic(t, 3)
	qvm(t, syn.Path, "", "ls").expect(t, 0, ""+
		"NAME   STATE    CLASS    LABEL   TEMPLATE   NETVM\n"+
		"dom0   Running  AdminVM  black   -          -\n"+
		"q0001  Halted   AppVM    orange  fedora-42  -\n"+
		"q0002  Halted   AppVM    yellow  fedora-42  -\n"+
		"q0003  Halted   AppVM    green   fedora-42  -\n", "")
	qvm(t, syn.Path, "", "ls", "--running").expect(t, 0, "NAME  STATE    CLASS    LABEL  TEMPLATE  NETVM\ndom0  Running  AdminVM  black  -         -\n", "")
	r := qvm(t, syn.Path, "", "ls", "q0002", "--format", "json")
	var rows []map[string]string
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil || r.code != 0 {
		t.Fatalf("json: %v, %+v", err, r)
	}
	want := []map[string]string{{"name": "q0002", "state": "Halted", "class": "AppVM", "label": "yellow",
		"template": "fedora-42", "netvm": "", "uuid": "00000002-0000-4000-8000-000000000000"}}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("json rows %v", rows)
	}
	qvm(t, syn.Path, "", "ls", "nosuch").expect(t, 1, "", "qvm ls: error: no such qube: nosuch\n")
	qvm(t, syn.Path, "", "ls", "--format", "xml").expect(t, 2, "",
		"usage: qvm ls [--running] [--format text|json] [NAME...]\nqvm ls: error: unknown format \"xml\" (use text or json)\n")
}

// TestLsPartial: qubesd answers List but not every GetAll (recording 110
// lists qubes whose GetAll was not recorded): the table still shows every
// qube, and the failures are reported on one line with exit code 1.
func TestLsPartial(t *testing.T) {
	recs := adminapitest.ByName(adminapitest.Load(t))
	answers := map[string][]byte{}
	for _, n := range []string{"110-admin.vm.List-after-create", "020-admin.vm.property.GetAll-dom0",
		"200-admin.vm.property.GetAll-work", "201-admin.vm.property.GetAll-fedora-42"} {
		answers[string(recs[n].Request)] = recs[n].Response
	}
	srv := adminapitest.NewServer(t, func(req []byte, c net.Conn) { c.Write(answers[string(req)]) })
	qvm(t, srv.Path, "", "ls").expect(t, 1, ""+
		"NAME         STATE    CLASS         LABEL  TEMPLATE   NETVM\n"+
		"dom0         Running  AdminVM       black  -          -\n"+
		"fedora-42    Halted   TemplateVM    black  -          -\n"+
		"personal     Halted   AppVM         -      -          -\n"+
		"standalone1  Halted   StandaloneVM  -      -          -\n"+
		"work         Halted   AppVM         blue   fedora-42  -\n",
		"qvm ls: error: could not read the properties of 2 qubes (personal: qubesd closed the connection without an answer to "+
			"admin.vm.property.GetAll (see 'journalctl -u qubesd -e' in dom0 for the reason); standalone1: qubesd closed the connection "+
			"without an answer to admin.vm.property.GetAll (see 'journalctl -u qubesd -e' in dom0 for the reason))\n")
}

func TestPrefs(t *testing.T) {
	qvm(t, replay(t, "203-admin.vm.property.Get-label"), "", "prefs", "work", "label").expect(t, 0, "blue\n", "")
	qvm(t, replay(t, "205-admin.vm.property.Get-netvm"), "", "prefs", "work", "netvm").expect(t, 0, "\n", "")
	qvm(t, replay(t, "209-admin.vm.property.Set-memory"), "", "prefs", "work", "memory", "800").expect(t, 0, "", "")
	qvm(t, replay(t, "215-admin.vm.property.Set-netvm-empty"), "", "prefs", "work", "netvm", "").expect(t, 0, "", "")
	qvm(t, replay(t, "219-admin.vm.property.Reset-memory"), "", "prefs", "--default", "work", "memory").expect(t, 0, "", "")
	qvm(t, replay(t, "219-admin.vm.property.Reset-memory"), "", "prefs", "work", "memory", "-D").expect(t, 0, "", "")
	qvm(t, replay(t, "217-admin.vm.property.Get-nosuchprop"), "", "prefs", "work", "nosuchprop").
		expect(t, 1, "", "qvm prefs: error: Invalid property 'nosuchprop' of work\n")
	qvm(t, replay(t, "211-admin.vm.property.Set-memory-not-int"), "", "prefs", "work", "memory", "abc").
		expect(t, 1, "", "qvm prefs: error: Failed to parse property value as int\n")
	qvm(t, replay(t, "222-admin.vm.property.Set-name-readonly"), "", "prefs", "work", "name", "renamed").
		expect(t, 1, "", "qvm prefs: error: qubesd closed the connection without an answer to admin.vm.property.Set+name (see 'journalctl -u qubesd -e' in dom0 for the reason)\n")
	qvm(t, replay(t), "", "prefs", "--default", "work", "a", "b").
		code0(t, 2)

	r := qvm(t, replay(t, "200-admin.vm.property.GetAll-work"), "", "prefs", "work")
	lines := strings.Split(r.stdout, "\n")
	if r.code != 0 || len(lines) != 49 || lines[0] != "autostart            D  False" ||
		lines[16] != "label                -  blue" || lines[47] != "template             -  fedora-42" ||
		lines[14] != "keyboard_layout      D  us++" || lines[5] != "dns                  D" {
		t.Errorf("prefs listing: %d lines\n%s", len(lines), r.stdout)
	}
}

// code0 checks only the exit code.
func (r result) code0(t *testing.T, code int) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit %d, want %d (%q)", r.code, code, r.stderr)
	}
}

func TestCreateAndRemove(t *testing.T) {
	qvm(t, replay(t, "101-admin.vm.Create.AppVM"), "", "create", "--label", "blue", "--template", "fedora-42", "work").expect(t, 0, "", "")
	qvm(t, replay(t, "100-admin.vm.Create.TemplateVM"), "", "create", "--class", "templatevm", "--label", "black", "fedora-42").expect(t, 0, "", "")
	qvm(t, replay(t, "107-admin.vm.CreateInPool.AppVM"), "", "create", "personal", "--label", "green", "--template", "fedora-42", "--pool", "varlibqubes").expect(t, 0, "", "")
	qvm(t, replay(t, "102-admin.vm.Create.AppVM-duplicate"), "", "create", "--label", "blue", "--template", "fedora-42", "work").
		expect(t, 1, "", "qvm create: error: Qube already exists: work\n")
	qvm(t, replay(t, "104-admin.vm.Create.AppVM-missing-template"), "", "create", "--label", "red", "--template", "nosuchtpl", "work2").
		expect(t, 1, "", "qvm create: error: No such domain: 'nosuchtpl'\n")
	qvm(t, replay(t), "", "create", "--label", "red", "0bad").
		expect(t, 1, "", "qvm create: error: invalid qube name \"0bad\": VM name cannot start with hyphen, underscore, dot or numbers; start it with a letter (a-z, A-Z)\n")
	qvm(t, replay(t), "", "create", "work2").
		expect(t, 2, "", "usage: qvm create --label LABEL [--class CLASS] [--template TEMPLATE] [--pool POOL] NAME\nqvm create: error: --label is required (red, orange, yellow, green, gray, blue, purple, black)\n")
	qvm(t, replay(t), "", "create", "--label", "red", "--class", "Bogus", "x").code0(t, 2)

	qvm(t, replay(t, "604-admin.vm.Remove-work"), "", "remove", "--force", "work").expect(t, 0, "", "")
	qvm(t, replay(t, "604-admin.vm.Remove-work"), "y\n", "remove", "work").
		expect(t, 0, "This will completely remove the selected qube(s) and all their data:\n  work\nAre you sure? [y/N] ", "")
	qvm(t, replay(t), "n\n", "remove", "work").
		expect(t, 1, "This will completely remove the selected qube(s) and all their data:\n  work\nAre you sure? [y/N] ",
			"qvm remove: error: not confirmed, nothing removed (use --force to skip the question)\n")
	qvm(t, replay(t, "602-admin.vm.Remove-dom0"), "", "remove", "-f", "dom0").expect(t, 1, "", "qvm remove: error: 'dom0' cannot be removed\n")
	qvm(t, replay(t, "600-admin.vm.Remove-template-in-use", "603-admin.vm.Remove-missing"), "", "remove", "-f", "fedora-42", "nosuchvm").
		expect(t, 1, "", "qvm remove: error: fedora-42: Domain is in use: 'fedora-42'; see 'journalctl -u qubesd -e' in dom0 for details; nosuchvm: No such domain: 'nosuchvm'\n")
}

func TestLifecycle(t *testing.T) {
	qvm(t, replay(t, "411-admin.vm.Start-offline"), "", "start", "work").
		expect(t, 1, "", "qvm start: error: qubesd closed the connection without an answer to admin.vm.Start (see 'journalctl -u qubesd -e' in dom0 for the reason)\n")
	qvm(t, replay(t, "412-admin.vm.Shutdown-halted"), "", "shutdown", "work").expect(t, 1, "", "qvm shutdown: error: Domain is powered off: 'work'\n")
	qvm(t, replay(t, "413-admin.vm.Pause-halted"), "", "pause", "work").expect(t, 1, "", "qvm pause: error: Domain not running (either powered off or paused): 'work'\n")
	qvm(t, replay(t, "414-admin.vm.Unpause-halted"), "", "unpause", "work").expect(t, 1, "", "qvm unpause: error: Domain is not paused: 'work'\n")
	qvm(t, replay(t, "415-admin.vm.Kill-halted"), "", "kill", "work").expect(t, 1, "", "qvm kill: error: Domain is powered off: 'work'\n")

	ok := adminapitest.NewServer(t, func(req []byte, c net.Conn) { adminapi.WriteOK(c, nil) })
	qvm(t, ok.Path, "", "shutdown", "work", "--wait", "--force").expect(t, 0, "", "")
	qvm(t, ok.Path, "", "start", "a", "b").expect(t, 0, "", "")
	var got []string
	for _, r := range ok.Requests() {
		got = append(got, string(r))
	}
	want := []string{"admin.vm.Shutdown+force+wait dom0 name work\x00", "admin.vm.Start+ dom0 name a\x00", "admin.vm.Start+ dom0 name b\x00"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("requests %q", got)
	}
}

func TestFeaturesAndTags(t *testing.T) {
	qvm(t, replay(t, "301-admin.vm.feature.List", "302-admin.vm.feature.Get"), "", "features", "work").
		expect(t, 0, "menu-items  firefox.desktop org.gnome.Terminal.desktop\n", "")
	qvm(t, replay(t, "300-admin.vm.feature.Set"), "", "features", "work", "menu-items", "firefox.desktop org.gnome.Terminal.desktop").expect(t, 0, "", "")
	qvm(t, replay(t, "302-admin.vm.feature.Get"), "", "features", "work", "menu-items").
		expect(t, 0, "firefox.desktop org.gnome.Terminal.desktop\n", "")
	qvm(t, replay(t, "303-admin.vm.feature.Get-missing"), "", "features", "work", "nosuchfeature").
		expect(t, 1, "", "qvm features: error: Feature not set for domain work: nosuchfeature\n")
	qvm(t, replay(t, "306-admin.vm.feature.Remove"), "", "features", "--unset", "work", "menu-items").expect(t, 0, "", "")

	qvm(t, replay(t, "311-admin.vm.tag.List"), "", "tags", "work").expect(t, 0, "audiovm-dom0\ncreated-by-dom0\nguivm-dom0\nmytag\n", "")
	qvm(t, replay(t, "310-admin.vm.tag.Set"), "", "tags", "work", "add", "mytag").expect(t, 0, "", "")
	qvm(t, replay(t, "312-admin.vm.tag.Get"), "", "tags", "work", "list", "mytag").expect(t, 0, "mytag\n", "")
	qvm(t, replay(t, "313-admin.vm.tag.Get-absent"), "", "tags", "work", "list", "othertag").expect(t, 1, "", "qvm tags: error: qube work has no tag othertag\n")
	qvm(t, replay(t, "314-admin.vm.tag.Remove"), "", "tags", "work", "del", "mytag").expect(t, 0, "", "")
	qvm(t, replay(t, "315-admin.vm.tag.Remove-absent"), "", "tags", "work", "del", "mytag").
		expect(t, 1, "", "qvm tags: error: Tag not set for domain work: mytag\n")
	qvm(t, replay(t), "", "tags", "work", "frob").code0(t, 2)
}

func TestRunAndHelp(t *testing.T) {
	srv := adminapitest.NewServer(t, func(req []byte, c net.Conn) {
		r, _ := adminapi.ParseRequest(req)
		adminapi.WriteException(c, "ProtocolError", "no such method: '"+r.Method+"'")
	})
	qvm(t, srv.Path, "", "run", "work", "xterm", "-e", "top").
		expect(t, 1, "", "qvm run: error: running commands in a qube is not supported by this qubesd (it has no admin.vm.Run service)\n")
	if got := srv.Requests(); len(got) != 1 || string(got[0]) != "admin.vm.Run+ dom0 name work\x00xterm -e top" {
		t.Errorf("run request %q", got)
	}
	for _, cmd := range []string{"ls", "start", "shutdown", "kill", "pause", "unpause", "prefs", "features", "tags", "create", "remove", "clone", "run"} {
		r := qvm(t, srv.Path, "", cmd, "--help")
		if r.code != 0 || !strings.HasPrefix(r.stdout, "usage: qvm "+cmd+" ") {
			t.Errorf("qvm %s --help: %+v", cmd, r)
		}
	}
	if r := qvm(t, srv.Path, "", "--help"); r.code != 0 || !strings.Contains(r.stdout, "  prefs     list, read, set or reset") {
		t.Errorf("qvm --help: %+v", r)
	}
	qvm(t, srv.Path, "", "frobnicate").expect(t, 2, "", "qvm: error: unknown command \"frobnicate\" (run 'qvm --help' for the list)\n")
	qvm(t, srv.Path, "", "start").code0(t, 2)
	qvm(t, srv.Path, "", "ls", "--bogus").code0(t, 2)
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("help and usage errors sent %d requests", n-1)
	}
}
