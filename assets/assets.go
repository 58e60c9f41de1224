// Package assets holds the desktop files' icons, embedded so the binaries
// show them without an installed icon theme.
package assets

import _ "embed"

// ManagerIcon is the Qube Manager's 256×256 PNG icon, the one the desktop
// entry and FyneApp.toml name.
//
//go:embed qube-manager.png
var ManagerIcon []byte
