package sandbox

// Limits on what the in-qube init may send back. Everything from inside a
// qube is hostile; these are the only bounds the host applies to it.
const (
	// maxReplyLine bounds one reply line, newline included.
	maxReplyLine = 256
	// maxErrorText bounds the error text the init may report.
	maxErrorText = 200
	// maxRequest bounds a run request the init reads (host to qube).
	maxRequest = 1 << 20
)
