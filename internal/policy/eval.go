package policy

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Qube is what the policy needs to know about a qube.
type Qube struct {
	Type     string   // AppVM, TemplateVM, DispVM, StandaloneVM, AdminVM, ...
	Tags     []string // its tags
	Template string   // for a DispVM: the disposable template it came from
}

// Lookup gives the facts about a named qube ("dom0" for the admin qube).
// For a qube that does not exist it returns ErrNoQube, and the qube matches
// no @tag:, @type: or @dispvm token. Any other error stops the evaluation:
// a rule skipped for want of a tag could let a later, wider rule allow.
type Lookup func(name string) (Qube, error)

// ErrNoQube is Lookup's answer for a qube that does not exist.
var ErrNoQube = errors.New("no such qube")

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

// Evaluate finds the first rule matching req. An error means a Lookup
// failed; treat it as a denial.
func (p *Policy) Evaluate(req Request, qubes Lookup) (Decision, error) {
	arg := req.Argument
	if arg == "" {
		arg = "+"
	}
	src, dst := admin(req.Source), admin(req.Target)
	for _, r := range p.Rules {
		if r.Service != "" && r.Service != req.Service || r.Argument != "" && r.Argument != arg {
			continue
		}
		ok, err := r.Source.match(src, false, qubes)
		if err == nil && ok {
			ok, err = r.Target.match(dst, true, qubes)
		}
		if err != nil {
			return Decision{Action: Deny, Rule: r}, fmt.Errorf("evaluating %s: %w", r.Where(), err)
		}
		if ok {
			return Decision{Action: r.Action, Rule: r}, nil
		}
	}
	return Decision{Action: Deny}, nil
}

// AllowClipboardPaste evaluates qubes.ClipboardPaste from source to target
// as the GUI daemon does for the hotkey: ask counts as allow.
func (p *Policy) AllowClipboardPaste(source, target string, qubes Lookup) (bool, Decision, error) {
	d, err := p.Evaluate(Request{Service: ClipboardPasteService, Source: source, Target: target}, qubes)
	return err == nil && d.Action != Deny, d, err
}

// ClipboardPaste is the paste check of the clipboard package: it reads the
// policy directory Dir afresh for every paste, as qrexec reads its policy
// for every call, so edits apply at once. A policy that does not parse
// denies, with the error naming the file and line.
type ClipboardPaste struct {
	Dir   string
	Qubes Lookup
}

// AllowPaste reports whether the hotkey may paste source's clipboard into
// target.
func (c ClipboardPaste) AllowPaste(source, target string) (bool, error) {
	p, err := Load(c.Dir)
	if err != nil {
		return false, err
	}
	ok, _, err := p.AllowClipboardPaste(source, target, c.Qubes)
	return ok, err
}

// admin folds the admin qube's two spellings into @adminvm.
func admin(name string) string {
	if name == "dom0" {
		return "@adminvm"
	}
	return name
}

func (t Token) match(name string, target bool, qubes Lookup) (bool, error) {
	switch t.Kind {
	case Name:
		return name == t.Value, nil
	case AnyVM:
		return name != "@adminvm" && !isToken(name), nil
	case AdminVM:
		return name == "@adminvm", nil
	case DefaultVM:
		return name == "@default", nil
	}
	if target {
		// A target named with @dispvm asks for a new disposable; only the
		// same words match it.
		switch t.Kind {
		case DispVM:
			return name == "@dispvm", nil
		case DispVMTemplate:
			return name == "@dispvm:"+t.Value, nil
		case DispVMTag:
			tmpl, ok := strings.CutPrefix(name, "@dispvm:")
			if !ok {
				return false, nil
			}
			return hasTag(qubes, tmpl, t.Value)
		}
	}
	q, ok, err := lookup(qubes, name)
	if !ok || err != nil {
		return false, err
	}
	switch t.Kind {
	case Tag:
		return slices.Contains(q.Tags, t.Value), nil
	case Type:
		return q.Type == t.Value, nil
	case DispVM:
		return q.Type == "DispVM", nil
	case DispVMTemplate:
		return q.Type == "DispVM" && q.Template == t.Value, nil
	case DispVMTag:
		if q.Type != "DispVM" {
			return false, nil
		}
		return hasTag(qubes, q.Template, t.Value)
	}
	return false, nil
}

// isToken: @anyvm stands for qubes, not for @dispvm or @default requests.
func isToken(name string) bool { return len(name) > 0 && name[0] == '@' }

// lookup asks about a qube; ok is false for tokens, a missing Lookup and
// qubes that do not exist.
func lookup(qubes Lookup, name string) (q Qube, ok bool, err error) {
	if name == "@adminvm" {
		name = "dom0"
	}
	if qubes == nil || isToken(name) || name == "" {
		return Qube{}, false, nil
	}
	q, err = qubes(name)
	if errors.Is(err, ErrNoQube) {
		return Qube{}, false, nil
	}
	if err != nil {
		return Qube{}, false, fmt.Errorf("qube %s: %w", name, err)
	}
	return q, true, nil
}

func hasTag(qubes Lookup, name, tag string) (bool, error) {
	q, ok, err := lookup(qubes, name)
	return ok && slices.Contains(q.Tags, tag), err
}
