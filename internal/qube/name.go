package qube

import (
	"fmt"
	"strings"
)

// MaxNameLen is the longest qube name qubesd accepts.
const MaxNameLen = 31

// NameError says why a qube name is refused. Reason is qubesd's own wording
// (qubes.vm.validate_name), Hint what to do about it.
type NameError struct {
	Name   string
	Reason string
	Hint   string
}

func (e *NameError) Error() string {
	return fmt.Sprintf("invalid qube name %q: %s; %s", e.Name, e.Reason, e.Hint)
}

// ValidateName applies qubesd's rules for qube names, in qubesd's order, so a
// name refused here is refused by qubesd with the same reason.
func ValidateName(name string) error {
	fail := func(reason, hint string) error { return &NameError{Name: name, Reason: reason, Hint: hint} }
	switch {
	case name == "":
		return fail("VM name cannot be empty", "give the qube a name that starts with a letter")
	case len(name) > MaxNameLen:
		return fail("VM name must be shorter than 32 characters",
			fmt.Sprintf("shorten it by %d characters", len(name)-MaxNameLen))
	case strings.IndexByte("0123456789-_.", name[0]) >= 0:
		return fail("VM name cannot start with hyphen, underscore, dot or numbers", "start it with a letter (a-z, A-Z)")
	}
	for _, r := range name {
		if r > 0x7f || !nameByte(byte(r)) {
			return fail("VM name contains illegal characters",
				fmt.Sprintf("%q is not allowed; use only letters, digits, '-', '_' and '.'", r))
		}
	}
	switch {
	case name == "none" || name == "default":
		return fail("VM name cannot be 'none' nor 'default'", "these words are reserved; pick another name")
	case name == "Domain-0":
		return fail("VM name cannot be 'Domain-0'", "this is the hypervisor's name for dom0; pick another name")
	case strings.HasSuffix(name, "-dm"):
		return fail("VM name cannot end with -dm", "the suffix is reserved for device-model stubdomains; drop or change it")
	}
	return nil
}

func nameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
}
