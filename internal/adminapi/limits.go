package adminapi

// Every size bound of the Admin API lives here.
const (
	// MaxRequest is qubesd's bound on header plus payload; a longer request
	// is dropped without an answer [observed 706].
	MaxRequest = 65536
	// DefaultMaxResponse bounds one non-stream answer. The largest real
	// answers (GetAll, backup.Info) are a few KiB.
	DefaultMaxResponse = 16 << 20
	// MaxToken bounds one NUL-terminated field of an event or exception.
	MaxToken = 1 << 20
	// MaxEventArgs bounds the key/value pairs of one event.
	MaxEventArgs = 256
	// DefaultWorkers is how many calls run at once when loading many qubes.
	DefaultWorkers = 16
)
