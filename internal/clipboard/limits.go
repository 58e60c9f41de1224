package clipboard

import (
	"fmt"

	"github.com/qube-desktop/qube-desktop/internal/guiproto"
)

// Every limit of the global clipboard lives here. The sizes of clipboard
// data themselves are the protocol's, kept in guiproto.
const (
	// MaxQubeName is the longest qube name Qubes allows (and the longest
	// vmname the daemon's metadata parser accepts).
	MaxQubeName = 31
	// maxMetadataLine is the daemon's line buffer (256 bytes with the NUL).
	maxMetadataLine = 255
	// maxMetadataSize bounds the whole metadata file we are willing to read:
	// thirteen keys fit in far less.
	maxMetadataSize = 4096
	// maxSourceSize is how much of .bin.source the daemon reads.
	maxSourceSize = 254
	// maxDataSize is the largest .bin a paste sends: the protocol's bound.
	maxDataSize = guiproto.MaxClipboardBuffer
	// staleWindow: a stored timestamp t is "newer or equal" to an event
	// time e when (t - e) mod 2^32 is below 2^31 (X time wraps every ~50 days).
	staleWindow = 1 << 31
	// filePerm is what umask 007 leaves of 0666: the qubes group may write.
	filePerm = 0o660
	// dirPerm is used when the clipboard directory has to be created.
	dirPerm = 0o770
)

// ProtocolVersion is what the metadata records as protocol_version_xside.
const ProtocolVersion = uint32(guiproto.ProtocolVersion)

// CheckQubeName accepts a Qubes qube name: a letter, then letters, digits,
// '_', '.' or '-', at most MaxQubeName bytes. Names end up in file bytes and
// notifications, so nothing else may pass.
func CheckQubeName(name string) error {
	if name == "" || len(name) > MaxQubeName {
		return fmt.Errorf("qube name %q must have 1 to %d characters", name, MaxQubeName)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if i == 0 && !letter {
			return fmt.Errorf("qube name %q must start with a letter", name)
		}
		if !letter && !(c >= '0' && c <= '9') && c != '_' && c != '.' && c != '-' {
			return fmt.Errorf("qube name %q may hold only letters, digits, '_', '.' and '-'", name)
		}
	}
	return nil
}
