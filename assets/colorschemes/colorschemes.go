// Package colorschemes holds a KDE colour scheme for each default qube
// label, so that KWin draws a qube's title bars in its label colour
// (org_kde_kwin_server_decoration_palette).
//
// KWin 5.27 takes the palette name as an absolute path to a .colors file,
// or else looks up color-schemes/<name>.colors in its own XDG data dirs.
// The guid cannot count on the schemes being installed where KWin looks,
// so Install writes the embedded file under $XDG_RUNTIME_DIR and the guid
// passes that absolute path. KWin must run as the same user to read it.
package colorschemes

import (
	"bytes"
	"embed"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
)

//go:embed *.colors
var files embed.FS

// labels maps the default label colours to their schemes.
var labels = map[color.RGBA]string{
	{0xcc, 0x00, 0x00, 0xff}: "qubes-red",
	{0xf5, 0x79, 0x00, 0xff}: "qubes-orange",
	{0xed, 0xd4, 0x00, 0xff}: "qubes-yellow",
	{0x73, 0xd2, 0x16, 0xff}: "qubes-green",
	{0x55, 0x55, 0x55, 0xff}: "qubes-gray",
	{0x34, 0x65, 0xa4, 0xff}: "qubes-blue",
	{0x75, 0x50, 0x7b, 0xff}: "qubes-purple",
	{0x00, 0x00, 0x00, 0xff}: "qubes-black",
}

// ForColor returns the scheme of the default label with colour c; custom
// label colours have none.
func ForColor(c color.RGBA) (string, bool) {
	name, ok := labels[c]
	return name, ok
}

// Data returns the .colors file of scheme name.
func Data(name string) ([]byte, error) {
	b, err := files.ReadFile(name + ".colors")
	if err != nil {
		return nil, fmt.Errorf("no colour scheme %q", name)
	}
	return b, nil
}

// Install writes scheme name to dir/<name>.colors, atomically (many guids
// may install the same scheme at once), and returns the file's absolute
// path.
func Install(dir, name string) (string, error) {
	data, err := Data(name)
	if err != nil {
		return "", err
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, name+".colors")
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("colour scheme directory: %w", err)
	}
	f, err := os.CreateTemp(dir, "."+name+"-*")
	if err != nil {
		return "", fmt.Errorf("colour scheme: %w", err)
	}
	_, werr := f.Write(data)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(f.Name(), 0o644)
	}
	if werr == nil {
		werr = os.Rename(f.Name(), path)
	}
	if werr != nil {
		_ = os.Remove(f.Name())
		return "", fmt.Errorf("colour scheme %s: %w", path, werr)
	}
	return path, nil
}

// InstallRuntime installs the scheme of label colour c under
// $XDG_RUNTIME_DIR/qube-desktop/color-schemes and returns its path, or ""
// when c is no default label or there is no runtime dir.
func InstallRuntime(c color.RGBA) (string, error) {
	name, ok := ForColor(c)
	rt := os.Getenv("XDG_RUNTIME_DIR")
	if !ok || rt == "" {
		return "", nil
	}
	return Install(filepath.Join(rt, "qube-desktop", "color-schemes"), name)
}
