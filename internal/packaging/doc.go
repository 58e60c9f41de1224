// Package packaging holds the checks that keep the NixOS flake, FyneApp.toml
// and the desktop entries in step with the code: a stale vendorHash or a
// binary missing from the flake is a broken package for a NixOS user.
package packaging
