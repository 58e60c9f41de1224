package policy

import (
	"fmt"
	"slices"
	"strings"
)

// paramOrder lists every action parameter, in the order String prints them.
var paramOrder = []string{"target", "default_target", "user", "notify", "autostart"}

// actionParams says which parameters each action takes.
var actionParams = map[Action][]string{
	Allow: {"target", "user", "notify", "autostart"},
	Deny:  {"notify"},
	Ask:   {"target", "default_target", "user", "notify", "autostart"},
}

func newRule(service, argument, source, target, action string, params []string) (*Rule, error) {
	svc, arg, err := checkServiceArgument(service, argument)
	if err != nil {
		return nil, err
	}
	r := &Rule{Service: svc, Argument: arg}
	if r.Source, err = parseToken(source, false); err != nil {
		return nil, err
	}
	if r.Target, err = parseToken(target, true); err != nil {
		return nil, err
	}
	switch action {
	case "allow":
		r.Action = Allow
	case "deny":
		r.Action = Deny
	case "ask":
		r.Action = Ask
	default:
		return nil, fmt.Errorf("invalid action %q (want allow, deny or ask)", action)
	}
	for _, p := range params {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			return nil, fmt.Errorf("invalid action parameter %q (want key=value)", p)
		}
		if _, dup := r.Params[k]; dup {
			return nil, fmt.Errorf("parameter %s given twice", k)
		}
		if !slices.Contains(actionParams[r.Action], k) {
			return nil, fmt.Errorf("invalid parameter %q for action %s", k, r.Action)
		}
		if err := checkParam(k, v); err != nil {
			return nil, err
		}
		if r.Params == nil {
			r.Params = map[string]string{}
		}
		r.Params[k] = v
	}
	if r.Target.Kind == DefaultVM && r.Action == Allow && r.Params["target"] == "" {
		return nil, fmt.Errorf("allow action for @default target must specify target=")
	}
	return r, nil
}

func checkParam(k, v string) error {
	switch k {
	case "target", "default_target":
		t, err := parseToken(v, true)
		if err != nil {
			return fmt.Errorf("%s=: %w", k, err)
		}
		if t.Kind != Name && t.Kind != AdminVM && t.Kind != DispVM && t.Kind != DispVMTemplate {
			return fmt.Errorf("%s=%s: must be a qube, @adminvm, @dispvm or @dispvm:NAME", k, v)
		}
	case "user":
		if v == "" || strings.ContainsAny(v, ":\x00") {
			return fmt.Errorf("invalid user=%q", v)
		}
	default: // notify, autostart
		if v != "yes" && v != "no" {
			return fmt.Errorf("%s=%q must be yes or no", k, v)
		}
	}
	return nil
}

// checkServiceArgument validates the first two fields; * becomes "".
func checkServiceArgument(service, argument string) (string, string, error) {
	if service == "*" {
		service = ""
	} else if !rpcName(service, false) {
		return "", "", fmt.Errorf("service %q must be * or a name of letters, digits, '-', '.' and '_'", service)
	}
	if argument == "*" {
		return service, "", nil
	}
	if !strings.HasPrefix(argument, "+") || !rpcName(argument, true) {
		return "", "", fmt.Errorf("argument %q must be * or '+' followed by letters, digits, '+', '-', '.' and '_'", argument)
	}
	if service == "" {
		return "", "", fmt.Errorf("only * argument allowed for * service")
	}
	return service, argument, nil
}

func rpcName(s string, plus bool) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || plus && c == '+') {
			return false
		}
	}
	return s != ""
}

// parseToken reads a source (target false) or target specification.
func parseToken(s string, target bool) (Token, error) {
	what := "source"
	if target {
		what = "target"
	}
	switch s {
	case "dom0", "@adminvm":
		return Token{Kind: AdminVM}, nil
	case "@anyvm":
		return Token{Kind: AnyVM}, nil
	case "@dispvm":
		return Token{Kind: DispVM}, nil
	case "@default":
		if target {
			return Token{Kind: DefaultVM}, nil
		}
	}
	if !strings.HasPrefix(s, "@") {
		if !qubeName(s) {
			return Token{}, fmt.Errorf("invalid %s %q: not a qube name", what, s)
		}
		return Token{Kind: Name, Value: s}, nil
	}
	for _, p := range []struct {
		prefix string
		kind   Kind
	}{{"@dispvm:@tag:", DispVMTag}, {"@dispvm:", DispVMTemplate}, {"@tag:", Tag}, {"@type:", Type}} {
		v, ok := strings.CutPrefix(s, p.prefix)
		if !ok {
			continue
		}
		valid := rpcName(v, false)
		if p.kind == DispVMTemplate {
			valid = qubeName(v)
		}
		if !valid {
			return Token{}, fmt.Errorf("invalid %s %q: bad value after %s", what, s, p.prefix)
		}
		return Token{Kind: p.kind, Value: v}, nil
	}
	return Token{}, fmt.Errorf("invalid %s token %q", what, s)
}

// qubeName is Qubes' rule for qube names.
func qubeName(s string) bool {
	if s == "" || len(s) > 31 || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		return false
	}
	return rpcName(s, false)
}
