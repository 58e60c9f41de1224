package hostd

// deviceList answers the read-only device calls: sandbox qubes have no
// devices to offer or assign.
func deviceList(*call) ([]byte, error) { return nil, nil }
