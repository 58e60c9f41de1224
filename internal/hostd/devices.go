package hostd

// deviceList answers the read-only device calls: sandbox qubes have no
// devices to offer or assign.
func deviceList(*call) ([]byte, error) { return nil, nil }

// firewallUnsupported refuses firewall changes: a sandbox qube either has
// the host's network or none, and no per-qube rules can be enforced.
func firewallUnsupported(c *call) ([]byte, error) {
	return nil, excf("QubesNotImplementedError", "Firewall rules are not enforced for sandbox qubes: %s has the host's network if it has a netvm, none otherwise", c.dest.Name)
}
