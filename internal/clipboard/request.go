package clipboard

// Request is a guid's one outstanding copy request (the daemon's
// clipboard_requested flag and the X time it saved). Clipboard data from a
// qube is stored only if a request is outstanding; every arrival ends the
// request, whatever becomes of the data (the reference daemon forgets to
// reset the flag on its early returns). Not safe for concurrent use: it
// belongs to the guid's session loop.
type Request struct {
	time    uint32
	pending bool
}

// Start records the copy hotkey press at X time t; the guid then sends
// MSG_CLIPBOARD_REQ. A second press replaces the first.
func (r *Request) Start(t uint32) { r.time, r.pending = t, true }

// Take ends the request when MSG_CLIPBOARD_DATA arrives. ok is false for
// unrequested data, which the guid reads and drops.
func (r *Request) Take() (t uint32, ok bool) {
	t, ok = r.time, r.pending
	*r = Request{}
	return t, ok
}
