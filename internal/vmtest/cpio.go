package vmtest

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
)

// Initramfs writes a gzip-compressed cpio archive in the "newc" format,
// which is what the kernel unpacks into its rootfs. Parent directories are
// added on demand, so callers name only the files.
type Initramfs struct {
	gz   *gzip.Writer
	dirs map[string]bool
	ino  uint32
	err  error
}

// NewInitramfs starts an archive on w; Close finishes it.
func NewInitramfs(w io.Writer) *Initramfs {
	gz, _ := gzip.NewWriterLevel(w, gzip.BestSpeed) // a valid level: no error
	return &Initramfs{gz: gz, dirs: map[string]bool{"": true}}
}

// Dir adds a directory (and its parents).
func (a *Initramfs) Dir(name string) {
	name = clean(name)
	if a.dirs[name] {
		return
	}
	a.Dir(path.Dir(name))
	a.dirs[name] = true
	a.entry(name, 0o040755, nil)
}

// File adds a regular file with the given content and permission bits.
func (a *Initramfs) File(name string, mode os.FileMode, data []byte) {
	name = clean(name)
	a.Dir(path.Dir(name))
	a.entry(name, 0o100000|uint32(mode.Perm()), data)
}

// CopyFile adds the host file src as name, following symlinks and keeping
// its permission bits.
func (a *Initramfs) CopyFile(name, src string) {
	st, err := os.Stat(src)
	if err == nil && !st.Mode().IsRegular() {
		err = fmt.Errorf("%s is not a regular file", src)
	}
	var data []byte
	if err == nil {
		data, err = os.ReadFile(src)
	}
	if err != nil {
		a.fail(fmt.Errorf("initramfs: add %s: %w", name, err))
		return
	}
	a.File(name, st.Mode(), data)
}

// CopyTree adds every regular file and directory under the host directory
// src at the same path in the archive (symlinks are followed).
func (a *Initramfs) CopyTree(src string) {
	var walk func(dir string)
	walk = func(dir string) {
		ents, err := os.ReadDir(dir)
		if err != nil {
			a.fail(fmt.Errorf("initramfs: read %s: %w", dir, err))
			return
		}
		a.Dir(dir)
		sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
		for _, e := range ents {
			p := path.Join(dir, e.Name())
			st, err := os.Stat(p)
			switch {
			case err != nil:
				a.fail(fmt.Errorf("initramfs: %w", err))
			case st.IsDir():
				walk(p)
			default:
				a.CopyFile(p, p)
			}
		}
	}
	walk(src)
}

// Symlink adds name pointing at target.
func (a *Initramfs) Symlink(name, target string) {
	name = clean(name)
	a.Dir(path.Dir(name))
	a.entry(name, 0o120777, []byte(target))
}

// Close writes the trailer and flushes the compressor; it reports the
// first error of any earlier call.
func (a *Initramfs) Close() error {
	a.entry("TRAILER!!!", 0, nil)
	if err := a.gz.Close(); a.err == nil && err != nil {
		a.err = fmt.Errorf("initramfs: %w", err)
	}
	return a.err
}

func (a *Initramfs) fail(err error) {
	if a.err == nil {
		a.err = err
	}
}

// clean makes name relative to the archive root, which is "".
func clean(name string) string { return strings.TrimPrefix(path.Clean("/"+name), "/") }

// entry writes one newc header, the NUL-terminated name and the data, each
// padded to 4 bytes.
func (a *Initramfs) entry(name string, mode uint32, data []byte) {
	if a.err != nil {
		return
	}
	a.ino++
	nlink := 1
	if mode&0o170000 == 0o040000 {
		nlink = 2
	}
	hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		a.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, 0, 0, len(name)+1, 0)
	buf := make([]byte, 0, len(hdr)+len(name)+len(data)+8)
	buf = append(buf, hdr...)
	buf = append(buf, name...)
	buf = append(buf, 0)
	buf = pad4(buf)
	buf = append(buf, data...)
	buf = pad4(buf)
	if _, err := a.gz.Write(buf); err != nil {
		a.fail(fmt.Errorf("initramfs: %w", err))
	}
}

func pad4(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}
