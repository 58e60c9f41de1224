package policy

import (
	"slices"
	"strings"
)

// Qube is what the policy needs to know about a qube.
type Qube struct {
	Type     string   // AppVM, TemplateVM, DispVM, StandaloneVM, AdminVM, ...
	Tags     []string // its tags
	Template string   // for a DispVM: the disposable template it came from
}

// Lookup gives the facts about a named qube ("dom0" for the admin qube);
// ok is false for a qube it does not know, which then matches no
// @tag:, @type: or @dispvm token.
type Lookup func(name string) (q Qube, ok bool)

// Request is one call to evaluate.
type Request struct {
	Service  string
	Argument string // "" means no argument, as "+"
	Source   string // qube names; dom0 or @adminvm is the admin qube
	Target   string
}

// Decision is the result of an evaluation. Rule is the deciding rule, nil
// when none matched (then the action is Deny).
type Decision struct {
	Action Action
	Rule   *Rule
}

// ClipboardPasteService is the service the paste hotkey asks about.
const ClipboardPasteService = "qubes.ClipboardPaste"

// Evaluate finds the first rule matching req.
func (p *Policy) Evaluate(req Request, qubes Lookup) Decision {
	arg := req.Argument
	if arg == "" {
		arg = "+"
	}
	src, dst := admin(req.Source), admin(req.Target)
	for _, r := range p.Rules {
		if r.Service != "" && r.Service != req.Service ||
			r.Argument != "" && r.Argument != arg ||
			!r.Source.match(src, false, qubes) ||
			!r.Target.match(dst, true, qubes) {
			continue
		}
		return Decision{Action: r.Action, Rule: r}
	}
	return Decision{Action: Deny}
}

// AllowClipboardPaste evaluates qubes.ClipboardPaste from source to target
// as the GUI daemon does for the hotkey: ask counts as allow.
func (p *Policy) AllowClipboardPaste(source, target string, qubes Lookup) (bool, Decision) {
	d := p.Evaluate(Request{Service: ClipboardPasteService, Source: source, Target: target}, qubes)
	return d.Action != Deny, d
}

// ClipboardPaste adapts a policy to the clipboard's paste check.
type ClipboardPaste struct {
	Policy *Policy
	Qubes  Lookup
}

// AllowPaste reports whether the hotkey may paste source's clipboard into
// target.
func (c ClipboardPaste) AllowPaste(source, target string) (bool, error) {
	ok, _ := c.Policy.AllowClipboardPaste(source, target, c.Qubes)
	return ok, nil
}

// admin folds the admin qube's two spellings into @adminvm.
func admin(name string) string {
	if name == "dom0" {
		return "@adminvm"
	}
	return name
}

func (t Token) match(name string, target bool, qubes Lookup) bool {
	switch t.Kind {
	case Name:
		return name == t.Value
	case AnyVM:
		return name != "@adminvm" && !isToken(name)
	case AdminVM:
		return name == "@adminvm"
	case DefaultVM:
		return name == "@default"
	}
	if target {
		// A target named with @dispvm asks for a new disposable; only the
		// same words match it.
		switch t.Kind {
		case DispVM:
			return name == "@dispvm"
		case DispVMTemplate:
			return name == "@dispvm:"+t.Value
		case DispVMTag:
			tmpl, ok := strings.CutPrefix(name, "@dispvm:")
			return ok && hasTag(qubes, tmpl, t.Value)
		}
	}
	q, ok := lookup(qubes, name)
	if !ok {
		return false
	}
	switch t.Kind {
	case Tag:
		return slices.Contains(q.Tags, t.Value)
	case Type:
		return q.Type == t.Value
	case DispVM:
		return q.Type == "DispVM"
	case DispVMTemplate:
		return q.Type == "DispVM" && q.Template == t.Value
	case DispVMTag:
		return q.Type == "DispVM" && hasTag(qubes, q.Template, t.Value)
	}
	return false
}

// isToken: @anyvm stands for qubes, not for @dispvm or @default requests.
func isToken(name string) bool { return len(name) > 0 && name[0] == '@' }

func lookup(qubes Lookup, name string) (Qube, bool) {
	if qubes == nil {
		return Qube{}, false
	}
	if name == "@adminvm" {
		name = "dom0"
	}
	if isToken(name) {
		return Qube{}, false
	}
	return qubes(name)
}

func hasTag(qubes Lookup, name, tag string) bool {
	q, ok := lookup(qubes, name)
	return ok && slices.Contains(q.Tags, tag)
}
