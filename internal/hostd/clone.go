package hostd

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/qube-desktop/qube-desktop/internal/qube"
)

// cloneTokens remembers admin.vm.volume.CloneFrom tokens until CloneTo
// uses them: token -> source qube. Only the private volume (the home) is
// copied; the root is the template's or the host's and is shared.
type cloneTokens struct {
	mu sync.Mutex
	m  map[string]string
}

// maxCloneTokens bounds tokens nobody redeemed.
const maxCloneTokens = 64

func (t *cloneTokens) add(src string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	tok := hex.EncodeToString(b[:])
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil || len(t.m) >= maxCloneTokens {
		t.m = map[string]string{}
	}
	t.m[tok] = src
	return tok
}

func (t *cloneTokens) take(tok string) (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	src, ok := t.m[tok]
	delete(t.m, tok)
	return src, ok
}

func (c *call) privateVolume() error {
	if c.req.Arg != "private" || c.dest.Class == string(qube.AdminVM) || c.dest.Class == string(qube.DispVM) {
		return excf("PermissionDenied", "Argument not in '%s volumes'", c.dest.Name)
	}
	return nil
}

func volumeCloneFrom(c *call) ([]byte, error) {
	if err := c.privateVolume(); err != nil {
		return nil, err
	}
	return []byte(c.s.clones.add(c.dest.Name)), nil
}

func volumeCloneTo(c *call) ([]byte, error) {
	if err := c.privateVolume(); err != nil {
		return nil, err
	}
	src, ok := c.s.clones.take(string(c.req.Payload))
	if !ok {
		return nil, excf("QubesVolumeCopyTokenNotFoundError", "Invalid token")
	}
	// Both halted: a running qube could swap its files for symlinks to
	// host files while the daemon copies them.
	for _, n := range []string{src, c.dest.Name} {
		if c.s.state(n) != qube.Halted {
			return nil, excf("QubesVMNotHaltedError", "Domain is not powered off: %s", pyRepr(n))
		}
	}
	if c.v.c.Qubes[src] == nil {
		return nil, notFound(src)
	}
	dst := c.s.homeDir(c.dest.Name)
	tmp := dst + ".clone"
	os.RemoveAll(tmp)
	if err := copyTree(c.s.homeDir(src), tmp); err != nil {
		os.RemoveAll(tmp)
		return nil, excf("StoragePoolException", "Copying the home of %s failed: %v", src, err)
	}
	defer c.s.usage.forget(c.dest.Name)
	if err := os.RemoveAll(dst); err != nil {
		return nil, err
	}
	return nil, os.Rename(tmp, dst)
}

// copyTree copies directories, regular files and symlinks (as links, never
// followed); other files (sockets, fifos, devices) are skipped.
func copyTree(from, to string) error {
	return filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		target := filepath.Join(to, rel)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.Mkdir(target, fi.Mode().Perm()|0o700)
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case d.Type().IsRegular():
			return copyFile(p, target, fi.Mode().Perm())
		}
		return nil
	})
}

func copyFile(from, to string, mode fs.FileMode) error {
	in, err := os.OpenFile(from, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", from, err)
	}
	return errors.Join(out.Sync(), out.Close())
}
