package guid

import (
	"time"

	"github.com/qube-desktop/qube-desktop/internal/guiproto"
)

// SetHandled lets the external benchmarks observe handled messages.
func SetHandled(o *Options, f func(guiproto.Type)) { o.handled = f }

// SetHandshakeTimeout shortens the handshake deadline for the tests.
func SetHandshakeTimeout(o *Options, d time.Duration) { o.handshakeTimeout = d }
