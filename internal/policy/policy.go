// Package policy reads qrexec policy in the Qubes v5 format and evaluates
// it, enough for the GUI daemon's qubes.ClipboardPaste check: rules
// "service argument source target action [params]", files of a policy
// directory read in lexical order, the first matching rule deciding, deny
// when none matches.
package policy

import (
	"fmt"
	"strings"
)

// Action is what a rule decides.
type Action int

// Actions of the policy format.
const (
	Deny Action = iota
	Allow
	Ask
)

func (a Action) String() string { return [...]string{"deny", "allow", "ask"}[a] }

// Kind is the sort of a qube specification.
type Kind int

// Kinds of tokens.
const (
	Name           Kind = iota // a qube name
	AnyVM                      // @anyvm: every qube except the admin qube
	AdminVM                    // @adminvm (also written dom0)
	Tag                        // @tag:NAME
	Type                       // @type:CLASS (AppVM, TemplateVM, DispVM, ...)
	DispVM                     // @dispvm
	DispVMTemplate             // @dispvm:NAME
	DispVMTag                  // @dispvm:@tag:NAME
	DefaultVM                  // @default (targets only)
)

// Token is one qube specification of a rule.
type Token struct {
	Kind  Kind
	Value string // the name, tag, class or template; empty for the others
}

func (t Token) String() string {
	switch t.Kind {
	case AnyVM:
		return "@anyvm"
	case AdminVM:
		return "@adminvm"
	case Tag:
		return "@tag:" + t.Value
	case Type:
		return "@type:" + t.Value
	case DispVM:
		return "@dispvm"
	case DispVMTemplate:
		return "@dispvm:" + t.Value
	case DispVMTag:
		return "@dispvm:@tag:" + t.Value
	case DefaultVM:
		return "@default"
	}
	return t.Value
}

// Rule is one policy line.
type Rule struct {
	Service  string // "" for *
	Argument string // "" for *, else starting with '+'
	Source   Token
	Target   Token
	Action   Action
	// Params are the action's key=value parameters (target=,
	// default_target=, user=, notify=, autostart=).
	Params map[string]string
	File   string
	Line   int
}

// Where names the rule's file and line, for messages.
func (r *Rule) Where() string { return fmt.Sprintf("%s:%d", r.File, r.Line) }

func (r *Rule) String() string {
	svc, arg := r.Service, r.Argument
	if svc == "" {
		svc = "*"
	}
	if arg == "" {
		arg = "*"
	}
	s := strings.Join([]string{svc, arg, r.Source.String(), r.Target.String(), r.Action.String()}, " ")
	for _, k := range paramOrder {
		if v, ok := r.Params[k]; ok {
			s += " " + k + "=" + v
		}
	}
	return s
}

// SyntaxError is a policy line that could not be read.
type SyntaxError struct {
	File string
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }
