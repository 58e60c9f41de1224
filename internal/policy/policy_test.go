package policy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qube-desktop/qube-desktop/internal/adminapi/adminapitest"
)

// qubes is a small system: work and personal AppVMs, vault tagged secret,
// a disposable disp42 from the dvm template (tagged dvmtag), and dom0.
func qubes(name string) (Qube, error) {
	q, ok := map[string]Qube{
		"dom0":     {Type: "AdminVM"},
		"work":     {Type: "AppVM", Tags: []string{"office"}},
		"personal": {Type: "AppVM"},
		"vault":    {Type: "AppVM", Tags: []string{"secret", "office"}},
		"dvm":      {Type: "AppVM", Tags: []string{"dvmtag"}},
		"disp42":   {Type: "DispVM", Template: "dvm"},
		"tmpl":     {Type: "TemplateVM"},
	}[name]
	if !ok {
		return Qube{}, ErrNoQube
	}
	return q, nil
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func paste(t *testing.T, p *Policy, src, dst string) Action {
	t.Helper()
	ok, d, err := p.AllowClipboardPaste(src, dst, qubes)
	if err != nil {
		t.Fatal(err)
	}
	if ok != (d.Action != Deny) {
		t.Fatalf("AllowClipboardPaste ok=%v with action %v", ok, d.Action)
	}
	return d.Action
}

func TestDefaultPolicy(t *testing.T) {
	p := Default()
	var got []string
	for _, r := range p.Rules {
		got = append(got, r.String()+" @"+r.Where())
	}
	want := []string{
		"qubes.ClipboardPaste * @adminvm @anyvm ask @(built-in) 90-default-gui-daemon.policy:7",
		"qubes.ClipboardPaste * @anyvm @anyvm ask @(built-in) 90-default-gui-daemon.policy:8",
		"qubes.WindowIconUpdater * @anyvm @adminvm allow @(built-in) 90-default-gui-daemon.policy:11",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("rules:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, c := range []struct {
		src, dst string
		want     Action
	}{
		{"work", "personal", Ask},
		{"dom0", "work", Ask},
		{"@adminvm", "work", Ask},
		{"work", "dom0", Deny}, // @anyvm never matches the admin qube
		{"unknown", "work", Ask},
	} {
		if got := paste(t, p, c.src, c.dst); got != c.want {
			t.Errorf("%s → %s: %v, want %v", c.src, c.dst, got, c.want)
		}
	}
	if d, _ := p.Evaluate(Request{Service: "qubes.ClipboardPaste", Source: "work", Target: "personal"}, qubes); d.Rule != p.Rules[1] {
		t.Errorf("deciding rule %v, want the second", d.Rule)
	}
	// The same service with an argument still matches "*".
	if d, _ := p.Evaluate(Request{Service: "qubes.ClipboardPaste", Argument: "+x", Source: "work", Target: "personal"}, qubes); d.Action != Ask {
		t.Errorf("with argument: %v", d.Action)
	}
}

func TestLoadOrderFirstMatchAndBuiltIn(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"30-user.policy": "# user rules\n" +
			"qubes.ClipboardPaste * @tag:secret @anyvm deny\n" +
			"qubes.ClipboardPaste * work vault allow\n" +
			"qubes.ClipboardPaste * @anyvm vault deny notify=yes\n",
		"10-first.policy":         "qubes.ClipboardPaste * personal work deny\n",
		"95-late.policy":          "qubes.ClipboardPaste * @anyvm @anyvm deny\n",
		".hidden.policy":          "garbage\n",
		"README":                  "not a policy\n",
		"31-other.policy~":        "garbage\n",
		"40-dir.policy/x":         "a directory, skipped\n",
		"50-other-service.policy": "qubes.Filecopy * work personal allow\n",
	})
	p, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		src, dst string
		want     Action
		where    string
	}{
		{"personal", "work", Deny, "10-first.policy:1"},
		{"vault", "work", Deny, "30-user.policy:2"},
		{"work", "vault", Allow, "30-user.policy:3"},
		{"personal", "vault", Deny, "30-user.policy:4"},
		{"work", "personal", Ask, "(built-in) 90-default-gui-daemon.policy:8"},
	} {
		ok, d, err := p.AllowClipboardPaste(c.src, c.dst, qubes)
		if err != nil || d.Action != c.want || ok != (c.want != Deny) || d.Rule == nil || !strings.HasSuffix(d.Rule.Where(), c.where) {
			t.Errorf("%s → %s: %v by %v, want %v by %s", c.src, c.dst, d.Action, d.Rule, c.want, c.where)
		}
	}
	if n := len(p.Rules); n != 1+3+1+3+1 {
		t.Errorf("%d rules", n)
	}
}

func TestLoadDefaultFileOnDiskReplacesBuiltIn(t *testing.T) {
	dir := writeFiles(t, map[string]string{DefaultFile: "qubes.ClipboardPaste * @anyvm @anyvm deny\n"})
	p, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Rules) != 1 || paste(t, p, "work", "personal") != Deny {
		t.Fatalf("rules %v", p.Rules)
	}
}

func TestLoadMissingDirIsBuiltIn(t *testing.T) {
	p, err := Load(filepath.Join(t.TempDir(), "nope"))
	if err != nil || len(p.Rules) != 3 {
		t.Fatalf("%v, %v", p, err)
	}
}

func TestEmptyPolicyDenies(t *testing.T) {
	p, err := Parse("empty.policy", []byte("# nothing\n\n"))
	if err != nil {
		t.Fatal(err)
	}
	if ok, d, err := p.AllowClipboardPaste("work", "personal", qubes); ok || err != nil || d.Rule != nil || d.Action != Deny {
		t.Fatalf("empty policy: %v %+v", ok, d)
	}
}

func TestTokens(t *testing.T) {
	for _, c := range []struct {
		rule     string
		src, dst string
		match    bool
	}{
		{"work personal", "work", "personal", true},
		{"work personal", "personal", "work", false},
		{"dom0 work", "dom0", "work", true},
		{"dom0 work", "@adminvm", "work", true},
		{"@adminvm @anyvm", "dom0", "work", true},
		{"@anyvm @anyvm", "dom0", "work", false},
		{"@anyvm @adminvm", "work", "dom0", true},
		{"@tag:secret @anyvm", "vault", "work", true},
		{"@tag:secret @anyvm", "work", "vault", false},
		{"@tag:secret @anyvm", "unknown", "work", false},
		{"@anyvm @tag:office", "personal", "vault", true},
		{"@type:AppVM @anyvm", "work", "dom0", false},
		{"@type:AppVM @anyvm", "work", "personal", true},
		{"@type:TemplateVM @anyvm", "work", "personal", false},
		{"@type:AdminVM @anyvm", "dom0", "work", true},
		{"@dispvm @anyvm", "disp42", "work", true},
		{"@dispvm @anyvm", "dvm", "work", false},
		{"@dispvm:dvm @anyvm", "disp42", "work", true},
		{"@dispvm:tmpl @anyvm", "disp42", "work", false},
		{"@dispvm:@tag:dvmtag @anyvm", "disp42", "work", true},
		{"@dispvm:@tag:office @anyvm", "disp42", "work", false},
		{"@anyvm @dispvm", "work", "disp42", false}, // @dispvm target is a request for a new one
		{"@anyvm @dispvm", "work", "@dispvm", true},
		{"@anyvm @dispvm:dvm", "work", "@dispvm:dvm", true},
		{"@anyvm @dispvm:@tag:dvmtag", "work", "@dispvm:dvm", true},
		{"@anyvm @default", "work", "@default", true},
		{"@anyvm @anyvm", "work", "@default", false},
	} {
		p, err := Parse("t.policy", []byte("qubes.ClipboardPaste * "+c.rule+" ask\n"))
		if err != nil {
			t.Fatalf("%s: %v", c.rule, err)
		}
		ok, _, err := p.AllowClipboardPaste(c.src, c.dst, qubes)
		if err != nil || ok != c.match {
			t.Errorf("rule %q, %s → %s: match %v, want %v", c.rule, c.src, c.dst, ok, c.match)
		}
	}
	// Without a lookup, @tag/@type match nothing but names still do.
	p, _ := Parse("t.policy", []byte("* * @tag:secret @anyvm allow\n* * work @anyvm allow\n"))
	if ok, _, _ := p.AllowClipboardPaste("vault", "work", nil); ok {
		t.Error("@tag matched without a lookup")
	}
	if ok, _, _ := p.AllowClipboardPaste("work", "vault", nil); !ok {
		t.Error("name did not match without a lookup")
	}
}

func TestServiceAndArgument(t *testing.T) {
	p, err := Parse("a.policy", []byte(
		"qubes.ClipboardPaste +only work personal deny\n"+
			"qubes.ClipboardPaste + work vault deny\n"+
			"qubes.Other * @anyvm @anyvm deny\n"+
			"* * @anyvm @anyvm allow\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		req  Request
		want Action
	}{
		{Request{Service: "qubes.ClipboardPaste", Source: "work", Target: "personal"}, Allow},
		{Request{Service: "qubes.ClipboardPaste", Argument: "+only", Source: "work", Target: "personal"}, Deny},
		{Request{Service: "qubes.ClipboardPaste", Source: "work", Target: "vault"}, Deny},
		{Request{Service: "qubes.ClipboardPaste", Argument: "+", Source: "work", Target: "vault"}, Deny},
		{Request{Service: "qubes.Other", Source: "work", Target: "vault"}, Deny},
		{Request{Service: "qubes.Another", Source: "work", Target: "vault"}, Allow},
	} {
		if d, err := p.Evaluate(c.req, qubes); err != nil || d.Action != c.want {
			t.Errorf("%+v: %v, want %v", c.req, d.Action, c.want)
		}
	}
}

func TestParams(t *testing.T) {
	p, err := Parse("p.policy", []byte(
		"qubes.ClipboardPaste * work @default ask default_target=personal user=root notify=no autostart=yes\n"+
			"qubes.ClipboardPaste * work @default allow target=@dispvm:dvm\n"+
			"qubes.ClipboardPaste * work @anyvm allow target=dom0\n"+
			"qubes.ClipboardPaste * work @anyvm deny notify=yes\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"qubes.ClipboardPaste * work @default ask default_target=personal user=root notify=no autostart=yes",
		"qubes.ClipboardPaste * work @default allow target=@dispvm:dvm",
		"qubes.ClipboardPaste * work @anyvm allow target=dom0",
		"qubes.ClipboardPaste * work @anyvm deny notify=yes",
	}
	for i, r := range p.Rules {
		if r.String() != want[i] {
			t.Errorf("rule %d: %q, want %q", i, r.String(), want[i])
		}
	}
}

func TestSyntaxErrorsNameFileAndLine(t *testing.T) {
	for _, c := range []struct{ line, msg string }{
		{"qubes.ClipboardPaste * work personal", "wrong number of fields"},
		{"qubes.ClipboardPaste * work personal permit", `invalid action "permit"`},
		{"qubes.Clipboard+Paste * work personal allow", "service"},
		{"qubes.ClipboardPaste arg work personal allow", "argument"},
		{"* +arg work personal allow", "only * argument allowed for * service"},
		{"qubes.ClipboardPaste * @default personal allow", `invalid source token "@default"`},
		{"qubes.ClipboardPaste * @anything personal allow", "invalid source token"},
		{"qubes.ClipboardPaste * work @tag: allow", "bad value after @tag:"},
		{"qubes.ClipboardPaste * work @tag:@x allow", "bad value after @tag:"},
		{"qubes.ClipboardPaste * 1work personal allow", "not a qube name"},
		{"qubes.ClipboardPaste * work personal allow user", "key=value"},
		{"qubes.ClipboardPaste * work personal deny target=vault", `invalid parameter "target" for action deny`},
		{"qubes.ClipboardPaste * work personal allow default_target=vault", "invalid parameter"},
		{"qubes.ClipboardPaste * work personal allow user=a user=b", "given twice"},
		{"qubes.ClipboardPaste * work personal allow notify=maybe", "yes or no"},
		{"qubes.ClipboardPaste * work personal allow target=@anyvm", "must be a qube"},
		{"qubes.ClipboardPaste * work @default allow", "must specify target="},
		{"!include", "!include takes 1 parameter"},
		{"!include x.policy", "!include outside a policy directory"},
		{"!frobnicate", "unknown directive"},
	} {
		_, err := Parse("/etc/qubes/policy.d/30-x.policy", []byte("# comment\n\n"+c.line+"\n"))
		var se *SyntaxError
		if !errors.As(err, &se) || se.File != "/etc/qubes/policy.d/30-x.policy" || se.Line != 3 || !strings.Contains(err.Error(), c.msg) ||
			!strings.HasPrefix(err.Error(), "/etc/qubes/policy.d/30-x.policy:3: ") {
			t.Errorf("%q: %v; want line 3 and %q", c.line, err, c.msg)
		}
	}
}

func TestIncludes(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"30-main.policy": "!include include/clip\n" +
			"!include-dir extra\n" +
			"!include-service qubes.ClipboardPaste * include/old-format\n" +
			"!compat-4.0\n",
		"include/clip":          "qubes.ClipboardPaste * work personal deny\n",
		"extra/10-a.policy":     "qubes.ClipboardPaste * work vault deny\n",
		"extra/ignored":         "garbage\n",
		"include/old-format":    "# old\npersonal vault deny notify=yes\npersonal work allow user=root,notify=no\n",
		"include/bad":           "work\n",
		"include/loop":          "!include include/loop\n",
		"include/missing-param": "!include-service qubes.ClipboardPaste include/old-format\n",
	})
	p, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		src, dst string
		want     Action
	}{{"work", "personal", Deny}, {"work", "vault", Deny}, {"personal", "vault", Deny}, {"personal", "work", Allow}, {"vault", "work", Ask}} {
		if got := paste(t, p, c.src, c.dst); got != c.want {
			t.Errorf("%s → %s: %v, want %v", c.src, c.dst, got, c.want)
		}
	}
	if r := p.Rules[3]; r.String() != "qubes.ClipboardPaste * personal work allow user=root notify=no" || r.File != filepath.Join(dir, "include/old-format") || r.Line != 3 {
		t.Errorf("old-format rule %q at %s", r.String(), r.Where())
	}
	for name, wantErr := range map[string]string{
		"!include include/bad\n":           filepath.Join(dir, "include/bad") + ":1: wrong number of fields",
		"!include include/loop\n":          "nested more than 16 deep",
		"!include include/nope\n":          "00-x.policy:1: ",
		"!include include/missing-param\n": "include/missing-param:1: !include-service takes 3 parameter(s)",
	} {
		d := writeFiles(t, nil)
		if err := os.CopyFS(d, os.DirFS(dir)); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "30-main.policy"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "00-x.policy"), []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(d)
		if err == nil || !strings.Contains(err.Error(), strings.ReplaceAll(wantErr, dir, d)) {
			t.Errorf("%q: %v, want %q", name, err, wantErr)
		}
	}
}

func TestLoadRejectsBadFileName(t *testing.T) {
	dir := writeFiles(t, map[string]string{"30-User.policy": "qubes.ClipboardPaste * @anyvm @anyvm allow\n"})
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "30-User.policy: invalid name") {
		t.Fatalf("%v", err)
	}
}

// The recorded real-world policy from the qubesd fixtures parses, and
// evaluates as qubesd did: work may list itself, the admin qube and
// fedora-42 (redirected to dom0), and nothing else.
func TestResearchPolicyFixture(t *testing.T) {
	fixtures := adminapitest.Dir(t)
	src, err := os.ReadFile(filepath.Join(fixtures, "30-research.policy"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse("30-research.policy", src)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"admin.vm.List * work @adminvm allow target=dom0",
		"admin.vm.List * work work allow target=dom0",
		"admin.vm.List * work fedora-42 allow target=dom0",
		"admin.Events * work work allow target=dom0",
		"admin.Events * work @adminvm allow target=dom0",
	}
	if len(p.Rules) != len(want) {
		t.Fatalf("%d rules, want %d", len(p.Rules), len(want))
	}
	for i, r := range p.Rules {
		if r.String() != want[i] || r.Line != i+1 {
			t.Errorf("rule %d: %q at line %d, want %q", i, r.String(), r.Line, want[i])
		}
	}
	for _, c := range []struct {
		svc, src, dst string
		want          Action
	}{
		{"admin.vm.List", "work", "fedora-42", Allow},
		{"admin.vm.List", "work", "dom0", Allow},
		{"admin.vm.List", "work", "personal", Deny},
		{"admin.vm.List", "personal", "personal", Deny},
		{"admin.Events", "work", "fedora-42", Deny},
		{"admin.Events", "work", "work", Allow},
		{"qubes.ClipboardPaste", "work", "work", Deny},
	} {
		if d, err := p.Evaluate(Request{Service: c.svc, Source: c.src, Target: c.dst}, qubes); err != nil || d.Action != c.want {
			t.Errorf("%s %s → %s: %v, want %v", c.svc, c.src, c.dst, d.Action, c.want)
		}
	}
	// In a policy directory it comes before the built-in GUI rules.
	dir := writeFiles(t, map[string]string{"30-research.policy": string(src)})
	lp, err := Load(dir)
	if err != nil || len(lp.Rules) != 8 || paste(t, lp, "work", "personal") != Ask {
		t.Fatalf("Load: %v rules, %v", lp, err)
	}
}

func TestClipboardPasteRereadsDir(t *testing.T) {
	dir := writeFiles(t, map[string]string{"30-user.policy": "qubes.ClipboardPaste * @tag:secret @anyvm deny\n"})
	c := ClipboardPaste{Dir: dir, Qubes: qubes}
	if ok, err := c.AllowPaste("vault", "work"); ok || err != nil {
		t.Errorf("vault → work: %v, %v", ok, err)
	}
	if ok, err := c.AllowPaste("work", "vault"); !ok || err != nil {
		t.Errorf("work → vault: %v, %v", ok, err)
	}
	// An edit applies to the next paste; a broken file denies, naming itself.
	if err := os.WriteFile(filepath.Join(dir, "30-user.policy"), []byte("qubes.ClipboardPaste * work @anyvm deny\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if ok, _ := c.AllowPaste("work", "vault"); ok {
		t.Error("edit not applied")
	}
	if err := os.WriteFile(filepath.Join(dir, "30-user.policy"), []byte("qubes.ClipboardPaste * work\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if ok, err := c.AllowPaste("personal", "vault"); ok || err == nil || !strings.Contains(err.Error(), "30-user.policy:1:") {
		t.Errorf("broken policy: %v, %v", ok, err)
	}
}

// A failing lookup denies rather than skipping the rule: skipping
// "@tag:secret deny" would let the default "ask" allow vault's clipboard.
func TestLookupErrorDenies(t *testing.T) {
	p, _ := Parse("c.policy", []byte("qubes.ClipboardPaste * @tag:secret @anyvm deny\nqubes.ClipboardPaste * @anyvm @anyvm ask\n"))
	down := func(string) (Qube, error) { return Qube{}, errors.New("qubesd not reachable") }
	ok, d, err := p.AllowClipboardPaste("vault", "work", down)
	if ok || err == nil || d.Rule != p.Rules[0] || !strings.Contains(err.Error(), "c.policy:1") || !strings.Contains(err.Error(), "qubesd not reachable") {
		t.Fatalf("%v %+v %v", ok, d, err)
	}
}
