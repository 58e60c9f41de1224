package guid

import "github.com/qube-desktop/qube-desktop/internal/guiproto"

// SetHandled lets the external benchmarks observe handled messages.
func SetHandled(o *Options, f func(guiproto.Type)) { o.handled = f }
